"""Exports while S3 is down: every row is still exported, its file's presence "unknown"."""

from __future__ import annotations

import csv
import io

import pytest

from uploads.admin.resources import UNKNOWN, ImageResource
from uploads.models import Image
from uploads.shelf import services
from uploads.tests.factories import distinct_png, upload_file

pytestmark = [pytest.mark.s3, pytest.mark.django_db(transaction=True)]

CSV = 0  # its place in the admin's export form


def ingest(index: int) -> Image:
    return services.image_ingest(upload_file(distinct_png(index)), user=None)


@pytest.fixture
def s3_down(bucket, s3_server) -> list[Image]:
    """Two images stored in the bucket, then the S3 server stopped (connections refused)."""
    images = [ingest(1), ingest(2)]
    s3_server.stop()
    return images


def test_the_resource_exports_unknown_while_s3_is_down(s3_down):
    dataset = ImageResource().export()

    assert sorted(dataset["file"]) == sorted(image.file.name for image in s3_down)
    assert dataset["file_present"] == [UNKNOWN, UNKNOWN]


def test_the_admin_export_answers_and_says_unknown_while_s3_is_down(s3_down, exporting_client):
    data = {"format": CSV, "resource": 0}
    data.update({f"imageresource_{name}": "on" for name in ImageResource().get_export_order()})

    response = exporting_client.post("/admin/uploads/image/export/", data)

    assert response.status_code == 200, response.content[:500]
    content = b"".join(response.streaming_content) if response.streaming else response.content
    rows = list(csv.DictReader(io.StringIO(content.decode())))
    assert sorted(row["file"] for row in rows) == sorted(image.file.name for image in s3_down)
    assert [row["file_present"] for row in rows] == [UNKNOWN, UNKNOWN]
