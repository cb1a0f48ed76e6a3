"""The one door for uploads: what it refuses, what it stores, and what it leaves behind."""

from __future__ import annotations

import re

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from uploads.admin import import_limits
from uploads.media import storage
from uploads.media.storage import StorageUnavailable
from uploads.models import Image
from uploads.shelf import services
from uploads.tests import factories as f
from uploads.tests.factories import open_image, upload_file
from uploads.web import upload_gate

MB = 1024 * 1024

pytestmark = pytest.mark.django_db

NOT_AN_IMAGE = "This file is not an image we accept (JPEG, PNG, WebP, GIF, HEIC or AVIF)."
DAMAGED = "This image is damaged or incomplete"


def post_image(client, data: bytes, name: str, content_type: str = "image/jpeg", title=""):
    return client.post("/images/", {"image": upload_file(data, name, content_type), "title": title})


def url(name: str) -> str:
    return default_storage.url(name)


def stored(image: Image):
    with default_storage.open(image.file.name, "rb") as handle:
        return open_image(handle.read())


def stored_bytes(image: Image) -> bytes:
    with default_storage.open(image.file.name, "rb") as handle:
        return handle.read()


REFUSED = [
    pytest.param(b"", "empty.jpg", "image/jpeg", "The file is empty.", id="empty file"),
    pytest.param(f.TEXT, "notes.jpg", "image/jpeg", NOT_AN_IMAGE, id="text named .jpg"),
    pytest.param(f.HTML, "page.png", "image/png", NOT_AN_IMAGE, id="html named .png"),
    pytest.param(f.SVG, "logo.svg", "image/svg+xml", NOT_AN_IMAGE, id="svg with script"),
    pytest.param(f.PDF, "scan.pdf", "application/pdf", NOT_AN_IMAGE, id="pdf"),
    pytest.param(f.other_format("TIFF"), "a.tif", "image/tiff", NOT_AN_IMAGE, id="tiff"),
    pytest.param(f.other_format("BMP"), "a.bmp", "image/bmp", NOT_AN_IMAGE, id="bmp"),
    pytest.param(f.other_format("ICO"), "a.ico", "image/x-icon", NOT_AN_IMAGE, id="ico"),
    pytest.param(
        f.truncated(f.noisy_jpeg()), "cut.jpg", "image/jpeg", DAMAGED, id="truncated jpeg"
    ),
    pytest.param(f.truncated(f.noisy_png()), "cut.png", "image/png", DAMAGED, id="truncated png"),
    pytest.param(
        f.png_declaring(30000, 30000),
        "bomb.png",
        "image/png",
        "This image is 30000 × 30000 pixels (900 megapixels); the limit is 50 megapixels.",
        id="png declaring 30000x30000",
    ),
]


@pytest.mark.parametrize(("data", "name", "content_type", "message"), REFUSED)
def test_refused_upload_answers_400_with_the_reason_and_stores_nothing(
    staff_client, files, data, name, content_type, message
):
    response = post_image(staff_client, data, name, content_type)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert Image.objects.count() == 0
    assert files() == []


@pytest.mark.parametrize(("data", "name", "content_type", "message"), REFUSED)
def test_service_refuses_with_a_validation_error(files, data, name, content_type, message):
    with pytest.raises(services.UploadRejected) as rejection:
        services.image_ingest(upload_file(data, name, content_type), user=None)

    assert message in rejection.value.messages[0]
    assert Image.objects.count() == 0
    assert files() == []


def test_a_file_over_the_size_limit_is_refused_before_it_is_stored(staff_client, files, settings):
    settings.MAX_UPLOAD_MB = 1
    data = f.noisy_png(size=(700, 700))
    assert len(data) > 1024 * 1024

    response = post_image(staff_client, data, "big.png", "image/png")

    assert response.status_code == 413
    assert f"This file is {len(data) / 1024 / 1024:.1f} MB; the limit is 1 MB." in (
        response.content.decode()
    )
    assert Image.objects.count() == 0
    assert files() == []


