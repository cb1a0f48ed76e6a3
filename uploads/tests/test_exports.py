"""Exports from the admin: every column, and cells that no spreadsheet will run as formulae."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from uploads.admin.resources import ImageResource
from uploads.models import Image
from uploads.shelf import services
from uploads.tests.factories import distinct_png, upload_file

pytestmark = pytest.mark.django_db

CSV, XLSX, JSON = 0, 1, 2  # their places in the admin's export form
# Titles a spreadsheet would run: each character that starts a formula, and the issue's
# doubled "=", which survived an escaping that stripped one.
FORMULAE = [
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(A1:A2)",
    "\t=1+1",
    "\r=1+1",
    '==HYPERLINK("http://example.com/","x")',
]


def shelve(title: str) -> Image:
    """An image with exactly this title (ingest strips titles; imports and edits may not)."""
    image = services.image_ingest(upload_file(distinct_png(1)), user=None)
    Image.objects.filter(pk=image.pk).update(title=title)
    return Image.objects.get(pk=image.pk)


def export(client, fmt: int) -> bytes:
    data = {"format": fmt, "resource": 0}
    data.update({f"imageresource_{name}": "on" for name in ImageResource().get_export_order()})
    response = client.post("/admin/uploads/image/export/", data)
    assert response.status_code == 200, response.content[:500]
    return b"".join(response.streaming_content) if response.streaming else response.content


def csv_rows(client) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(export(client, CSV).decode(), newline="")))


def test_csv_export_lists_every_column(admin_client):
    image = shelve("garden")

    (row,) = csv_rows(admin_client)

    assert list(row) == [
        "id", "title", "file", "thumbnail", "width", "height", "size_bytes", "format",
        "sha256", "uploaded_at", "uploaded_by", "file_present",
    ]  # fmt: skip
    assert row["title"] == "garden"
    assert (row["file"], row["thumbnail"], row["width"], row["height"]) == (
        image.file.name, image.preview_name, "64", "48",
    )  # fmt: skip
    assert row["file_present"] == "True"


@pytest.mark.parametrize("title", FORMULAE)
def test_csv_export_prefixes_every_cell_that_could_run_as_a_formula(admin_client, title):
    shelve(title)

    (row,) = csv_rows(admin_client)

    assert row["title"] == "'" + title


@pytest.mark.parametrize("title", FORMULAE)
def test_xlsx_export_writes_such_cells_as_text_prefixed_with_a_quote(admin_client, title):
    shelve(title)

    sheet = load_workbook(io.BytesIO(export(admin_client, XLSX))).active

    cell = sheet["B2"]
    # XML reads a carriage return back as a line feed.
    expected = "'" + title.replace("\r", "\n")
    assert (sheet["B1"].value, cell.value, cell.data_type) == ("title", expected, "s")


@pytest.mark.parametrize("title", FORMULAE)
def test_json_export_keeps_titles_as_they_are(admin_client, title):
    shelve(title)

    rows = json.loads(export(admin_client, JSON))

    assert rows[0]["title"] == title
