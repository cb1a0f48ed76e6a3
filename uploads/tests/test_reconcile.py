"""manage.py reconcile_media on local storage: each category, dry runs, JSON, exit codes."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError, transaction

from uploads.media.storage import StorageMisconfigured, StorageUnavailable
from uploads.models import Image
from uploads.shelf import ownership, services
from uploads.tests.commands import reconcile
from uploads.tests.factories import distinct_png, upload_file

pytestmark = pytest.mark.django_db(transaction=True)


def ingest(index: int) -> Image:
    return services.image_ingest(upload_file(distinct_png(index)), user=None)


def age(path, minutes: int = 60) -> None:
    """Make a file look older than the orphan grace period."""
    old = time.time() - minutes * 60
    os.utime(path, (old, old))


def write_orphan(media_root, name: str = "images/00000000-0000-4000-8000-000000000000.jpg"):
    path = media_root / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(b"left behind")
    age(path)
    return name


def test_a_consistent_shelf_needs_nothing(capsys):
    ingest(1)

    status, out, _ = reconcile(capsys=capsys)

    assert status == 0
    assert "Listed 3 files under images/ and thumbs/; checked 1 rows." in out
    assert "Nothing to repair: rows and files agree." in out


def test_dry_run_reports_a_missing_image_and_changes_nothing(media_root, capsys, files):
    image = ingest(1)
    ingest(2)  # one file still there: storage is the right place (see AllFilesMissing)
    os.remove(media_root / image.file.name)
    before = files()

    status, out, _ = reconcile("--dry-run", capsys=capsys)

    assert status == 0
    assert f"Would delete 1 row(s) whose image file is missing: {image.file.name}" in out
    assert "Dry run: nothing was changed." in out
    assert Image.objects.count() == 2
    assert files() == before


def test_a_row_whose_image_is_missing_is_deleted_with_its_thumbnail(media_root, capsys, files):
    kept, lost = ingest(1), ingest(2)
    os.remove(media_root / lost.file.name)

    status, out, _ = reconcile(capsys=capsys)

    assert status == 0
    assert f"Deleted 1 row(s) whose image file is missing: {lost.file.name}" in out
    assert list(Image.objects.all()) == [kept]
    assert files() == sorted(kept.stored_names())


def test_a_missing_thumbnail_is_reported_then_regenerated(media_root, capsys, files):
    image = ingest(1)
    os.remove(media_root / image.preview_name)

    dry_status, dry_out, _ = reconcile("--dry-run", capsys=capsys)
    status, out, _ = reconcile(capsys=capsys)

    assert (dry_status, status) == (0, 0)
    assert f"Would regenerate 1 missing thumbnail(s): {image.file.name}" in dry_out
    assert f"Regenerated 1 missing thumbnail(s): {image.file.name}" in out
    image.refresh_from_db()
    assert image.preview_name.startswith("thumbs/")
    assert (media_root / image.preview_name).exists()
    assert files() == sorted(image.stored_names())


def test_an_orphan_file_is_reported_by_a_dry_run_and_deleted_by_a_real_run(media_root, capsys):
    ingest(1)
    orphan = write_orphan(media_root)

    dry_status, dry_out, _ = reconcile("--dry-run", capsys=capsys)
    assert (media_root / orphan).exists()
    status, out, _ = reconcile(capsys=capsys)

    assert (dry_status, status) == (0, 0)
    assert f"Would delete 1 unreferenced file(s): {orphan}" in dry_out
    assert f"Deleted 1 unreferenced file(s): {orphan}" in out
    assert not (media_root / orphan).exists()


def test_a_young_orphan_is_spared_as_a_possible_upload_in_flight(own_storage, media_root, capsys):
    orphan = write_orphan(media_root)
    age(media_root / orphan, minutes=1)

    status, out, _ = reconcile(capsys=capsys)

    assert status == 0
    assert "Spared 1 unreferenced file(s) younger than 15 minutes" in out
    assert (media_root / orphan).exists()


def test_orphan_grace_can_be_set_on_the_command_line(own_storage, media_root, capsys):
    orphan = write_orphan(media_root)
    age(media_root / orphan, minutes=1)

    reconcile("--orphan-grace", "0", capsys=capsys)

    assert not (media_root / orphan).exists()


def test_skip_orphans_leaves_unreferenced_files_alone(own_storage, media_root, capsys):
    orphan = write_orphan(media_root)

    status, out, _ = reconcile("--skip-orphans", capsys=capsys)

    assert status == 0
    assert "Nothing to repair" in out
    assert (media_root / orphan).exists()


def test_rows_beyond_the_limit_are_deleted_with_their_files(settings, capsys, files):
    settings.IMAGE_LIMIT = 10  # upload five without ingest trimming them
    images = [ingest(index) for index in range(5)]
    settings.IMAGE_LIMIT = 3

    dry_status, dry_out, _ = reconcile("--dry-run", capsys=capsys)
    assert Image.objects.count() == 5
    status, out, _ = reconcile(capsys=capsys)

    oldest = f"{images[1].file.name}, {images[0].file.name}"
    assert (dry_status, status) == (0, 0)
    assert f"Would delete 2 row(s) beyond the limit of 3: {oldest}" in dry_out
    assert f"Deleted 2 row(s) beyond the limit of 3: {oldest}" in out
    assert list(Image.objects.order_by("pk")) == images[2:]
    assert files() == sorted(n for i in images[2:] for n in i.stored_names())


def test_limit_on_the_command_line_overrides_image_limit(capsys):
    images = [ingest(index) for index in range(3)]

    status, out, _ = reconcile("--limit", "1", capsys=capsys)

    assert status == 0
    assert "Deleted 2 row(s) beyond the limit of 1" in out
    assert list(Image.objects.all()) == [images[2]]


def test_json_output_counts_and_names_every_category(media_root, capsys):
    missing = ingest(1)
    no_thumb = ingest(2)
    os.remove(media_root / missing.file.name)
    os.remove(media_root / no_thumb.preview_name)
    orphan = write_orphan(media_root)

    status, out, _ = reconcile("--dry-run", "--json", capsys=capsys)

    report = json.loads(out)
    assert status == 0
    assert report["dry_run"] is True
    assert report["limit"] == 3
    assert report["rows_checked"] == 2
    assert report["missing_image"] == {"count": 1, "names": [missing.file.name]}
    assert report["thumbnails_regenerated"] == {"count": 1, "names": [no_thumb.file.name]}
    assert report["orphans_deleted"] == {"count": 1, "names": [orphan]}
    assert report["beyond_limit"] == {"count": 0, "names": []}
    assert report["errors"] == []


def test_an_unreachable_storage_exits_2_and_deletes_nothing(media_root, capsys, monkeypatch):
    image = ingest(1)
    os.remove(media_root / image.file.name)

    def unreachable(prefix):
        raise StorageUnavailable("could not list 'images/': connection refused")

    monkeypatch.setattr("uploads.media.storage.list_files", unreachable)

    status, out, err = reconcile("--json", capsys=capsys)

    assert status == 2
    assert "Storage is unavailable; nothing was changed." in err
    assert json.loads(out)["error"].startswith("Storage is unavailable")
    assert Image.objects.filter(pk=image.pk).exists()


def test_a_database_error_exits_2_with_json_and_no_traceback(capsys, monkeypatch):
    def unreachable(**options):
        raise OperationalError("connection to the database refused")

    monkeypatch.setattr("uploads.management.commands.reconcile_media.media_reconcile", unreachable)

    status, out, err = reconcile("--json", capsys=capsys)

    assert status == 2
    assert json.loads(out) == {"dry_run": False, "error": "connection to the database refused"}
    assert "Traceback" not in err


def test_a_misconfigured_storage_exits_1(capsys, monkeypatch):
    def misconfigured(prefix):
        raise StorageMisconfigured("NoSuchBucket")

    monkeypatch.setattr("uploads.media.storage.list_files", misconfigured)

    status, _, err = reconcile(capsys=capsys)

    assert status == 1
    assert "Storage is misconfigured; nothing was changed." in err


@pytest.mark.parametrize(
    "arguments",
    [["--limit", "-1"], ["--orphan-grace", "nan"], ["--orphan-grace", "inf"], ["--limit", "abc"]],
    ids=["negative limit", "nan grace", "infinite grace", "not a number"],
)
def test_bad_arguments_exit_1_and_change_nothing(capsys, arguments):
    image = ingest(1)

    status, _, err = reconcile(*arguments, capsys=capsys)

    assert status == 1
    assert "must be" in err or "invalid" in err
    assert list(Image.objects.all()) == [image]


def test_bad_arguments_with_json_print_a_json_error(capsys):
    status, out, _ = reconcile("--json", "--limit", "-1", capsys=capsys)

    assert status == 1
    assert json.loads(out)["error"].startswith("--limit (and IMAGE_LIMIT) must be >= 0")


def test_files_of_a_rolled_back_upload_are_swept(own_storage, media_root, capsys, files):
    with pytest.raises(RuntimeError), transaction.atomic():
        ingest(1)
        raise RuntimeError("the request failed after the upload")
    assert Image.objects.count() == 0
    leftovers = files()
    assert len(leftovers) == 3  # the image, its AVIF and its WebP thumbnail
    for name in leftovers:
        age(media_root / name)

    status, out, _ = reconcile(capsys=capsys)

    assert status == 0
    assert "Deleted 3 unreferenced file(s)" in out
    assert files() == []


def test_progress_lines_go_to_stderr_at_verbosity_1_only(capsys):
    ingest(1)

    _, _, chatty = reconcile(capsys=capsys)
    _, _, quiet = reconcile("--verbosity", "0", capsys=capsys)

    assert "Listed 3 files so far." in chatty
    assert quiet == ""


def test_the_service_returns_a_report_usable_without_the_command():
    from uploads.media.reconcile import media_reconcile

    ingest(1)

    report = media_reconcile(dry_run=True)

    assert report.clean
    assert (report.rows_checked, report.files_listed) == (1, 3)


def test_an_image_stored_while_storage_is_listed_is_spared_whatever_its_date(media_root, files):
    """An archive's import keeps the archive's dates: a row is new by when it was inserted."""
    from uploads.media.reconcile import media_reconcile

    ingest(0)
    lines, stored = [], []

    def store_an_old_image_once_both_prefixes_are_listed(line: str) -> None:
        lines.append(line)
        if len(lines) == 2:  # after images/, then after thumbs/
            stored.append(ingest(1))
            Image.objects.filter(pk=stored[0].pk).update(
                uploaded_at=datetime(2020, 1, 1, tzinfo=UTC)
            )

    report = media_reconcile(progress=store_an_old_image_once_both_prefixes_are_listed)

    assert stored and report.missing_image == []
    assert Image.objects.count() == 2
    assert len(files()) == 2 * 3  # each image and its two thumbnails


def test_a_bad_limit_through_call_command_raises_command_error():
    with pytest.raises(CommandError):
        call_command("reconcile_media", "--limit", "-5")


def test_a_file_deleted_while_storage_is_listed_is_not_an_outage(media_root, monkeypatch):
    from uploads.media import storage

    kept = ingest(1)
    real_scandir = os.scandir

    class Vanished:
        name = "00000000-0000-4000-8000-00000000dead.jpg"

        def is_file(self):
            raise FileNotFoundError(self.name)

    class Listing:
        def __init__(self, path):
            self.entries = [Vanished(), *real_scandir(path)]

        def __iter__(self):
            return iter(self.entries)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(storage.os, "scandir", Listing)

    names = [stored.name for stored in storage.list_files("images/")]

    assert names == [kept.file.name]


def test_a_fifo_beside_the_images_is_neither_listed_nor_deleted(media_root, capsys):
    # Not a file the shelf wrote: as before, only regular files are listed, so reconcile
    # never counts one as an orphan and unlinks it.
    from uploads.media import storage

    kept = ingest(1)
    fifo = media_root / "images" / "00000000-0000-4000-8000-0000000000f1.jpg"
    os.mkfifo(fifo)

    names = [stored.name for stored in storage.list_files("images/")]
    reconcile("--orphan-grace", "0", capsys=capsys)

    assert names == [kept.file.name]
    assert fifo.exists()


# --- Storage that holds none of the rows' files --------------------------------


def empty_the_media_directory(media_root) -> None:
    for path in media_root.rglob("*.*"):
        if path.name != ownership.MARKER:  # still this deployment's storage
            path.unlink()


def remove_images_and_thumbs(media_root) -> None:
    import shutil

    shutil.rmtree(media_root / "images")
    shutil.rmtree(media_root / "thumbs")


@pytest.mark.parametrize("lose", [empty_the_media_directory, remove_images_and_thumbs])
def test_storage_holding_none_of_the_rows_files_stops_the_run(media_root, capsys, files, lose):
    images = [ingest(index) for index in range(2)]
    lose(media_root)
    orphan = write_orphan(media_root)  # perhaps another app's file, in the wrong place

    status, out, err = reconcile(capsys=capsys)

    assert status == 2
    assert f"None of the 2 image files checked is in {media_root}, so nothing was deleted" in err
    assert "--allow-all-missing" in err
    assert list(Image.objects.order_by("pk")) == images
    assert files() == [orphan]


def test_allow_all_missing_repairs_a_shelf_that_really_lost_every_file(media_root, capsys, files):
    ingest(1)
    empty_the_media_directory(media_root)

    status, out, _ = reconcile("--allow-all-missing", capsys=capsys)

    assert status == 0
    assert "Deleted 1 row(s) whose image file is missing" in out
    assert Image.objects.count() == 0


def test_a_media_root_that_does_not_exist_is_a_configuration_error(settings, capsys, tmp_path):
    ingest(1)
    settings.MEDIA_ROOT = str(tmp_path / "not-there")

    status, out, err = reconcile("--json", capsys=capsys)

    assert status == 1
    assert f"the media directory {tmp_path / 'not-there'} does not exist" in err
    assert json.loads(out)["error"].startswith("Storage is misconfigured")
    assert Image.objects.count() == 1


def test_a_media_root_that_is_a_file_is_a_configuration_error(settings, capsys, tmp_path):
    ingest(1)
    (tmp_path / "a-file").write_text("not a directory")
    settings.MEDIA_ROOT = str(tmp_path / "a-file")

    status, _, err = reconcile(capsys=capsys)

    assert status == 1
    assert "Storage is misconfigured; nothing was changed." in err
    assert Image.objects.count() == 1


def test_a_marker_beside_the_images_is_another_deployments_and_never_swept(
    own_storage, media_root, capsys
):
    """A deployment whose AWS_LOCATION (or MEDIA_ROOT) is our images/ keeps its marker there."""
    nested = write_orphan(media_root, f"images/{ownership.MARKER}")

    status, out, _ = reconcile("--orphan-grace", "0", capsys=capsys)

    assert status == 0
    assert (media_root / nested).exists()
    assert ownership.MARKER not in out


def test_an_image_that_cannot_be_read_is_named_and_the_rest_is_done(media_root, capsys, files):
    image, kept = ingest(1), ingest(2)
    (media_root / image.file.name).write_bytes(b"\x89PNG\r\n\x1a\n damaged")
    for name in [*image.thumbnails.values(), *kept.thumbnails.values()]:
        (media_root / name).unlink()

    status, _, err = reconcile(capsys=capsys)

    assert status == 2
    assert f"thumbnails for {image.file.name}:" in err
    assert "1 operation(s) failed, as listed above; the rest was done." in err
    assert all(
        (media_root / name).exists() for name in Image.objects.get(pk=kept.pk).thumbnails.values()
    )


def test_json_is_the_only_thing_on_stdout_in_dry_and_real_runs(tmp_path):
    """As `reconcile_media --json | python -m json.tool` reads it: audit lines go to stderr."""
    from tests.processes import manage, production_env

    env = production_env(tmp_path)
    manage(env, "migrate", "--noinput", check=True)
    manage(env, "shell", "-c", INGEST_AND_LOSE_A_THUMBNAIL, check=True)

    runs = [manage(env, "reconcile_media", "--json", *args) for args in (["--dry-run"], [])]

    assert [run.returncode for run in runs] == [0, 0]
    reports = [json.loads(run.stdout) for run in runs]
    assert [report["thumbnails_regenerated"]["count"] for report in reports] == [1, 1]
    assert "event=reconcile" in runs[1].stderr


INGEST_AND_LOSE_A_THUMBNAIL = """
from uploads.shelf import ownership, services
from uploads.tests.factories import distinct_png, upload_file
from django.core.files.storage import default_storage
image = services.image_ingest(upload_file(distinct_png(1)))
default_storage.delete(image.preview_name)
"""