def test_the_too_large_message_gives_the_size_with_one_decimal_and_the_limit(settings):
    settings.MAX_UPLOAD_MB = 10

    assert (
        services.too_large_message(26 * 1024 * 1024) == "This file is 26.0 MB; the limit is 10 MB."
    )
    assert services.too_large_message(10 * 1024 * 1024 + 1) == (
        "This file is 10.1 MB; the limit is 10 MB."
    )


def test_a_small_file_never_reads_as_empty():
    assert [services.megabytes(size) for size in (0, 3_000, MB // 10)] == [
        "0.0 MB",
        "< 0.1 MB",
        "0.1 MB",
    ]


def test_a_size_just_over_a_limit_never_reads_as_within_it(settings):
    settings.MAX_UPLOAD_MB, settings.BULK_UPLOAD_MAX_FILES = 10, 5
    bulk = upload_gate.DOORS["admin:uploads_image_bulk_upload"]

    messages = [
        import_limits.too_large_message(2 * MB + 1),
        bulk.too_large(50 * MB + 1, together=True),
        services.too_large_message(10 * MB + 1),
    ]

    assert "This import file is 2.1 MB; the limit is 2 MB." in messages
    assert messages[1].startswith("These files are 50.1 MB together;")
    assert "This file is 10.1 MB; the limit is 10 MB." in messages


def test_a_file_whose_declared_size_is_wrong_is_measured(settings):
    settings.MAX_UPLOAD_MB = 1
    upload = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + b"\0" * (3 * 1024 * 1024))
    upload.size = None  # a file object that does not know its size

    with pytest.raises(services.UploadRejected) as rejection:
        services.image_ingest(upload, user=None)

    assert rejection.value.messages == ["This file is 3.0 MB; the limit is 1 MB."]


def test_the_service_refuses_an_oversized_file_without_reading_it(settings):
    settings.MAX_UPLOAD_MB = 1

    class Unreadable(SimpleUploadedFile):
        def read(self, *args):
            raise AssertionError("the oversized file was read")

    upload = Unreadable("big.jpg", b"\xff\xd8\xff" + b"\0" * (2 * 1024 * 1024))

    with pytest.raises(services.UploadRejected) as rejection:
        services.image_ingest(upload, user=None)

    assert rejection.value.code == "too_large"
    assert rejection.value.messages == ["This file is 2.0 MB; the limit is 1 MB."]


def test_an_image_with_more_pixels_than_the_limit_is_refused_with_its_size(staff_client, settings):
    settings.MAX_IMAGE_PIXELS = 1000

    response = post_image(staff_client, f.png(size=(64, 48)), "wide.png", "image/png")

    assert response.status_code == 400
    html = response.content.decode()
    assert "This image is 64 × 48 pixels (0 megapixels); the limit is 0.001 megapixels." in html


def test_a_duplicate_is_refused_and_the_first_copy_stays(staff_client, files):
    data = f.distinct_png(7)
    post_image(staff_client, data, "first.png", "image/png")
    before = files()

    response = post_image(staff_client, data, "again.png", "image/png")

    assert response.status_code == 400
    assert "This image is already on the shelf." in response.content.decode()
    assert Image.objects.count() == 1
    assert files() == before


def test_a_duplicate_that_races_past_the_check_is_refused_and_its_files_removed(files, monkeypatch):
    services.image_ingest(upload_file(f.distinct_png(3)), user=None)
    before = files()
    monkeypatch.setattr(services, "_duplicate_message", lambda sha256: None)

    with pytest.raises(services.UploadRejected) as rejection:
        services.image_ingest(upload_file(f.distinct_png(3)), user=None)

    assert rejection.value.code == "duplicate"
    assert files() == before


def test_a_failed_row_save_removes_the_files_it_wrote(files, monkeypatch):
    def fail(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Image.objects, "create", fail)

    with pytest.raises(RuntimeError):
        services.image_ingest(upload_file(f.distinct_png(1)), user=None)

    assert files() == []


