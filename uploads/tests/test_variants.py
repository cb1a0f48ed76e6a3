"""Thumbnails at every width, in AVIF and WebP: made at ingest, deleted with their image,
remade by reconcile_media, served, and offered by the page only when their file exists."""

from __future__ import annotations

import os

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from uploads.ingest import variants
from uploads.models import Image
from uploads.shelf import deletion, services
from uploads.tests.factories import distinct_png, open_image, upload_file

pytestmark = pytest.mark.django_db(transaction=True)


def ingest(size=(1600, 1200), index: int = 1) -> Image:
    return services.image_ingest(upload_file(distinct_png(index, size=size)), user=None)


def url(name: str) -> str:
    return default_storage.url(name)


def opened(name: str):
    with default_storage.open(name, "rb") as handle:
        return open_image(handle.read())


def test_every_width_is_made_in_avif_and_webp_at_ingest(files):
    image = ingest()

    names = image.thumbnails
    shapes = {key: (opened(name).format, opened(name).size) for key, name in names.items()}
    assert shapes == {
        "avif-480": ("AVIF", (480, 360)),
        "avif-720": ("AVIF", (720, 540)),
        "avif-1080": ("AVIF", (1080, 810)),
        "webp-480": ("WEBP", (480, 360)),
        "webp-720": ("WEBP", (720, 540)),
        "webp-1080": ("WEBP", (1080, 810)),
    }
    assert files() == sorted(image.stored_names())
    assert all(name.startswith("thumbs/") for name in image.thumbnails.values())


def test_a_portrait_keeps_its_shape_and_nothing_is_scaled_up():
    image = ingest(size=(600, 900))

    sizes = {key: opened(name).size for key, name in image.thumbnails.items()}

    # 480 px wide, then the image's own width; no 1,080 px copy of a 600 px image.
    assert sizes == {
        "avif-480": (480, 720),
        "webp-480": (480, 720),
        "avif-720": (600, 900),
        "webp-720": (600, 900),
    }


def test_deleting_an_image_deletes_every_thumbnail(files):
    image, kept = ingest(index=1), ingest(index=2)

    deletion.images_delete(Image.objects.filter(pk=image.pk), reason="test")

    assert files() == sorted(kept.stored_names())


def test_reconcile_remakes_a_missing_thumbnail_and_removes_the_old_set(media_root, files):
    image = ingest()
    old = image.thumbnails
    os.remove(media_root / old["avif-720"])

    call_command("reconcile_media", verbosity=0)

    image.refresh_from_db()
    new = image.thumbnails
    assert set(new) == set(old)
    assert not set(new.values()) & set(old.values())
    assert files() == sorted(image.stored_names())


def test_reconcile_gives_an_image_from_before_the_variants_all_of_them(files):
    image = ingest()
    only_webp_480 = {"webp-480": image.thumbnails["webp-480"]}
    Image.objects.filter(pk=image.pk).update(thumbnails=only_webp_480)  # stored before them

    call_command("reconcile_media", "--orphan-grace", "0", verbosity=0)

    image.refresh_from_db()
    assert len(image.thumbnails) == len(variants.FORMATS) * len(variants.WIDTHS)
    assert files() == sorted(image.stored_names())  # the files the row lost: swept


def test_reconcile_takes_no_thumbnail_of_a_row_for_an_orphan(files):
    image = ingest()

    call_command("reconcile_media", "--orphan-grace", "0", verbosity=0)

    assert files() == sorted(image.stored_names())


def test_an_avif_thumbnail_is_served_as_image_avif(client):
    image = ingest()

    response = client.get(f"/media/{image.thumbnails['avif-480']}")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/avif"


def test_the_page_lists_a_source_only_for_thumbnails_whose_file_exists(client, media_root):
    image = ingest()
    names = image.thumbnails
    for key in ("avif-480", "avif-720", "avif-1080", "webp-1080"):
        os.remove(media_root / names[key])

    html = client.get("/").content.decode()

    assert "image/avif" not in html
    webp = f'srcset="{url(names["webp-480"])} 480w, {url(names["webp-720"])} 720w"'
    assert f'<source type="image/webp" {webp}' in html
    assert url(names["webp-1080"]) not in html
