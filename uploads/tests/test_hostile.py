"""Hostile input answers 4xx with a reason, never 500, and changes and deletes nothing."""

from __future__ import annotations

import pytest

from uploads.admin import import_limits
from uploads.models import Image
from uploads.shelf import services
from uploads.tests.factories import distinct_png, upload_file

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/uploads/image/"


@pytest.fixture
def shelf(admin_client):
    """One image on the shelf; the admin client is a superuser's."""
    return services.image_ingest(upload_file(distinct_png(1)), title="kept")


def preview(client, text: str):
    """An import's preview, as staff start one; returns the confirmation it offers."""
    response = client.post(
        f"{CHANGELIST}import/",
        {"resource": 0, "format": 0, "import_file": upload_file(text.encode(), "t.csv")},
    )
    return response.context["confirm_form"].initial


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.mark.parametrize("query", ["format__exact=ZZ%00", "sha256=%00", "q=%00x", "o=1%00"])
def test_a_nul_character_in_an_admin_query_is_a_bad_request(admin_client, shelf, query):
    admin_client.raise_request_exception = False

    response = admin_client.get(f"{CHANGELIST}?{query}")

    assert response.status_code == 400


@pytest.mark.parametrize(
    "query", ["title__regex=(a", "sha256__iregex=[", "uploaded_at__year=" + "9" * 30]
)
def test_a_lookup_the_list_cannot_run_is_refused_not_a_500(admin_client, shelf, query):
    admin_client.raise_request_exception = False

    response = admin_client.get(f"{CHANGELIST}?{query}")
    post = admin_client.post(
        f"{CHANGELIST}?{query}", {"action": "delete_selected", "_selected_action": [shelf.pk]}
    )

    export = admin_client.get(f"{CHANGELIST}export/?{query}")

    assert (response.status_code, post.status_code, export.status_code) == (400, 400, 400)
    assert Image.objects.filter(pk=shelf.pk).exists()


@pytest.mark.parametrize("selected", ["abc", "1.5", "1\x00", "9" * 40])
def test_an_action_on_something_that_is_not_an_image_id_is_a_bad_request(
    admin_client, shelf, selected
):
    admin_client.raise_request_exception = False

    response = admin_client.post(
        CHANGELIST, {"action": "regenerate_thumbnails", "_selected_action": [shelf.pk, selected]}
    )

    assert response.status_code == 400
    assert Image.objects.get(pk=shelf.pk).thumbnails == shelf.thumbnails


def test_a_deeply_nested_json_import_is_refused_with_a_reason(admin_client, shelf):
    nested = ("[" * 100_000 + "]" * 100_000).encode()

    response = admin_client.post(
        f"{CHANGELIST}import/",
        {"resource": 0, "format": 2, "import_file": upload_file(nested, "t.json")},
    )

    assert response.status_code == 200
    assert "nested too deeply" in response.content.decode()
    assert Image.objects.get().title == "kept"


@pytest.mark.parametrize(
    ("tamper", "refusal"),
    [
        ({"import_file_name": "../../images/x"}, import_limits.NOT_OURS),
        ({"import_file_name": "../" * 3 + "db.sqlite3"}, import_limits.NOT_OURS),
        ({"format": "99"}, import_limits.NOT_OURS),
        ({"format": "csv"}, import_limits.NOT_OURS),
        ({"format": "\u00b2"}, import_limits.NOT_OURS),  # a digit to isdigit(), not to int()
        ({"format": "1"}, import_limits.NOT_OURS),  # the CSV preview read as XLSX
        ({"format": "2"}, import_limits.NOT_OURS),  # and as JSON
        ({"import_file_name": "0" * 32}, import_limits.CONFIRMED_OR_EXPIRED),
    ],
)
def test_a_tampered_import_confirmation_changes_and_deletes_nothing(
    admin_client, shelf, files, tamper, refusal
):
    confirm = preview(admin_client, f"id,title\n{shelf.pk},changed\n")
    before = files()

    response = admin_client.post(f"{CHANGELIST}process_import/", {**confirm, **tamper}, follow=True)

    assert response.status_code == 200
    assert messages_of(response) == [refusal]
    assert Image.objects.get().title == "kept"
    assert files() == before  # the real preview is still there, and every image file


def test_an_import_confirmation_from_staff_who_may_not_import_is_forbidden(
    admin_client, staff_client, shelf, files
):
    confirm = preview(admin_client, f"id,title\n{shelf.pk},changed\n")
    before = files()

    tampered = {**confirm, "import_file_name": "../../images/x"}

    responses = [staff_client.post(f"{CHANGELIST}process_import/", c) for c in (confirm, tampered)]

    assert [response.status_code for response in responses] == [403, 403]
    assert Image.objects.get().title == "kept"
    assert files() == before


def test_a_confirmation_sent_twice_imports_once_and_then_says_why(admin_client, shelf):
    confirm = preview(admin_client, f"id,title\n{shelf.pk},changed\n")
    admin_client.post(f"{CHANGELIST}process_import/", confirm, follow=True)

    again = admin_client.post(f"{CHANGELIST}process_import/", confirm, follow=True)

    assert Image.objects.get().title == "changed"
    assert messages_of(again) == [import_limits.CONFIRMED_OR_EXPIRED]


def test_a_media_name_that_is_not_ours_or_is_gone_is_a_404(client, shelf, media_root):
    (media_root / shelf.file.name).unlink()

    assert client.get(f"/media/{shelf.file.name}").status_code == 404
    assert client.get("/media/images/../../settings.py").status_code == 404