def test_a_failed_storage_write_answers_503_and_leaves_nothing(staff_client, files, monkeypatch):
    real_save = default_storage.save

    def save(name, content, **kwargs):
        if name.startswith("thumbs/"):
            raise OSError("No space left on device")
        return real_save(name, content, **kwargs)

    monkeypatch.setattr(default_storage, "save", save)

    response = post_image(staff_client, f.distinct_png(1), "ok.png", "image/png")

    assert response.status_code == 503
    assert str(storage.UNAVAILABLE) in response.content.decode()
    assert Image.objects.count() == 0
    assert files() == []


def test_storage_failure_is_raised_as_storage_unavailable(monkeypatch):
    def save(name, content, **kwargs):
        raise OSError("read-only file system")

    monkeypatch.setattr(default_storage, "save", save)

    with pytest.raises(StorageUnavailable):
        services.image_ingest(upload_file(f.distinct_png(1)), user=None)


# --- What gets stored -------------------------------------------------------


def test_stored_names_are_fresh_uuids_and_never_the_clients_name(files):
    image = services.image_ingest(upload_file(f.jpeg(), "../../etc/passwd.jpg"), user=None)

    uuid = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    assert re.fullmatch(rf"images/{uuid}\.jpg", image.file.name)
    assert re.fullmatch(rf"thumbs/{uuid}\.webp", image.preview_name)
    assert re.fullmatch(rf"thumbs/{uuid}\.avif", image.thumbnails["avif-480"])
    assert image.title == "passwd"
    assert files() == sorted(image.stored_names())


def test_the_title_given_wins_over_the_file_name():
    image = services.image_ingest(upload_file(f.jpeg(), "IMG_0001.JPG"), user=None, title=" Dog ")

    assert image.title == "Dog"


def test_a_jpeg_with_gps_is_stored_without_any_exif(staff_client):
    assert b"Exif" in f.jpeg_with_gps()

    response = post_image(staff_client, f.jpeg_with_gps(), "gps.jpg")

    assert response.status_code == 303
    image = Image.objects.get()
    data = stored_bytes(image)
    assert b"Exif" not in data
    assert b"ShelfCam" not in data
    assert b"taken at home" not in data
    stored_image = open_image(data)
    assert dict(stored_image.getexif()) == {}
    assert not {"exif", "icc_profile", "xmp", "comment"} & set(stored_image.info)


def test_an_orientation_6_jpeg_is_stored_upright(staff_client):
    response = post_image(staff_client, f.jpeg_rotated_6(), "sideways.jpg")

    assert response.status_code == 303
    image = Image.objects.get()
    upright = stored(image)
    assert (image.width, image.height) == (40, 60) == upright.size
    top, bottom = upright.getpixel((20, 5)), upright.getpixel((20, 55))
    assert top[0] > 180 and top[2] < 80  # red, once on the left, is now on top
    assert bottom[2] > 180 and bottom[0] < 80
    assert upright.getexif().get(0x0112) is None
    with default_storage.open(image.preview_name, "rb") as handle:
        assert open_image(handle.read()).size == (40, 60)


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_band_lands_where_the_orientation_puts_it(orientation):
    from PIL import Image as PILImage

    from uploads.ingest import render

    # 150 rows: several bands of render._BAND_ROWS, each row its own shade.
    source = PILImage.new("RGB", (40, 150))
    source.putdata([(x * 6, y, (x + y) % 256) for y in range(150) for x in range(40)])
    transpose = render.ORIENTATION_TRANSPOSE.get(orientation)
    expected = source.transpose(transpose) if transpose is not None else source

    upright = render.render(source, source.size, orientation)

    assert upright.tobytes() == expected.tobytes() and upright.size == expected.size


def test_a_cmyk_jpeg_is_stored_as_rgb_with_its_colour():
    image = services.image_ingest(upload_file(f.cmyk_jpeg(), "print.jpg"), user=None)

    stored_image = stored(image)
    assert stored_image.mode == "RGB"
    red, green, blue = stored_image.getpixel((10, 10))
    assert red > 200 and green < 60 and blue < 60


def test_a_16_bit_png_is_scaled_to_8_bits_not_clipped_to_white():
    image = services.image_ingest(upload_file(f.png_16bit(40000), "deep.png"), user=None)

    stored_image = stored(image)
    assert (image.format, stored_image.mode) == ("PNG", "L")
    assert 150 <= stored_image.getpixel((5, 5)) <= 160  # 40000 / 257 = 155.6


