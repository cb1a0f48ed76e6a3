"""The image list's "Delete all": a button with a confirmation page, not a selection
action, with a log entry for each image it deleted."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import DELETION, LogEntry

from uploads.models import Image
from uploads.shelf import deletion, services
from uploads.tests.factories import distinct_png, upload_file

CHANGELIST = "/admin/uploads/image/"
DELETE_ALL = f"{CHANGELIST}delete-all/"


def ingest(index: int) -> Image:
    return services.image_ingest(upload_file(distinct_png(index)), user=None)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def deletions_logged() -> list[int]:
    return sorted(int(entry.object_id) for entry in LogEntry.objects.filter(action_flag=DELETION))


@pytest.mark.django_db
def test_the_list_shows_delete_all_beside_bulk_upload(admin_client):
    html = admin_client.get(CHANGELIST).content.decode()

    assert html.index('href="/admin/uploads/image/bulk-upload/"') < html.index(DELETE_ALL)
    assert "Delete all…" in html


@pytest.mark.django_db
def test_it_is_no_longer_a_selection_action(admin_client):
    ingest(1)

    response = admin_client.get(CHANGELIST)

    actions = dict(response.context["action_form"].fields["action"].choices)
    assert "delete_all" not in actions


@pytest.mark.django_db
def test_staff_who_may_not_delete_do_not_see_it(client, django_user_model):
    from django.contrib.auth.models import Permission

    viewer = django_user_model.objects.create_user("viewer", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_image"))
    client.force_login(viewer)

    html = client.get(CHANGELIST).content.decode()

    assert DELETE_ALL not in html
    assert client.get(DELETE_ALL).status_code == 403


@pytest.mark.django_db
def test_delete_all_asks_first_and_a_get_deletes_nothing(admin_client, files):
    ingest(1), ingest(2)
    stored = files()

    response = admin_client.get(DELETE_ALL)

    html = response.content.decode()
    assert response.status_code == 200
    assert "This deletes <strong>all 2 images</strong> and their files." in html
    assert 'name="csrfmiddlewaretoken"' in html and 'method="post"' in html
    assert Image.objects.count() == 2 and files() == stored


@pytest.mark.django_db(transaction=True)
def test_delete_all_confirmed_empties_the_shelf_and_logs_each_image(admin_client, files):
    images = [ingest(1), ingest(2)]

    response = admin_client.post(DELETE_ALL, follow=True)

    assert response.redirect_chain == [(CHANGELIST, 302)]
    assert messages_of(response) == ["Deleted all 2 image(s) and their files."]
    assert Image.objects.count() == 0
    assert files() == []
    assert deletions_logged() == sorted(image.pk for image in images)


@pytest.mark.django_db(transaction=True)
def test_a_failed_delete_all_leaves_no_log_entry_behind(admin_client, monkeypatch):
    """Log entries name only images that were deleted."""
    ingest(1)

    def fail(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(deletion, "images_delete", fail)
    admin_client.raise_request_exception = False

    response = admin_client.post(DELETE_ALL)

    assert response.status_code == 500
    assert Image.objects.count() == 1
    assert LogEntry.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_delete_all_needs_a_csrf_token(admin_user):
    from django.test import Client

    ingest(1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)

    assert client.post(DELETE_ALL).status_code == 403
    assert Image.objects.count() == 1
