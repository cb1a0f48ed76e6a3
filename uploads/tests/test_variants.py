"""Thumbnails at every width, in AVIF and WebP: made at ingest, deleted with their image,
remade by reconcile_media, served, and offered by the page only when their file exists."""

from __future__ import annotations

import os

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command

from uploads.ingest import variants
from uploads.models import THUMBNAIL_FIELDS, Image
from uploads.shelf import services
from uploads.tests.factories import distinct_png, open_image, upload_file

pytestmark = pytest.mark.django_db(transaction=True)


def ingest(size=(1600, 1200), index: int = 1) -> Image:
    return services.image_ingest(upload_file(distinct_png(index, size=size)), user=None)


def opened(name: str):
    with default_storage.open(name, "rb") as handle:
        return open_image(handle.read())


def test_every_width_is_made_in_avif_and_webp_at_ingest(files):
    image = ingest()

    names = image.thumbnail_names()
    shapes = {key: (opened(name).format, opened(name).size) for key, name in names.items()}
    assert shapes == {
        ("AVIF", 480): ("AVIF", (480, 360)),
        ("AVIF", 720): ("AVIF", (720, 540)),
        ("AVIF", 1080): ("AVIF", (1080, 810)),
        ("WEBP", 480): ("WEBP", (480, 360)),
        ("WEBP", 720): ("WEBP", (720, 540)),
        ("WEBP", 1080): ("WEBP", (1080, 810)),
    }
    assert files() == sorted(image.stored_names())
    assert all(name.startswith("thumbs/") for name in image.thumbnail_names().values())


def test_a_portrait_keeps_its_shape_and_nothing_is_scaled_up():
    image = ingest(size=(600, 900))

    sizes = {key: opened(name).size for key, name in image.thumbnail_names().items()}

    # 480 px wide, then the image's own width; no 1,080 px copy of a 600 px image.
    assert sizes == {
        ("AVIF", 480): (480, 720),
        ("WEBP", 480): (480, 720),
        ("AVIF", 720): (600, 900),
        ("WEBP", 720): (600, 900),
    }
    assert image.avif_1080.name == image.webp_1080.name == ""


def test_deleting_an_image_deletes_every_thumbnail(files):
    image, kept = ingest(index=1), ingest(index=2)

    services.images_delete([image.pk], reason="test")

    assert files() == sorted(kept.stored_names())


def test_reconcile_remakes_a_missing_thumbnail_and_removes_the_old_set(media_root, files):
    image = ingest()
    old = image.thumbnail_names()
    os.remove(media_root / old["AVIF", 720])

    call_command("reconcile_media", verbosity=0)

    image.refresh_from_db()
    new = image.thumbnail_names()
    assert set(new) == set(old)
    assert not set(new.values()) & set(old.values())
    assert files() == sorted(image.stored_names())


def test_reconcile_gives_an_image_from_before_the_variants_all_of_them(files):
    image = ingest()
    blank = {field: "" for field in THUMBNAIL_FIELDS.values() if field != "thumbnail"}
    Image.objects.filter(pk=image.pk).update(**blank)  # as a row stored before them

    call_command("reconcile_media", "--orphan-grace", "0", verbosity=0)

    image.refresh_from_db()
    assert len(image.thumbnail_names()) == len(variants.FORMATS) * len(variants.WIDTHS)
    assert files() == sorted(image.stored_names())  # the files the row lost: swept


def test_reconcile_takes_no_thumbnail_of_a_row_for_an_orphan(files):
    image = ingest()

    call_command("reconcile_media", "--orphan-grace", "0", verbosity=0)

    assert files() == sorted(image.stored_names())


def test_an_avif_thumbnail_is_served_as_image_avif(client):
    image = ingest()

    response = client.get(f"/media/{image.avif_480.name}")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/avif"


def test_the_page_lists_a_source_only_for_thumbnails_whose_file_exists(client, media_root):
    image = ingest()
    for name in (image.avif_480.name, image.avif_720.name, image.avif_1080.name):
        os.remove(media_root / name)
    os.remove(media_root / image.webp_1080.name)

    html = client.get("/").content.decode()

    assert "image/avif" not in html
    webp = f'srcset="{image.thumbnail.url} 480w, {image.webp_720.url} 720w"'
    assert f'<source type="image/webp" {webp}' in html
    assert image.webp_1080.url not in html
