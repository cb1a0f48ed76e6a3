"""The admin: columns, the add form and bulk upload, every action, import and export."""

from __future__ import annotations

import os

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth.models import Permission
from django.core.files.storage import default_storage

from uploads.models import Image
from uploads.shelf import services
from uploads.tests import factories as f
from uploads.tests.factories import distinct_png, upload_file

CHANGELIST = "/admin/uploads/image/"


def ingest(index: int, title: str = "") -> Image:
    return services.image_ingest(upload_file(distinct_png(index)), user=None, title=title)


def run_action(client, action: str, images, **extra):
    data = {"action": action, "_selected_action": [image.pk for image in images], **extra}
    return client.post(CHANGELIST, data, follow=True)


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def plain_staff(django_user_model):
    """Staff who may view and change images, but not delete, import or export them."""
    user = django_user_model.objects.create_user("editor", password="pw-editor-1", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_image", "change_image"])
    )
    return user


# --- The changelist -----------------------------------------------------------


@pytest.mark.django_db
def test_changelist_shows_previews_and_a_placeholder_for_a_missing_file(admin_client, media_root):
    present, missing = ingest(1, "present"), ingest(2, "missing")
    os.remove(media_root / missing.file.name)

    html = admin_client.get(CHANGELIST).content.decode()

    assert f'src="{default_storage.url(present.preview_name)}" width="64" height="48"' in html
    assert 'src="/static/uploads/missing.svg" width="64" height="48" alt="File missing"' in html
    assert "64 × 48" in html
    assert 'alt="True"' in html and 'alt="False"' in html  # the file status column


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "expected"), [("present", "present"), ("missing", "missing")])
def test_file_status_filter_separates_present_from_missing(
    admin_client, media_root, status, expected
):
    ingest(1, "present")
    missing = ingest(2, "missing")
    os.remove(media_root / missing.file.name)

    response = admin_client.get(CHANGELIST, {"file": status})

    assert [image.title for image in response.context["cl"].result_list] == [expected]


@pytest.mark.django_db
def test_search_finds_by_title_and_by_sha256(admin_client):
    dog, cat = ingest(1, "dog"), ingest(2, "cat")

    by_title = admin_client.get(CHANGELIST, {"q": "dog"}).context["cl"].result_list
    by_hash = admin_client.get(CHANGELIST, {"q": cat.sha256}).context["cl"].result_list

    assert list(by_title) == [dog]
    assert list(by_hash) == [cat]


@pytest.mark.django_db
def test_changelist_names_imageshelf_and_links_to_the_public_page(admin_client):
    html = admin_client.get(CHANGELIST).content.decode()

    assert "ImageShelf administration" in html
    assert '<a href="/">View the public page</a>' in html
    assert 'href="/admin/uploads/image/bulk-upload/"' in html


@pytest.mark.django_db
def test_change_page_shows_a_large_preview_a_link_and_read_only_metadata(admin_client):
    image = ingest(1, "garden")

    html = admin_client.get(f"{CHANGELIST}{image.pk}/change/").content.decode()

    assert f'src="{default_storage.url(image.preview_name)}" width="320"' in html
    assert (
        f'<a href="{image.file.url}" target="_blank" rel="noopener">Open the full image</a>' in html
    )
    assert 'name="title"' in html
    assert 'name="sha256"' not in html and image.sha256 in html


@pytest.mark.django_db
def test_editing_the_title_changes_only_the_title(admin_client):
    image = ingest(1, "old")

    response = admin_client.post(f"{CHANGELIST}{image.pk}/change/", {"title": "new"})

    assert response.status_code == 302
    fresh = Image.objects.get(pk=image.pk)
    assert (fresh.title, fresh.file.name, fresh.sha256) == ("new", image.file.name, image.sha256)


# --- Adding images ------------------------------------------------------------


@pytest.mark.django_db
def test_the_add_form_stores_an_image_through_ingest(admin_client, files):
    response = admin_client.post(
        f"{CHANGELIST}add/", {"title": "added", "image": upload_file(f.jpeg_with_gps(), "a.jpg")}
    )

    assert response.status_code == 302
    image = Image.objects.get()
    assert image.title == "added"
    assert files() == sorted(image.stored_names())
    with default_storage.open(image.file.name, "rb") as handle:
        assert b"Exif" not in handle.read()


