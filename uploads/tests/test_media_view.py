"""GET /media/<name>: stored images served inertly, cached for good, and nothing else."""

from __future__ import annotations

import os

import pytest
from django.utils.http import http_date

from uploads.models import Image
from uploads.shelf import services
from uploads.tests.factories import jpeg, png, upload_file

pytestmark = pytest.mark.django_db

YEAR = 31_536_000


@pytest.fixture
def image() -> Image:
    return services.image_ingest(upload_file(png()), user=None, title="shelf")


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def test_a_stored_image_is_served_with_its_bytes_and_content_type(client, image, media_root):
    response = client.get(f"/media/{image.file.name}")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert body(response) == (media_root / image.file.name).read_bytes()


def test_a_jpeg_is_served_as_image_jpeg(client):
    stored = services.image_ingest(upload_file(jpeg(), "photo.jpg", "image/jpeg"), user=None)

    response = client.get(f"/media/{stored.file.name}")

    assert stored.file.name.endswith(".jpg")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"


def test_a_thumbnail_is_served_as_image_webp(client, image):
    response = client.get(f"/media/{image.preview_name}")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert body(response)[8:12] == b"WEBP"


def test_media_is_never_sniffed_and_is_sandboxed(client, image):
    response = client.get(f"/media/{image.file.name}")

    assert response["X-Content-Type-Options"] == "nosniff"
    csp = [part.strip() for part in response["Content-Security-Policy"].split(";")]
    assert "default-src 'none'" in csp
    assert "sandbox" in csp


def test_media_is_cached_for_a_year_and_marked_immutable(client, image):
    response = client.get(f"/media/{image.file.name}")

    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"public", f"max-age={YEAR}", "immutable"} <= directives


def test_media_carries_an_etag_and_the_files_modification_time(client, image, media_root):
    mtime = os.stat(media_root / image.file.name).st_mtime

    response = client.get(f"/media/{image.file.name}")

    assert response["ETag"].startswith('"') and response["ETag"].endswith('"')
    assert response["Last-Modified"] == http_date(mtime)


def test_a_matching_if_none_match_answers_304_without_a_body(client, image):
    etag = client.get(f"/media/{image.file.name}")["ETag"]

    response = client.get(f"/media/{image.file.name}", headers={"If-None-Match": etag})

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert "immutable" in response["Cache-Control"]


def test_an_other_etag_gets_the_full_image(client, image):
    response = client.get(f"/media/{image.file.name}", headers={"If-None-Match": '"other"'})

    assert response.status_code == 200
    assert body(response)


def test_if_modified_since_with_the_sent_date_answers_304(client, image, media_root):
    # File systems keep sub-second times; HTTP dates have whole seconds.
    path = media_root / image.file.name
    os.utime(path, (1_700_000_000.75, 1_700_000_000.75))
    last_modified = client.get(f"/media/{image.file.name}")["Last-Modified"]

    response = client.get(f"/media/{image.file.name}", headers={"If-Modified-Since": last_modified})

    assert response.status_code == 304
    assert response.content == b""


def test_if_modified_since_before_the_file_gets_the_full_image(client, image, media_root):
    os.utime(media_root / image.file.name, (1_700_000_000, 1_700_000_000))

    response = client.get(
        f"/media/{image.file.name}", headers={"If-Modified-Since": http_date(1_600_000_000)}
    )

    assert response.status_code == 200


def test_head_answers_with_the_headers(client, image):
    response = client.head(f"/media/{image.file.name}")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_post_is_not_allowed(client, image):
    response = client.post(f"/media/{image.file.name}")

    assert response.status_code == 405


@pytest.mark.parametrize(
    "name",
    [
        "images/00000000-0000-4000-8000-000000000000.png",  # well formed, never stored
        "images/holiday.png",
        "uploads/00000000-0000-4000-8000-000000000000.png",
        "images/00000000-0000-4000-8000-000000000000.svg",
        "",
    ],
)
def test_unknown_names_are_404(client, image, name):
    response = client.get(f"/media/{name}")

    assert response.status_code == 404


def test_a_file_in_media_root_that_is_not_ours_is_404(client, media_root):
    (media_root / "notes.html").write_text("<script>alert(1)</script>")

    response = client.get("/media/notes.html")

    assert response.status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/media/../config/settings/base.py",
        "/media/%2e%2e/config/settings/base.py",
        "/media/%2E%2E/config/settings/base.py",
        "/media/..%2fconfig/settings/base.py",
        "/media/..%2Fconfig%2Fsettings%2Fbase.py",
        "/media/images/../../config/settings/base.py",
        "/media/images/%2e%2e%2f%2e%2e%2fconfig/settings/base.py",
        "/media/%2fetc/passwd",
        "/media//etc/passwd",
    ],
)
def test_path_traversal_is_404(client, settings, path):
    # MEDIA_ROOT at the repository root makes "../config/settings/base.py" a real file.
    settings.MEDIA_ROOT = str(settings.BASE_DIR / "media")

    response = client.get(path)

    assert (settings.BASE_DIR / "config/settings/base.py").is_file()
    assert response.status_code == 404
    assert b"SECRET_KEY" not in response.content


def test_a_file_next_to_media_root_is_not_reachable(client, media_root):
    (media_root.parent / "secret.txt").write_text("not for visitors")

    responses = [client.get(path) for path in ("/media/../secret.txt", "/media/..%2fsecret.txt")]

    assert [response.status_code for response in responses] == [404, 404]


def test_nothing_is_served_when_media_lives_in_remote_storage(client, image, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }

    response = client.get(f"/media/{image.file.name}")

    assert response.status_code == 404
