"""PUBLIC_UPLOADS=moderated: visitors' uploads wait off the page, outside the limit, until
staff approve them onto the shelf or reject them."""

from __future__ import annotations

import contextlib
import logging
import os
from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, DELETION, LogEntry
from django.core.management import call_command

from uploads.models import Image
from uploads.shelf import deletion, moderation, services
from uploads.tests.factories import distinct_png, upload_file

pytestmark = pytest.mark.django_db
CHANGELIST = "/admin/uploads/image/"
WAITING = "will appear once staff approve it."
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def moderated(settings):
    settings.PUBLIC_UPLOADS = "moderated"


@pytest.fixture
def audit_lines(caplog):
    caplog.set_level(logging.INFO, logger="uploads.audit")
    return lambda: [r.getMessage() for r in caplog.records if r.name == "uploads.audit"]


def shelve(index: int, title: str = "") -> Image:
    return services.image_ingest(upload_file(distinct_png(index)), user=None, title=title)


def visitor_upload(client, index: int, title: str = ""):
    return client.post("/images/", {"image": upload_file(distinct_png(index)), "title": title})


def queue(index: int, title: str = "") -> Image:
    return services.image_ingest(
        upload_file(distinct_png(index)), user=None, title=title, pending=True
    )


@pytest.fixture
def full_shelf(django_capture_on_commit_callbacks) -> list[Image]:
    """The three images the shelf keeps, oldest first."""
    with django_capture_on_commit_callbacks(execute=True):
        return [shelve(index, f"staff {index}") for index in range(3)]


def page_titles(client) -> list[str]:
    return [image.title for image in client.get("/").context["images"]]