@pytest.mark.django_db
def test_the_add_form_shows_the_same_refusal_as_the_public_page(admin_client, files):
    response = admin_client.post(
        f"{CHANGELIST}add/", {"title": "", "image": upload_file(f.HTML, "page.png")}
    )

    assert response.status_code == 200
    assert "This file is not an image we accept (JPEG, PNG, WebP, GIF, HEIC or AVIF)." in (
        response.content.decode()
    )
    assert Image.objects.count() == 0
    assert files() == []


@pytest.mark.django_db(transaction=True)
def test_bulk_upload_stores_the_valid_files_and_explains_each_refusal(admin_client, files):
    uploads = [upload_file(distinct_png(i), f"good{i}.png") for i in range(3)] + [
        upload_file(f.TEXT, "notes.jpg"),
        upload_file(f.truncated(f.noisy_jpeg()), "cut.jpg"),
    ]

    response = admin_client.post(f"{CHANGELIST}bulk-upload/", {"images": uploads})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Stored 3 of 5 files." in html
    assert "notes.jpg</td>\n        <td>Refused: This file is not an image we accept" in html
    assert "cut.jpg</td>\n        <td>Refused: This image is damaged or incomplete" in html
    assert html.count("Stored as <a") == 3
    assert Image.objects.count() == 3
    assert len(files()) == 9  # each image with its AVIF and WebP thumbnail


@pytest.mark.django_db(transaction=True)
def test_bulk_upload_keeps_the_limit(admin_client, files):
    uploads = [upload_file(distinct_png(i), f"good{i}.png") for i in range(5)]

    admin_client.post(f"{CHANGELIST}bulk-upload/", {"images": uploads})

    assert sorted(Image.objects.values_list("title", flat=True)) == ["good2", "good3", "good4"]
    assert len(files()) == 9  # each image with its AVIF and WebP thumbnail


def test_bulk_upload_page_offers_a_multiple_file_input(admin_client, db):
    html = admin_client.get(f"{CHANGELIST}bulk-upload/").content.decode()

    assert 'type="file" name="images" id="id_images" multiple' in html


# --- Actions ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_delete_selected_deletes_rows_and_files(admin_client, files):
    keep, doomed = ingest(1), ingest(2)

    response = run_action(admin_client, "delete_selected", [doomed], post="yes")

    assert "Successfully deleted 1 image." in messages_of(response)
    assert list(Image.objects.all()) == [keep]
    assert files() == sorted(keep.stored_names())


@pytest.mark.django_db(transaction=True)
def test_verify_files_removes_entries_whose_file_is_missing(admin_client, media_root, files):
    kept, lost = ingest(1), ingest(2)
    os.remove(media_root / lost.file.name)

    response = run_action(admin_client, "verify_files", [kept, lost])

    assert messages_of(response) == [
        f"Removed 1 of 2 entries whose file was missing: {lost.file.name}"
    ]
    assert list(Image.objects.all()) == [kept]
    assert files() == sorted(kept.stored_names())  # the lost image's thumbnails too
    assert LogEntry.objects.filter(action_flag=DELETION, object_id=str(lost.pk)).exists()


@pytest.mark.django_db(transaction=True)
def test_verify_files_reports_when_everything_is_present(admin_client):
    images = [ingest(1), ingest(2)]

    response = run_action(admin_client, "verify_files", images)

    assert messages_of(response) == ["All 2 files are present."]


@pytest.mark.django_db(transaction=True)
def test_an_action_asks_storage_once_not_also_for_the_list_it_does_not_show(
    admin_client, monkeypatch
):
    """On a slow S3 each look is a listing per prefix, with its own timeouts."""
    from uploads.media import storage

    images, asked = [ingest(1), ingest(2)], []
    existing = storage.existing
    monkeypatch.setattr(storage, "existing", lambda names: asked.append(1) or existing(names))

    response = admin_client.post(
        CHANGELIST, {"action": "verify_files", "_selected_action": [i.pk for i in images]}
    )

    assert response.status_code == 302
    assert len(asked) == 1


