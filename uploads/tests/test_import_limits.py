"""Import: previews that leave nothing behind, and files beyond the caps refused unparsed."""

from __future__ import annotations

import io
import os
import time
import zipfile
from pathlib import Path

import pytest
from django.core.management import call_command
from import_export.formats import base_formats

from uploads.admin import import_limits
from uploads.tests.factories import upload_file
from uploads.tests.test_upload_gate import post_unread

pytestmark = pytest.mark.django_db

IMPORT = "/admin/uploads/image/import/"
FORMATS = {"csv": 0, "xlsx": 1, "json": 2}  # the admin's import_formats, in order


def preview(client, data: bytes, format_name: str = "csv"):
    return client.post(
        IMPORT,
        {
            "resource": 0,
            "format": FORMATS[format_name],
            "import_file": upload_file(data, f"titles.{format_name}", "application/octet-stream"),
        },
    )


def previews(media_root: Path) -> list[Path]:
    folder = media_root / "django-import-export"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def csv_rows(count: int) -> bytes:
    return ("id,title\n" + "".join(f"{n},Title {n}\n" for n in range(1, count + 1))).encode()


def test_an_abandoned_previews_file_is_gone_after_the_sweep(admin_client, media_root):
    assert preview(admin_client, b"id,title\n1,nobody confirms this\n").status_code == 200
    [left] = previews(media_root)
    an_hour_ago = time.time() - 3601
    os.utime(left, (an_hour_ago, an_hour_ago))
    output = io.StringIO()

    call_command("reconcile_media", stdout=output)

    assert previews(media_root) == []
    assert "Deleted 1 abandoned import preview file(s)" in output.getvalue()


def test_a_preview_in_progress_is_spared_by_the_sweep(admin_client, media_root):
    preview(admin_client, b"id,title\n1,still looking at it\n")

    call_command("reconcile_media", stdout=io.StringIO())

    assert len(previews(media_root)) == 1


@pytest.mark.parametrize(
    ("format_name", "data"),
    [
        pytest.param("csv", csv_rows(1001), id="csv"),
        pytest.param("csv", csv_rows(1001).replace(b"\n", b"\r"), id="csv ended by CR"),
        pytest.param("csv", csv_rows(1001).replace(b"\n", b"\r\n"), id="csv ended by CRLF"),
        pytest.param(
            "json",
            ("[" + ",".join(f'{{"id": {n}}}' for n in range(1001)) + "]").encode(),
            id="json",
        ),
    ],
)
def test_a_file_beyond_the_row_cap_is_refused_before_it_is_parsed(
    admin_client, media_root, monkeypatch, format_name, data
):
    def never(*args, **kwargs):
        raise AssertionError("the file was parsed")

    monkeypatch.setattr(base_formats.TablibFormat, "create_dataset", never)

    response = preview(admin_client, data, format_name)

    assert "This file has more than 1,000 rows; an import may have at most 1,000." in (
        response.content.decode()
    )
    assert response.context.get("confirm_form") is None
    assert previews(media_root) == []


def xlsx(rows: int, padding: int = 0) -> bytes:
    """A workbook with a header and `rows` rows, plus `padding` bytes of zeros inside it."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["id", "title"])
    for n in range(1, rows + 1):
        book.active.append([n, f"Title {n}"])
    buffer = io.BytesIO()
    book.save(buffer)
    if padding:
        with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("xl/media/padding.bin", bytes(padding))
    return buffer.getvalue()


def test_a_spreadsheet_beyond_the_row_cap_is_refused(admin_client):
    response = preview(admin_client, xlsx(1001), "xlsx")

    assert "This file has more than 1,000 rows" in response.content.decode()


def test_a_spreadsheet_that_unpacks_beyond_the_cap_is_refused(admin_client):
    bomb = xlsx(1, padding=30 * 1024 * 1024)  # about 30 KB as sent

    response = preview(admin_client, bomb, "xlsx")

    assert len(bomb) < import_limits.MAX_BYTES
    assert "This spreadsheet unpacks to 30.0 MB; the limit is 20 MB." in response.content.decode()


def test_a_file_beyond_the_byte_cap_is_refused(admin_client):
    data = b"id,title\n" + b"1," + b"x" * (3 * 1024 * 1024) + b"\n"

    response = preview(admin_client, data)

    assert import_limits.too_large_message(len(data)) in response.content.decode()


def test_a_body_larger_than_the_import_form_can_need_is_refused_unread(admin_client):
    response = post_unread(admin_client, IMPORT, 20 * 1024 * 1024)

    assert response.status_code == 413
    assert import_limits.too_large_message(20 * 1024 * 1024) in response.content.decode()


@pytest.mark.parametrize("format_name", ["csv", "xlsx"])
def test_a_file_at_the_row_cap_is_let_through(format_name):
    data = csv_rows(1000) if format_name == "csv" else xlsx(1000)

    import_limits.check_import_file(upload_file(data), format_name)
