"""The shelf as one archive: export_shelf, import_shelf, hostile archives, the admin's download."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import OperationalError
from PIL import Image as PILImage

from uploads.models import Image
from uploads.shelf import ownership, services
from uploads.tests import archives
from uploads.tests.commands import command
from uploads.tests.factories import (
    distinct_png,
    noisy_png,
    png_declaring,
    stored_files,
    upload_file,
)

pytestmark = pytest.mark.django_db(transaction=True)  # commands close connections

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def shelve(index: int, **values) -> Image:
    """An image through the upload door, then given a description, a date or pending."""
    image = services.image_ingest(upload_file(distinct_png(index)))
    Image.objects.filter(pk=image.pk).update(**values)
    return Image.objects.get(pk=image.pk)


@pytest.fixture
def shelf() -> list[Image]:
    return [
        shelve(1, description="A red door.", uploaded_at=WHEN),
        shelve(2, description="A green field.", pending=True),
    ]


@pytest.fixture
def exported(shelf, tmp_path, capsys):
    path = tmp_path / "shelf.zip"
    status, out, err = command("export_shelf", str(path), capsys=capsys)
    assert (status, err) == (0, ""), out
    return path


def test_an_export_never_writes_over_an_existing_file(shelf, tmp_path, capsys):
    path = tmp_path / "shelf.zip"
    path.write_bytes(b"last week's archive")

    status, _, err = command("export_shelf", str(path), capsys=capsys)

    assert status == 1
    assert "File exists" in err
    assert path.read_bytes() == b"last week's archive"


def test_an_export_from_storage_holding_none_of_the_images_is_refused(
    shelf, settings, tmp_path, capsys
):
    settings.MEDIA_ROOT = str(tmp_path / "not-there")
    path = tmp_path / "shelf.zip"

    status, _, err = command("export_shelf", str(path), capsys=capsys)

    assert status == 2
    assert f"None of the 2 image files is in {tmp_path / 'not-there'}, so no archive" in err
    assert not path.exists()


def test_an_export_whose_database_fails_exits_2_without_a_traceback(tmp_path, capsys, monkeypatch):
    def unreachable(path, progress):
        raise OperationalError("connection to the database refused")

    monkeypatch.setattr("uploads.management.commands.export_shelf.shelf_export", unreachable)

    status, _, err = command("export_shelf", str(tmp_path / "shelf.zip"), capsys=capsys)

    assert status == 2
    assert err == "CommandError: connection to the database refused\n"


def fresh_deployment(settings, tmp_path) -> None:
    """No rows, and media of its own (new storage: its first import marks it)."""
    Image.objects.all().delete()  # rows only: the first deployment's files stay its own
    settings.MEDIA_ROOT = str(tmp_path / "fresh-media")


def test_export_holds_every_image_stored_as_it_is_and_a_manifest(shelf, exported):
    with zipfile.ZipFile(exported) as zipped:
        manifest = json.loads(zipped.read("manifest.json"))
        members = {info.filename: info for info in zipped.infolist()}
        digests = {name: hashlib.sha256(zipped.read(name)).hexdigest() for name in members}

    entries = {entry["name"]: entry for entry in manifest["images"]}
    assert set(entries) == {image.file.name for image in shelf}
    assert {members[name].compress_type for name in entries} == {zipfile.ZIP_STORED}
    for image in shelf:
        entry = entries[image.file.name]
        assert entry["sha256"] == image.sha256 == digests[image.file.name]
        assert (entry["description"], entry["pending"]) == (image.description, image.pending)
        assert entry["uploaded_at"] == image.uploaded_at.isoformat()


def test_import_restores_the_shelf_and_a_second_import_adds_nothing(
    shelf, exported, settings, tmp_path, capsys, files
):
    fresh_deployment(settings, tmp_path)

    first = command("import_shelf", str(exported), capsys=capsys)
    second = command("import_shelf", str(exported), capsys=capsys)

    assert first[0] == 0 and "Stored 2 image(s); 0 already here" in first[1]
    assert second[0] == 0 and "Stored 0 image(s); 2 already here" in second[1]
    restored = {image.sha256: image for image in Image.objects.all()}
    assert set(restored) == {image.sha256 for image in shelf}
    for image in shelf:
        again = restored[image.sha256]
        assert (again.description, again.uploaded_at, again.pending) == (
            image.description, image.uploaded_at, image.pending,
        )  # fmt: skip
        assert again.thumbnails and again.file.name != image.file.name
    assert len(files()) == sum(len(image.stored_names()) for image in restored.values())


def test_a_dry_run_checks_every_image_and_stores_nothing(exported, settings, tmp_path, capsys):
    fresh_deployment(settings, tmp_path)

    status, out, _ = command("import_shelf", str(exported), "--dry-run", capsys=capsys)

    assert status == 0
    assert out.count(": checked") == 2 and "would store 2 image(s)" in out
    assert not Image.objects.exists()


def test_a_dry_run_into_anothers_storage_says_so_and_marks_nothing(
    exported, settings, tmp_path, capsys
):
    fresh_deployment(settings, tmp_path)
    media = tmp_path / "fresh-media"
    media.mkdir()
    (media / ownership.MARKER).write_text("another-deployment\n")

    status, _, err = command("import_shelf", str(exported), "--dry-run", capsys=capsys)

    assert status == 2 and "belongs to deployment another-deployment" in err
    assert (media / ownership.MARKER).read_text() == "another-deployment\n"


def test_the_limit_applies_after_an_import_and_the_newest_stay(settings, tmp_path, capsys):
    settings.IMAGE_LIMIT = 1
    older, newer = distinct_png(1), distinct_png(2)
    path = tmp_path / "two.zip"
    path.write_bytes(
        archives.archive(
            {archives.NAME: older, archives.NAME.replace("1.png", "2.png"): newer},
            {"images": [
                archives.entry(older),
                archives.entry(newer, archives.NAME.replace("1.png", "2.png"),
                               uploaded_at="2026-02-01T00:00:00+00:00"),
            ]},
        )
    )  # fmt: skip

    status, out, _ = command("import_shelf", str(path), capsys=capsys)

    assert status == 0 and "1 removed by the limit" in out
    assert list(Image.objects.values_list("sha256", flat=True)) == [
        hashlib.sha256(newer).hexdigest()
    ]


HOSTILE = {
    "not a zip": (lambda: b"These are my holiday notes.", "not a zip archive"),
    "truncated": (lambda: archives.one_image()[:-40], "not a zip archive"),
    "traversal name": (
        lambda: archives.archive({"../../evil.png": distinct_png(1)}),
        "Image 1 of the manifest is not one this app writes: its name is not one this app gives",
    ),
    "unlisted member": (
        lambda: archives.archive(
            {archives.NAME: distinct_png(1), "../evil.png": b"x"},
            {"images": [archives.entry(distinct_png(1))]},
        ),
        "does not list, or lacks: ../evil.png",
    ),
    "duplicate names": (
        lambda: archives.archive([(archives.NAME, distinct_png(1))] * 2),
        "two entries of the same name",
    ),
    "encrypted": (archives.encrypted, "encrypted"),
    "10,000 entries": (archives.many_entries, "more than 1001 entries"),
    "deeply nested manifest": (archives.deeply_nested, "nested too deep"),
    "nested manifest entry": (
        lambda: archives.archive({}, {"images": [{"name": {"a": {"b": [[]]}}}]}),
        "a field is missing or of the wrong type",
    ),
    "invisible description": (
        lambda: archives.one_image(description="\u200b"),
        "description: This description has no visible characters.",
    ),
    "NUL in a description": (
        lambda: archives.one_image(description="nul\x00here"),
        "description: Null characters are not allowed.",
    ),
    "NUL in a title": (
        lambda: archives.one_image(title="nul\x00here"),
        "title: Null characters are not allowed.",
    ),
    "title too long": (
        lambda: archives.one_image(title="t" * 201),
        "title: Ensure this value has at most 200 characters",
    ),
    "description too long": (
        lambda: archives.one_image(description="a" * 501),
        "description: Ensure this value has at most 500 characters",
    ),
    "date to come": (
        lambda: archives.one_image(uploaded_at="2099-01-01T00:00:00+00:00"),
        "its date is still to come, or has no time zone",
    ),
    "date without a time zone": (
        lambda: archives.one_image(uploaded_at="2020-01-01T00:00:00"),
        "its date is still to come, or has no time zone",
    ),
    "real size over declared": (archives.declaring_less_than_it_holds, "cannot be read"),
    "digest mismatch": (
        lambda: archives.one_image(sha256=hashlib.sha256(b"other").hexdigest()),
        "not the SHA-256 digest the manifest gives",
    ),
    "decompression bomb": (
        lambda: archives.one_image(png_declaring(40_000, 40_000)),
        "megapixels",
    ),
    "corrupt image": (lambda: archives.one_image(distinct_png(1)[:-30]), "damaged"),
}


@pytest.mark.parametrize("case", HOSTILE)
def test_a_hostile_archive_is_refused_and_nothing_is_stored(case, tmp_path, capsys, files):
    build, reason = HOSTILE[case]
    path = tmp_path / "hostile.zip"
    path.write_bytes(build())

    status, out, err = command("import_shelf", str(path), capsys=capsys)

    assert status == 2
    assert reason in out + err
    assert not Image.objects.exists() and files() == []


@pytest.mark.parametrize(("count", "zip64"), [(30_000, False), (70_000, True)])
def test_a_huge_central_directory_is_refused_before_zipfile_reads_it(
    tmp_path, capsys, monkeypatch, count, zip64
):
    """zipfile reads a central directory whole, an object per entry, before the entries can
    be counted; its size in the end record (or Zip64's, which zipfile prefers) is checked
    first."""
    data = bytearray(archives.many_entries(count))
    if zip64:  # Python wrote Zip64 records (over 65,535 entries): the classic one says little
        end = data.rfind(b"PK\x05\x06")
        data[end + 12 : end + 16] = (10).to_bytes(4, "little")
    path = tmp_path / "huge.zip"
    path.write_bytes(data)

    def never(*args, **kwargs):
        raise AssertionError("zipfile was asked to read the central directory")

    monkeypatch.setattr(zipfile, "ZipFile", never)
    status, out, err = command("import_shelf", str(path), capsys=capsys)

    assert status == 2 and "more than 1001 entries" in err


def test_a_bad_image_is_named_and_left_out_and_the_good_one_is_stored(tmp_path, capsys, files):
    good, bomb = distinct_png(1), png_declaring(40_000, 40_000)
    second = archives.NAME.replace("1.png", "2.png")
    path = tmp_path / "mixed.zip"
    path.write_bytes(
        archives.archive(
            {archives.NAME: good, second: bomb},
            {"images": [archives.entry(good), archives.entry(bomb, second)]},
        )
    )

    status, out, err = command("import_shelf", str(path), capsys=capsys)

    assert status == 2 and "1 image(s) failed their checks" in err
    assert f"{archives.NAME}: checked" in out and f"{second}: refused" in out
    assert list(Image.objects.values_list("sha256", flat=True)) == [
        hashlib.sha256(good).hexdigest()
    ]
    assert "Stored 1 image(s)" in out


def test_a_member_over_the_cap_from_image_max_edge_is_refused(settings, tmp_path, capsys):
    settings.IMAGE_MAX_EDGE = 8  # a cap of 320 bytes
    path = tmp_path / "big.zip"
    path.write_bytes(archives.one_image(noisy_png((32, 32))))

    status, _, err = command("import_shelf", str(path), capsys=capsys)

    assert status == 2 and "is over 320 bytes" in err
    assert not Image.objects.exists()


def test_a_missing_archive_exits_1(tmp_path, capsys):
    status, _, err = command("import_shelf", str(tmp_path / "nowhere.zip"), capsys=capsys)

    assert status == 1 and "nowhere.zip" in err


@pytest.mark.parametrize("name", ["export_shelf", "import_shelf"])
def test_local_media_on_a_one_off_dyno_is_refused_and_says_why(
    name, shelf, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("DYNO", "run.1234")
    path = tmp_path / "shelf.zip"

    status, _, err = command(name, str(path), capsys=capsys)

    assert status == 2 and "one-off dyno" in err and "admin" in err
    assert not path.exists() and Image.objects.count() == len(shelf)


def test_export_works_on_a_web_dyno(shelf, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("DYNO", "web.1")

    status, out, _ = command("export_shelf", str(tmp_path / "shelf.zip"), capsys=capsys)

    assert status == 0 and "Exported 2 image(s)" in out


def test_the_admin_download_needs_the_export_permission(shelf, staff_client):
    response = staff_client.get("/admin/uploads/image/archive/")

    assert response.status_code == 403
    assert "You do not have permission to do that." in response.content.decode()  # signed in


def test_the_admin_download_streams_a_valid_archive(shelf, exporting_client):
    response = exporting_client.get("/admin/uploads/image/archive/")

    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as zipped:
        assert zipped.testzip() is None
        names = {entry["name"] for entry in json.loads(zipped.read("manifest.json"))["images"]}
    assert names == {image.file.name for image in shelf}


def test_the_image_list_offers_the_download_to_those_who_may_export(exporting_client):
    response = exporting_client.get("/admin/uploads/image/")

    assert b"/admin/uploads/image/archive/" in response.content


@pytest.mark.parametrize(
    ("codename", "link"),
    [
        ("export_image", "/admin/uploads/image/archive/"),
        ("export_image", "/admin/uploads/image/export/"),
        ("delete_image", "/admin/uploads/image/delete-all/"),
        ("import_image", "/admin/uploads/image/import/"),
    ],
)
def test_staff_who_may_not_add_still_get_the_buttons_they_may_use(
    client, django_user_model, codename, link
):
    user = django_user_model.objects.create_user(username="keeper", is_staff=True)
    codenames = ["view_image", codename]
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)

    html = client.get("/admin/uploads/image/").content.decode()

    assert f'href="{link}' in html or f"href='{link}'" in html
    assert "/admin/uploads/image/bulk-upload/" not in html


def test_the_image_list_offers_no_download_to_staff_who_may_not_export(staff_client):
    response = staff_client.get("/admin/uploads/image/")

    assert response.status_code == 200
    assert b"/admin/uploads/image/archive/" not in response.content


@pytest.mark.parametrize("name", ["export_shelf", "import_shelf"])
def test_the_help_documents_the_exit_statuses(name, capsys):
    status, out, _ = command(name, "--help", capsys=capsys)

    assert status == 0 and "Exit status: 0" in " ".join(out.split())


def _names(count: int) -> list[str]:
    return [f"images/0b1e4f3c-0000-4000-8000-0000000001{index:02d}.png" for index in range(count)]


def _write(tmp_path, data: bytes):
    path = tmp_path / "shelf.zip"
    path.write_bytes(data)
    return str(path)


def test_an_archive_dated_in_the_future_does_not_pin_the_shelf(tmp_path, capsys):
    """An image dated in the future would keep every upload until then off the shelf, as
    older than the images the limit keeps: such an archive is refused."""
    names, data = _names(3), [distinct_png(50 + index) for index in range(3)]
    entries = [
        archives.entry(datum, name, uploaded_at=f"2099-01-0{index + 1}T00:00:00+00:00")
        for index, (name, datum) in enumerate(zip(names, data, strict=True))
    ]
    path = _write(
        tmp_path, archives.archive(dict(zip(names, data, strict=True)), {"images": entries})
    )
    command("import_shelf", path, capsys=capsys)

    fresh = services.image_ingest(upload_file(distinct_png(99)), description="A new photo.")

    assert Image.objects.on_shelf().filter(pk=fresh.pk).exists()


def test_a_date_out_of_range_refuses_the_archive_whole_without_a_traceback(tmp_path, capsys, files):
    """A valid ISO date whose UTC value is out of range ("0001-01-01T00:00:00+05:00") is
    refused with the manifest, before anything is stored; never a traceback halfway."""
    names, data = _names(3), [distinct_png(60 + index) for index in range(3)]
    entries = [archives.entry(datum, name) for name, datum in zip(names, data, strict=True)]
    entries[-1]["uploaded_at"] = "0001-01-01T00:00:00+05:00"  # the oldest: restored last
    path = _write(
        tmp_path, archives.archive(dict(zip(names, data, strict=True)), {"images": entries})
    )

    try:
        status, out, err = command("import_shelf", path, capsys=capsys)
    except OverflowError as error:  # what manage.py prints as a traceback, exit 1
        status, err = 1, repr(error)

    assert status == 2, err
    assert Image.objects.count() == 0
    assert files() == []


def test_an_imported_image_carries_no_location_or_other_metadata(tmp_path, capsys, media_root):
    """Stored images carry no metadata (EXIF, GPS, XMP, IPTC, ICC, comments) and are
    upright: an archive's image, stored as it is, must already be so."""
    exif = PILImage.Exif()
    exif[0x0112] = 6  # orientation: rotate 90°
    exif[0x010F] = "SecretCam"
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    buffer = io.BytesIO()
    PILImage.new("RGB", (80, 40), (10, 200, 30)).save(buffer, "JPEG", exif=exif)
    name = "images/0b1e4f3c-0000-4000-8000-000000000003.jpg"
    path = _write(tmp_path, archives.archive({name: buffer.getvalue()}))

    command("import_shelf", path, capsys=capsys)

    for stored in stored_files(media_root):
        if stored.startswith("images/"):
            with PILImage.open(media_root / stored) as img:
                assert not img.getexif(), stored


def test_an_archive_description_of_whitespace_needs_a_description(tmp_path, capsys):
    """Every door strips a description, so whitespace "needs a description"; so does an
    archive."""
    path = _write(tmp_path, archives.one_image(description="   \n\t "))

    command("import_shelf", path, capsys=capsys)

    assert Image.objects.get().description == ""