@pytest.mark.django_db(transaction=True)
def test_verify_files_says_storage_is_unavailable_and_removes_nothing(admin_client, monkeypatch):
    from uploads.media import storage

    images = [ingest(1), ingest(2)]

    def unavailable(names):
        raise storage.StorageUnavailable("could not list 'images/': connection refused")

    monkeypatch.setattr(storage, "existing", unavailable)

    response = run_action(admin_client, "verify_files", images)

    assert messages_of(response) == [str(storage.UNAVAILABLE)]
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert Image.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_regenerate_thumbnails_writes_new_ones_and_removes_the_old(admin_client, files):
    image = ingest(1)
    old = image.thumbnails

    response = run_action(admin_client, "regenerate_thumbnails", [image])

    image.refresh_from_db()
    assert messages_of(response) == ["Regenerated 1 thumbnail(s)."]
    assert set(image.thumbnails) == set(old)
    assert not set(image.thumbnails.values()) & set(old.values())
    assert files() == sorted(image.stored_names())


@pytest.mark.django_db(transaction=True)
def test_regenerate_thumbnails_warns_about_images_it_cannot_read(admin_client, media_root):
    image = ingest(1)
    os.remove(media_root / image.file.name)

    response = run_action(admin_client, "regenerate_thumbnails", [image])

    assert messages_of(response) == [
        f"Regenerated 0 thumbnail(s); could not read 1 image(s): {image.file.name}"
    ]


@pytest.mark.django_db
def test_staff_without_delete_permission_get_no_destructive_actions(client, plain_staff):
    ingest(1)
    client.force_login(plain_staff)

    actions = dict(client.get(CHANGELIST).context["action_form"].fields["action"].choices)

    assert "regenerate_thumbnails" in actions
    for destructive in ("delete_selected", "verify_files"):
        assert destructive not in actions


@pytest.mark.django_db
def test_a_destructive_action_posted_anyway_by_staff_without_permission_does_nothing(
    client, plain_staff
):
    image = ingest(1)
    client.force_login(plain_staff)

    run_action(client, "delete_selected", [image], post="yes")

    assert Image.objects.count() == 1


# --- Import and export --------------------------------------------------------


def import_csv(client, text: str):
    """Upload a CSV, then confirm the preview, as staff do in the admin."""
    preview = client.post(
        f"{CHANGELIST}import/",
        {"resource": 0, "format": 0, "import_file": upload_file(text.encode(), "t.csv")},
    )
    assert preview.status_code == 200
    confirm = preview.context.get("confirm_form")
    if confirm is None:
        return preview
    return client.post(f"{CHANGELIST}process_import/", confirm.initial, follow=True)


@pytest.mark.django_db
def test_import_changes_titles_and_nothing_else(admin_client, files):
    image = ingest(1, "before")
    before = files()

    import_csv(
        admin_client,
        f"id,title,file,width,sha256,format\n{image.pk},after,images/evil.jpg,1,{'f' * 64},PNG\n",
    )

    fresh = Image.objects.get(pk=image.pk)
    assert fresh.title == "after"
    assert (fresh.file.name, fresh.width, fresh.sha256, fresh.format) == (
        image.file.name, image.width, image.sha256, image.format,
    )  # fmt: skip
    assert files() == before


@pytest.mark.django_db
def test_import_never_creates_images(admin_client):
    response = import_csv(admin_client, "id,title\n999,ghost\n")

    assert "There is no image with id 999" in response.content.decode()
    assert Image.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("title", "reason"),
    [("t" * 201, "at most 200 characters"), ("a\x00b", "Null characters are not allowed")],
)
def test_import_refuses_a_title_the_change_form_would_refuse(admin_client, title, reason):
    image = ingest(1, "before")

    response = import_csv(admin_client, f"id,title\n{image.pk},{title}\n")

    assert reason in response.content.decode()
    assert Image.objects.get(pk=image.pk).title == "before"


@pytest.mark.django_db
def test_import_and_export_need_their_own_permissions(client, plain_staff):
    client.force_login(plain_staff)

    html = client.get(CHANGELIST).content.decode()

    assert "/admin/uploads/image/import/" not in html
    assert "/admin/uploads/image/export/" not in html
    assert client.get(f"{CHANGELIST}import/").status_code == 403
    assert client.get(f"{CHANGELIST}export/").status_code == 403
