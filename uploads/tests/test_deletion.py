"""The one deletion path under concurrency and refusal: reconcile racing a deletion, two
deletions at once, "Verify files" when storage holds nothing, and exports that cannot list
storage."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections.abc import Callable

import pytest
from django.contrib import messages
from django.db import connection, transaction
from openpyxl import load_workbook

from uploads.admin.resources import UNKNOWN, ImageResource
from uploads.media import reconcile as reconcile_module
from uploads.models import Image
from uploads.shelf import deletion, services
from uploads.tests.commands import reconcile
from uploads.tests.factories import distinct_png, upload_file

pytestmark = pytest.mark.django_db(transaction=True)

CHANGELIST = "/admin/uploads/image/"
EXPORT = "/admin/uploads/image/export/"


def ingest(index: int) -> Image:
    return services.image_ingest(upload_file(distinct_png(index)), title=f"n{index}")


def shelve(count: int, settings) -> list[Image]:
    """`count` images on the shelf, oldest first: the limit is raised while they arrive."""
    limit = settings.IMAGE_LIMIT
    settings.IMAGE_LIMIT = count
    images = [ingest(index) for index in range(count)]
    settings.IMAGE_LIMIT = limit
    return images


def stored(images) -> list[str]:
    return sorted(name for image in images for name in image.stored_names())


class Worker(threading.Thread):
    """Runs `work` in its own thread, so on its own database connection (closed at the end)."""

    def __init__(self, work: Callable[[], object]) -> None:
        super().__init__(daemon=True)
        self.work = work
        self.result: object = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.result = self.work()
        except BaseException as error:  # re-raised by outcome(), not lost in the thread
            self.error = error
        finally:
            connection.close()

    def outcome(self) -> object:
        """Wait for the work; return its result or raise its error."""
        self.join(timeout=60)
        assert not self.is_alive(), "the worker is still running after 60 s"
        if self.error is not None:
            raise self.error
        return self.result


def in_another_connection(work: Callable[[], object]) -> object:
    worker = Worker(work)
    worker.start()
    return worker.outcome()


def second_during_first(first: Callable[[], object], second: Callable[[], object]) -> tuple:
    """Run `first` in a transaction kept open a moment after it returns, and `second` from
    another connection meanwhile: it must wait for the shelf, not plan around the change.
    Returns both results."""
    first_done = threading.Event()

    def run_first() -> object:
        with transaction.atomic():
            result = first()
            first_done.set()
            # Uncommitted meanwhile: a `second` that chose its rows before taking the shelf
            # lock would choose them from what is about to change.
            time.sleep(0.5)
        return result

    def run_second() -> object:
        assert first_done.wait(timeout=30)
        return second()

    workers = [Worker(run_first), Worker(run_second)]
    for worker in workers:
        worker.start()
    return tuple(worker.outcome() for worker in workers)


# --- Reconcile and the limit ----------------------------------------------------


def test_reconcile_keeps_exactly_the_limit_when_the_newest_goes_after_rows_were_checked(
    settings, monkeypatch, capsys, files
):
    images = shelve(5, settings)
    check_rows = reconcile_module._check_rows

    def check_rows_then_lose_the_newest(*args, **kwargs):
        checked = check_rows(*args, **kwargs)
        # Another process (staff in the admin, say) deletes the newest image meanwhile.
        newest = Image.objects.filter(pk=images[4].pk)
        in_another_connection(lambda: deletion.images_delete(newest, reason="admin"))
        return checked

    monkeypatch.setattr(reconcile_module, "_check_rows", check_rows_then_lose_the_newest)

    status, out, _ = reconcile(capsys=capsys)

    kept = [images[3], images[2], images[1]]
    assert status == 0
    assert list(Image.objects.on_shelf()) == kept
    assert files() == stored(kept)
    assert f"Deleted 1 row(s) beyond the limit of 3: {images[0].file.name}" in out


def test_the_limit_waits_for_an_admin_deletion_and_keeps_the_newest_of_the_rest(settings, files):
    images = shelve(5, settings)
    newest = Image.objects.filter(pk=images[4].pk)

    admin, limit = second_during_first(
        lambda: deletion.images_delete(newest, reason="admin"), deletion.images_enforce_limit
    )

    kept = [images[3], images[2], images[1]]
    assert admin == [images[4]]
    assert limit == [images[0]]
    assert list(Image.objects.on_shelf()) == kept
    assert files() == stored(kept)


def test_a_limit_enforced_while_another_is_uncommitted_deletes_no_row_twice(settings, files):
    images = shelve(5, settings)

    first, second = second_during_first(
        deletion.images_enforce_limit, deletion.images_enforce_limit
    )

    kept = [images[4], images[3], images[2]]
    assert first == [images[1], images[0]]
    assert second == []
    assert list(Image.objects.on_shelf()) == kept
    assert files() == stored(kept)


# --- "Verify files" and reconcile when storage holds none of the files ----------------


def verify_files(client, images):
    data = {"action": "verify_files", "_selected_action": [image.pk for image in images]}
    response = client.post(CHANGELIST, data, follow=True)
    assert response.status_code == 200
    return [(message.level, str(message)) for message in response.context["messages"]]


def test_verify_files_and_reconcile_refuse_alike_when_no_file_is_in_storage(
    staff_client, media_root, files, capsys
):
    images = [ingest(1), ingest(2)]
    for name in files():
        (media_root / name).unlink()

    shown = verify_files(staff_client, images)
    status, _, err = reconcile(capsys=capsys)

    refusal = deletion.all_missing_message(2)
    assert shown == [(messages.ERROR, refusal)]
    assert status == 2
    assert refusal in err
    assert list(Image.objects.order_by("pk")) == images


def test_verify_files_removes_only_the_entries_whose_file_is_missing(
    staff_client, media_root, files
):
    kept, lost = ingest(1), ingest(2)
    (media_root / lost.file.name).unlink()

    shown = verify_files(staff_client, [kept, lost])

    assert shown == [
        (messages.WARNING, f"Removed 1 of 2 entries whose file was missing: {lost.file.name}")
    ]
    assert list(Image.objects.all()) == [kept]
    assert files() == stored([kept])


# --- Exports when storage cannot be listed ----------------------------------------


def csv_column(content: bytes) -> list:
    return [row["file_present"] for row in csv.DictReader(io.StringIO(content.decode()))]


def xlsx_column(content: bytes) -> list:
    header, *rows = load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True)
    return [row[header.index("file_present")] for row in rows]


def json_column(content: bytes) -> list:
    return [row["file_present"] for row in json.loads(content)]


@pytest.fixture
def media_root_gone(settings, tmp_path) -> list[Image]:
    """Two images stored, then MEDIA_ROOT pointed at a directory that does not exist."""
    images = [ingest(1), ingest(2)]
    settings.MEDIA_ROOT = str(tmp_path / "not-there")
    return images


@pytest.mark.parametrize(
    ("fmt", "column"),
    [(0, csv_column), (1, xlsx_column), (2, json_column)],  # the admin's export_formats
    ids=["csv", "xlsx", "json"],
)
def test_the_admin_export_says_unknown_when_media_root_is_missing(
    media_root_gone, exporting_client, fmt, column
):
    data = {"format": fmt, "resource": 0}
    data.update({f"imageresource_{name}": "on" for name in ImageResource().get_export_order()})

    response = exporting_client.post(EXPORT, data)

    assert response.status_code == 200, response.content[:500]
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert column(content) == [UNKNOWN, UNKNOWN]


def test_the_resource_exports_unknown_when_media_root_is_missing(media_root_gone):
    dataset = ImageResource().export()

    assert dataset["file_present"] == [UNKNOWN, UNKNOWN]