def run_action(client, name: str, images: list[Image]):
    data = {"action": name, "_selected_action": [image.pk for image in images]}
    return client.post(CHANGELIST, data, follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# --- A visitor's upload -----------------------------------------------------------


def test_a_visitor_upload_waits_off_the_page_and_evicts_nothing(
    client, full_shelf, files, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = visitor_upload(client, 9, "from a visitor")

    assert response.status_code == 303
    waiting = Image.objects.get(title="from a visitor")
    assert waiting.pending and waiting.uploaded_by is None
    assert page_titles(client) == ["staff 2", "staff 1", "staff 0"]
    assert Image.objects.filter(pending=False).count() == 3
    assert files() == sorted(n for image in Image.objects.all() for n in image.stored_names())
    assert set(waiting.stored_names()) <= set(files())


def test_the_visitor_is_told_that_staff_look_first(client):
    page = client.get("/").content.decode()

    response = visitor_upload(client, 1, "sunset")

    assert "Staff look at each image before it appears on the shelf." in page
    assert messages_of(client.get("/")) == [f"Thank you: “sunset” {WAITING}"]
    assert response.status_code == 303


def test_staff_who_may_add_still_go_straight_onto_the_shelf(staff_client):
    staff_client.post("/images/", {"image": upload_file(distinct_png(1)), "title": "staff"})

    assert Image.objects.get(title="staff").pending is False
    assert page_titles(staff_client) == ["staff"]


def test_pending_images_are_never_counted_by_the_limit(full_shelf, settings):
    queue(7), queue(8)

    deleted = deletion.images_enforce_limit()

    assert deleted == []
    assert Image.objects.count() == 5


def test_a_full_queue_answers_429_and_stores_nothing(client, settings, files):
    settings.PENDING_LIMIT = 2
    queue(1), queue(2)
    stored = files()

    response = visitor_upload(client, 3, "one too many")

    assert response.status_code == 429
    assert "Too many images are waiting for approval right now" in response.content.decode()
    assert not Image.objects.filter(title="one too many").exists()
    assert files() == stored


def test_a_queue_that_fills_while_an_upload_is_processed_still_refuses_it(
    settings, files, monkeypatch
):
    """The cap is checked again under the shelf's lock, and the upload's files are removed."""
    settings.PENDING_LIMIT = 1
    duplicate_message = services._duplicate_message

    def another_dyno_gets_in_first(sha256: str) -> str | None:
        monkeypatch.setattr(services, "_duplicate_message", duplicate_message)
        with monkeypatch.context() as other_dyno:  # its own decode lock, not ours
            other_dyno.setattr(services, "decode_turn", contextlib.nullcontext)
            queue(5, "the other visitor")
        return duplicate_message(sha256)

    monkeypatch.setattr(services, "_duplicate_message", another_dyno_gets_in_first)
    with pytest.raises(services.UploadRejected) as refusal:
        queue(6, "too late")

    other = Image.objects.get()
    assert refusal.value.code == "queue_full"
    assert other.title == "the other visitor"
    assert files() == sorted(other.stored_names())


# --- Approving and rejecting in the admin ----------------------------------------------


def test_the_admin_lists_pending_images_first_and_counts_them(admin_client, full_shelf):
    waiting = queue(9, "waiting")
    Image.objects.filter(pk=waiting.pk).update(uploaded_at=full_shelf[0].uploaded_at - DAY)

    response = admin_client.get(CHANGELIST)

    listed = [image.title for image in response.context["cl"].result_list]
    assert listed == ["waiting", "staff 2", "staff 1", "staff 0"]
    html = response.content.decode()
    assert "1 upload waits for approval." in html
    assert '<a href="?pending__exact=1">Show it</a>' in html
    assert html.count('<td class="field-status">Pending</td>') == 1


def test_the_pending_filter_shows_only_what_waits(admin_client, full_shelf):
    queue(9, "waiting")

    pending = admin_client.get(CHANGELIST, {"pending__exact": "1"}).context["cl"].result_list
    shelved = admin_client.get(CHANGELIST, {"pending__exact": "0"}).context["cl"].result_list

    assert [image.title for image in pending] == ["waiting"]
    assert sorted(image.title for image in shelved) == ["staff 0", "staff 1", "staff 2"]


@pytest.mark.django_db(transaction=True)
def test_approving_puts_the_image_on_the_page_as_the_newest_and_applies_the_limit(
    admin_client, admin_user, files
):
    oldest, *others = [shelve(index, f"staff {index}") for index in range(3)]
    waiting = queue(9, "approved")

    response = run_action(admin_client, "approve_selected", [waiting])

    assert messages_of(response) == ["Approved 1 image(s): they joined the shelf as its newest."]
    assert page_titles(admin_client) == ["approved", "staff 2", "staff 1"]
    assert not Image.objects.filter(pk=oldest.pk).exists()
    assert set(oldest.stored_names()).isdisjoint(files())
    assert files() == sorted(n for image in Image.objects.all() for n in image.stored_names())
    assert LogEntry.objects.filter(
        user=admin_user, action_flag=CHANGE, object_id=str(waiting.pk)
    ).exists()


@pytest.mark.django_db(transaction=True)
def test_approving_more_than_the_shelf_keeps_says_how_many_made_way(admin_client, files):
    waiting = [queue(index, f"waiting {index}") for index in range(4)]

    response = run_action(admin_client, "approve_selected", waiting)

    assert messages_of(response) == [
        "Approved 4 image(s): they joined the shelf as its newest. The shelf keeps 3, so 1 "
        "of them made way at once."
    ]
    assert Image.objects.count() == 3


def test_a_copy_of_an_image_waiting_for_approval_is_told_so(client):
    queue(1, "first")

    response = visitor_upload(client, 1, "again")

    assert response.status_code == 400
    assert "This image is already waiting for approval." in response.content.decode()
    assert "already on the shelf" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_approving_an_image_already_on_the_shelf_changes_nothing(admin_client):
    images = [shelve(1, "older"), shelve(2, "newer")]

    response = run_action(admin_client, "approve_selected", images[:1])

    assert messages_of(response) == [
        "Approved 0 image(s): they joined the shelf as its newest. "
        "1 selected image(s) were not pending."
    ]
    assert page_titles(admin_client) == ["newer", "older"]


@pytest.mark.django_db(transaction=True)
def test_rejecting_deletes_the_image_and_its_files(admin_client, admin_user, files):
    kept = shelve(1, "kept")
    waiting = queue(9, "rejected")

    response = run_action(admin_client, "reject_selected", [waiting, kept])

    assert messages_of(response) == [
        "Rejected 1 image(s) and deleted their files. 1 selected image(s) were not pending: kept."
    ]
    assert list(Image.objects.all()) == [kept]
    assert files() == sorted(kept.stored_names())
    assert LogEntry.objects.filter(
        user=admin_user, action_flag=DELETION, object_id=str(waiting.pk)
    ).exists()


# --- reconcile_media and the audit trail ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_reconcile_checks_pending_images_but_never_trims_them(media_root, files, settings):
    settings.ORPHAN_GRACE_MINUTES = 0
    shelved = [shelve(index) for index in range(3)]
    kept, lost = queue(8), queue(9)
    os.remove(media_root / lost.file.name)
    (media_root / "images" / "0c1e7a52-6a6c-4d3b-8f0e-2f6d1c9b0a11.png").write_bytes(b"orphan")

    call_command("reconcile_media", verbosity=0)

    assert sorted(Image.objects.values_list("pk", flat=True)) == sorted(
        [image.pk for image in shelved] + [kept.pk]
    )
    expected = {name for image in [*shelved, kept] for name in image.stored_names()}
    assert set(files()) == expected


@pytest.mark.django_db(transaction=True)
def test_every_step_is_in_the_audit_trail(admin_client, client, audit_lines, settings):
    settings.PENDING_LIMIT = 2
    visitor_upload(client, 1, "first")
    visitor_upload(client, 2, "second")
    visitor_upload(client, 3, "third")
    first, second = Image.objects.get(title="first"), Image.objects.get(title="second")

    run_action(admin_client, "approve_selected", [first])
    run_action(admin_client, "reject_selected", [second])

    lines = audit_lines()
    assert (
        f"event=upload.stored user=anonymous image={first.pk} file={first.file.name} "
        "filename=photo.png pending=yes"
    ) in lines
    assert "event=upload.refused user=anonymous reason=queue_full filename=photo.png" in lines
    assert f"event=image.approved user=admin image={first.pk} file={first.file.name}" in lines
    assert (
        f"event=image.deleted user=admin reason=rejected image={second.pk} file={second.file.name}"
    ) in lines


def test_approve_returns_only_the_images_that_were_pending(full_shelf):
    waiting = queue(9)

    approved = moderation.images_approve([waiting.pk, full_shelf[0].pk])

    assert approved == [waiting]


def test_the_status_column_appears_only_while_uploads_wait(admin_client, full_shelf):
    before = admin_client.get(CHANGELIST).content.decode()
    queue(9, "waiting")

    after = admin_client.get(CHANGELIST).content.decode()

    assert "field-status" not in before
    assert after.count('<td class="field-status">On the shelf</td>') == 3
