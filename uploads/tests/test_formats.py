"""Phone formats in every door, and the limits that keep one decode inside a dyno's memory."""

from __future__ import annotations

import threading

import pytest
from django.core.files.storage import default_storage
from django.db import connection

from uploads.ingest.decode_lock import decode_turn
from uploads.models import Image
from uploads.shelf import services
from uploads.tests import factories as f
from uploads.tests.factories import open_image, upload_file

pytestmark = pytest.mark.django_db
PHONE_FORMATS = [pytest.param("HEIF", id="heic"), pytest.param("AVIF", id="avif")]
CHANGELIST = "/admin/uploads/image/"


def stored(name: str):
    with default_storage.open(name, "rb") as handle:
        return open_image(handle.read())


def send(door: str, client, data: bytes, name: str):
    """One upload through the page, the admin add form or the bulk upload."""
    upload = upload_file(data, name, "")  # browsers often send these with no type
    if door == "page":
        return client.post("/images/", {"image": upload})
    if door == "add":
        return client.post(f"{CHANGELIST}add/", {"title": "", "image": upload})
    return client.post(f"{CHANGELIST}bulk-upload/", {"images": [upload]})


@pytest.mark.parametrize("fmt", PHONE_FORMATS)
@pytest.mark.parametrize("door", ["page", "add", "bulk"])
def test_a_phone_photo_is_stored_upright_as_a_jpeg_without_metadata(admin_client, fmt, door):
    data = f.phone_photo(fmt, orientation=6, size=(960, 640))

    send(door, admin_client, data, "IMG_0001.HEIC")

    image = Image.objects.get()
    upright = stored(image.file.name)
    assert (image.format, upright.format, image.width, image.height) == ("JPEG", "JPEG", 640, 960)
    top, bottom = upright.getpixel((320, 20)), upright.getpixel((320, 940))
    assert top[0] > 180 and top[2] < 80  # red, once on the left, is now on top
    assert bottom[2] > 180 and bottom[0] < 80
    assert dict(upright.getexif()) == {}
    assert not {"exif", "icc_profile", "xmp"} & set(upright.info)
    thumbnail = stored(image.preview_name)
    assert (thumbnail.format, thumbnail.size) == ("WEBP", (480, 720))  # whole, 480 px wide


@pytest.mark.parametrize("fmt", PHONE_FORMATS)
def test_a_transparent_phone_photo_is_stored_as_png(fmt):
    data = f.phone_photo(fmt, mode="RGBA")

    image = services.image_ingest(upload_file(data, "sticker.heic"), user=None)

    stored_image = stored(image.file.name)
    assert (image.format, stored_image.mode) == ("PNG", "RGBA")
    assert stored_image.getpixel((2, 2))[3] == 0
    assert stored_image.getpixel((50, 30))[3] == 255


@pytest.mark.parametrize("fmt", PHONE_FORMATS)
def test_a_phone_photos_colour_profile_is_converted_to_srgb(fmt):
    data = f.phone_photo(fmt, icc_profile=f.swapped_primaries_profile())

    image = services.image_ingest(upload_file(data, "p3.heic"), user=None)

    red, green, _ = stored(image.file.name).getpixel((5, 5))
    assert green > 150 and red < 100  # the profile says these pixels are green


@pytest.mark.parametrize(
    "path", ["/", f"{CHANGELIST}add/", f"{CHANGELIST}bulk-upload/"], ids=["page", "add", "bulk"]
)
def test_every_file_input_offers_the_phone_formats_by_type_and_extension(admin_client, path):
    html = admin_client.get(path).content.decode()

    accept = (
        'accept="image/jpeg,image/png,image/webp,image/gif,image/heic,image/heif,image/avif,'
        '.heic,.heif,.avif"'
    )
    assert html.count(accept) == 1


# --- The memory budget --------------------------------------------------------


def test_an_ingest_over_the_budget_is_refused_with_the_limit_for_its_kind(settings, files):
    settings.MAX_DECODE_MB = 2  # 0.26 megapixels of RGBA: decoded and stored, 8 bytes a pixel

    with pytest.raises(services.UploadRejected) as rejection:
        services.image_ingest(upload_file(f.png(size=(1600, 1200), mode="RGBA")), user=None)

    assert rejection.value.messages == [
        "This image is 1600 × 1200 pixels (2 megapixels); "
        "the limit for PNG images like this one is 0.26 megapixels."
    ]
    assert files() == []


def test_16_bit_grey_counts_two_bytes_a_pixel_and_one_stored(settings):
    settings.MAX_DECODE_MB = 2  # 0.70 megapixels of 16-bit grey, 0.26 of RGB

    image = services.image_ingest(upload_file(f.png_16bit(size=(800, 800))), user=None)

    assert (image.width, image.height) == (800, 800)


def test_a_jpeg_over_the_budget_is_decoded_at_a_smaller_scale(settings):
    settings.MAX_DECODE_MB = 4  # 1600 x 1200 RGB, decoded and stored: 14.6 MB; at half, 3.7

    image = services.image_ingest(upload_file(f.jpeg(size=(1600, 1200)), "big.jpg"), user=None)

    assert (image.width, image.height) == (800, 600)


@pytest.mark.parametrize(
    ("size", "stored_size"),
    [
        pytest.param((780, 585), (390, 293), id="half scale keeps 97 % of the cap"),
        pytest.param((700, 525), (400, 300), id="half scale would keep 88 %: resized"),
    ],
)
def test_a_large_jpeg_is_decoded_at_half_scale_when_that_keeps_90_percent_of_the_cap(
    settings, size, stored_size
):
    settings.IMAGE_MAX_EDGE = 400

    image = services.image_ingest(upload_file(f.jpeg(size=size), "big.jpg"), user=None)

    assert (image.width, image.height) == stored_size


@pytest.mark.django_db(transaction=True)
def test_an_ingest_waits_while_another_decode_holds_the_machine(files):
    outcome = []

    def ingest() -> None:
        try:
            outcome.append(services.image_ingest(upload_file(f.distinct_png(5)), user=None))
        finally:
            connection.close()

    with decode_turn():
        waiting = threading.Thread(target=ingest)
        waiting.start()
        waiting.join(timeout=0.5)
        assert waiting.is_alive() and files() == []  # still waiting for its turn
    waiting.join(timeout=30)

    assert [image.pk for image in outcome] == list(Image.objects.values_list("pk", flat=True))
