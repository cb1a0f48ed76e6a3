"""A GET or HEAD never writes, for anyone, on any path of the public site: not a row, not
a file, not a session, even when files are missing."""

from __future__ import annotations

import os
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from uploads.models import Image
from uploads.shelf import services
from uploads.tests.factories import distinct_png, upload_file

pytestmark = pytest.mark.django_db

WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


@pytest.fixture
def shelf_with_gaps(media_root) -> list[Image]:
    """Three images: one whole, one without its file, one without its thumbnail."""
    images = [services.image_ingest(upload_file(distinct_png(i)), user=None) for i in range(3)]
    os.remove(media_root / images[1].file.name)
    os.remove(media_root / images[2].preview_name)
    return images


def visitor(client, django_user_model, who: str):
    if who == "anonymous":
        return client
    user = django_user_model.objects.create_user(
        username=who,
        password="shelf-password-1",
        is_staff=who in ("staff", "superuser"),
        is_superuser=who == "superuser",
    )
    client.force_login(user)
    if who == "superuser":  # with a message waiting, as after an upload
        client.post("/images/", {"image": upload_file(distinct_png(9))})
    return client


@pytest.mark.parametrize("method", ["get", "head"])
@pytest.mark.parametrize("who", ["anonymous", "signed-in", "staff", "superuser"])
def test_reads_write_nothing(client, django_user_model, shelf_with_gaps, files, who, method):
    client = visitor(client, django_user_model, who)
    whole, lost, _ = shelf_with_gaps
    paths = [
        "/",
        "/healthz",
        "/favicon.ico",
        "/images/",
        "/images/delete-all/",
        "/no/such/page/",
        f"/media/{whole.file.name}",
        f"/media/{lost.file.name}",
    ]
    rows, stored = list(Image.objects.order_by("pk")), files()

    with CaptureQueriesContext(connection) as queries:
        statuses = [getattr(client, method)(path).status_code for path in paths]

    assert statuses == [200, 200, 301, 405, 405, 404, 200, 404]
    assert [query["sql"] for query in queries if WRITE.match(query["sql"])] == []
    assert list(Image.objects.order_by("pk")) == rows
    assert files() == stored
