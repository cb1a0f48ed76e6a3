"""One verdict rule, by content: damage is refused, metadata never is, and never stored."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from PIL import Image as PILImage

from uploads.models import Image
from uploads.shelf import services
from uploads.tests import crafted
from uploads.tests import factories as f
from uploads.tests.factories import open_image, upload_file

pytestmark = pytest.mark.django_db

DAMAGED = "This image is damaged or incomplete, so it could not be read."
# What must never reach a stored file, matched on lower-cased bytes.
MARKERS = (b"<!doctype", b"<script", b"<?php", b"<html", b"<plist", b"8bim", b"photoshop")


def post_image(client, data: bytes, name: str):
    return client.post("/images/", {"image": upload_file(data, name, "application/octet-stream")})


def stored_blobs(files) -> list[bytes]:
    blobs = []
    for name in files():
        with default_storage.open(name, "rb") as handle:
            blobs.append(handle.read())
    return blobs


@pytest.mark.parametrize(
    ("data", "name"),
    [
        pytest.param(crafted.png_with_corrupt_zlib(), "zlib.png", id="png, corrupt zlib stream"),
        pytest.param(crafted.png_cut_in_its_last_chunk(), "cut.png", id="png cut in last chunk"),
        pytest.param(
            crafted.apng_with_a_broken_frame_sequence(), "anim.png", id="apng, broken sequence"
        ),
    ],
)
def test_a_file_pillow_cannot_load_is_refused_with_no_row_and_no_file(
    staff_client, files, data, name
):
    with pytest.raises((OSError, SyntaxError)):  # Pillow's own verdict
        PILImage.open(f.io.BytesIO(data)).load()

    response = post_image(staff_client, data, name)

    assert response.status_code == 400
    assert DAMAGED in response.content.decode()
    assert Image.objects.count() == 0
    assert files() == []


@pytest.mark.parametrize(
    ("data", "name"),
    [
        pytest.param(crafted.jpeg_with_comment(), "comment.jpg", id="jpeg comment"),
        pytest.param(crafted.jpeg_with_xmp(), "xmp.jpg", id="jpeg xmp"),
        pytest.param(crafted.jpeg_with_photoshop_block(), "print.jpg", id="jpeg app13 8bim plist"),
        pytest.param(
            crafted.jpeg_with_photoshop_block(crafted.MARKUP), "page.jpg", id="jpeg 8bim html"
        ),
        pytest.param(crafted.png_with_text(), "text.png", id="png text chunks"),
        pytest.param(
            crafted.png_with_text(crafted.MARKUP * (2 * 1024 * 1024 // len(crafted.MARKUP))),
            "huge-text.png",
            id="png text inflating past pillow's text limit",
        ),
        pytest.param(crafted.gif_with_comment(), "cat.gif", id="gif comment and trailer"),
    ],
)
def test_markup_in_metadata_is_accepted_and_absent_from_every_stored_file(
    staff_client, files, data, name
):
    assert any(marker in data.lower() for marker in MARKERS)

    response = post_image(staff_client, data, name)

    assert response.status_code == 303
    image = Image.objects.get()
    assert files() == sorted(image.stored_names())
    for blob in stored_blobs(files):
        assert [marker for marker in MARKERS if marker in blob.lower()] == []
    assert not {"exif", "xmp", "comment", "icc_profile"} & set(open_image(blob).info)


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
def test_a_jpeg_with_corrupt_exif_is_accepted():
    data = crafted.jpeg_with_exif(b"Exif\x00\x00MM\x00*\x00\x00\xff\xff")  # IFD past the end

    image = services.image_ingest(upload_file(data, "odd.jpg"), user=None)

    assert (image.format, image.width, image.height) == ("JPEG", 96, 64)


def test_a_jpeg_over_pillows_own_pixel_limit_is_accepted_when_the_settings_allow_it(settings):
    # 96 megapixels: more than Pillow's default limit (89 MP), which used to refuse it.
    settings.MAX_IMAGE_PIXELS = 100_000_000
    buffer = f.io.BytesIO()
    PILImage.new("L", (24000, 4000), 128).save(buffer, "JPEG")

    image = services.image_ingest(upload_file(buffer.getvalue(), "pano.jpg"), user=None)

    # Decoded at a quarter of its size (6000 x 1000), then capped at 4096 on the long edge.
    assert (image.width, image.height) == (4096, 683)


def test_a_jpeg_one_pixel_wide_is_stored_not_a_server_error():
    buffer = f.io.BytesIO()
    PILImage.new("L", (1, 10000), 128).save(buffer, "JPEG")

    image = services.image_ingest(upload_file(buffer.getvalue(), "line.jpg"), user=None)

    assert (image.width, image.height) == (1, 4096)


def test_a_lossless_jpeg_is_decoded_at_full_scale_and_accepted(settings):
    # libjpeg cannot decode a lossless JPEG at a reduced scale: the thumbnail's own 1/8-scale
    # decode used to refuse every one over 480 px as damaged.
    settings.IMAGE_MAX_EDGE = 400  # so a 1000 px JPEG would otherwise decode at half scale
    data = crafted.lossless_jpeg(1000, 750, value=90)

    image = services.image_ingest(upload_file(data, "scan.jpg"), user=None)

    stored_image = open_image(default_storage.open(image.file.name, "rb").read())
    assert (image.format, stored_image.size) == ("JPEG", (400, 300))
    assert stored_image.getextrema() == (90, 90)


def test_a_damaged_later_gif_frame_does_not_stop_the_first_from_being_stored():
    data = f.animated_gif()
    cut = data[: data.rindex(b"\x2c")] + b"\x2c\x00"  # the second frame's descriptor, cut

    image = services.image_ingest(upload_file(cut, "blink.gif"), user=None)

    stored_image = open_image(default_storage.open(image.file.name, "rb").read())
    assert stored_image.convert("RGB").getpixel((12, 12)) == (255, 0, 0)