def test_a_palette_png_keeps_its_transparency():
    image = services.image_ingest(upload_file(f.palette_png_with_transparency()), user=None)

    stored_image = stored(image)
    assert (image.format, stored_image.mode) == ("PNG", "RGBA")
    assert stored_image.getpixel((4, 4))[3] == 0
    assert stored_image.getpixel((24, 4)) == (0, 200, 0, 255)


def test_an_animated_gif_keeps_its_first_frame():
    image = services.image_ingest(upload_file(f.animated_gif(), "blink.gif"), user=None)

    stored_image = stored(image)
    assert image.format == "PNG"
    assert getattr(stored_image, "n_frames", 1) == 1
    assert stored_image.convert("RGB").getpixel((12, 12)) == (255, 0, 0)


@pytest.mark.parametrize(("mode", "expected"), [("RGB", "JPEG"), ("RGBA", "PNG")])
def test_webp_is_accepted_and_stored_as_jpeg_or_png(mode, expected):
    image = services.image_ingest(upload_file(f.webp(mode), "a.webp"), user=None)

    assert image.format == expected
    assert stored(image).format == expected


def test_an_embedded_colour_profile_is_converted_to_srgb():
    data = f.jpeg(color=(220, 30, 30), quality=100, icc_profile=f.swapped_primaries_profile())

    image = services.image_ingest(upload_file(data, "tagged.jpg"), user=None)

    stored_image = stored(image)
    assert "icc_profile" not in stored_image.info
    red, green, _ = stored_image.getpixel((30, 30))
    assert green > 150 and red < 100  # the profile says these pixels are green


def test_the_long_edge_is_capped_and_the_thumbnail_is_a_480px_webp(settings):
    settings.IMAGE_MAX_EDGE = 1000

    image = services.image_ingest(upload_file(f.jpeg(size=(1600, 1200))), user=None)

    assert (image.width, image.height) == (1000, 750) == stored(image).size
    with default_storage.open(image.preview_name, "rb") as handle:
        thumbnail = open_image(handle.read())
    assert thumbnail.format == "WEBP"
    assert thumbnail.size == (480, 360) == image.preview_size


def test_metadata_is_recorded_from_the_stored_bytes(staff_user):
    import hashlib

    image = services.image_ingest(upload_file(f.jpeg(size=(90, 60))), user=staff_user)

    data = stored_bytes(image)
    assert image.size_bytes == len(data)
    assert image.sha256 == hashlib.sha256(data).hexdigest()
    assert (image.width, image.height, image.format) == (90, 60, "JPEG")
    assert image.uploaded_by == staff_user


def test_the_page_shows_thumbnails_with_size_alt_and_a_link_to_the_full_image(client):
    images = [
        services.image_ingest(
            upload_file(f.distinct_png(i, size=(960, 720))), user=None, description=text
        )
        for i, text in enumerate(["first", "second"])
    ]

    html = client.get("/").content.decode()

    newest, older = images[1], images[0]
    assert f'<a class="shelf__link" href="{newest.file.url}">' in html
    assert f'src="{url(newest.preview_name)}" width="480" height="360"' in html
    assert 'alt="second" fetchpriority="high">' in html
    assert f'src="{url(older.preview_name)}"' in html


def test_the_page_offers_every_thumbnail_avif_first_by_its_width(client):
    image = services.image_ingest(upload_file(f.distinct_png(1, size=(960, 720))), user=None)

    html = client.get("/").content.decode()

    names = {key: url(name) for key, name in image.thumbnails.items()}
    avif = f"{names['avif-480']} 480w, {names['avif-720']} 720w, {names['avif-1080']} 960w"
    webp = f"{names['webp-480']} 480w, {names['webp-720']} 720w, {names['webp-1080']} 960w"
    assert f'<source type="image/avif" srcset="{avif}"' in html
    assert f'<source type="image/webp" srcset="{webp}"' in html
    assert html.index("image/avif") < html.index("image/webp")
