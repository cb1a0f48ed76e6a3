"""Signed media links and the pages that carry them: a page reused, or kept by a browser
after a 304, never lists a link that expires while its ETag still holds."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from uploads.media import storage
from uploads.page import public_page
from uploads.shelf import services
from uploads.tests.factories import distinct_png, upload_file

pytestmark = [pytest.mark.s3, pytest.mark.django_db(transaction=True)]

EXPIRE = 600  # seconds a signed link lasts; the ETag changes every EXPIRE / 2


@pytest.fixture
def signed_links(bucket, settings, monkeypatch):
    """Links signed for EXPIRE seconds, pages reused for 2 s."""
    settings.STORAGES["default"]["OPTIONS"]["querystring_expire"] = EXPIRE
    settings.STORAGES = {**settings.STORAGES}  # rebuilds the media storage
    settings.PAGE_CACHE_SECONDS = 2
    monkeypatch.setattr(public_page, "_kept", None)
    return bucket


def expiries(html: str) -> list[float]:
    """When each signed link on the page stops working (query signatures, V2 or V4)."""
    times = []
    for link in re.findall(r'(?:src|href)="(https?://[^"]*Signature[^"]*)"', html):
        query = parse_qs(urlsplit(link.replace("&amp;", "&")).query)
        if "Expires" in query:
            times.append(float(query["Expires"][0]))
        else:
            date = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")
            times.append(date.replace(tzinfo=UTC).timestamp() + int(query["X-Amz-Expires"][0]))
    return times


def test_links_outlive_every_page_that_carries_them(client, signed_links):
    services.image_ingest(upload_file(distinct_png(1)), user=None)
    epoch_ends = (storage.signed_link_epoch(storage.media_storage()) + 1) * (EXPIRE // 2)

    first = client.get("/")
    reused = client.get("/")
    revalidated = client.get("/", HTTP_IF_NONE_MATCH=first["ETag"])

    links = expiries(first.content.decode())
    assert len(links) == 2  # the thumbnail and the full image
    assert reused.content == first.content and revalidated.status_code == 304
    # Good for another half lifetime after the last moment the page's ETag holds.
    assert min(links) >= epoch_ends + EXPIRE // 2 - 1


def test_the_etag_changes_when_the_links_epoch_passes(client, signed_links, monkeypatch):
    services.image_ingest(upload_file(distinct_png(1)), user=None)
    before = client.get("/")

    later = time.time() + EXPIRE // 2
    monkeypatch.setattr(storage.time, "time", lambda: later)
    monkeypatch.setattr(public_page, "_kept", None)  # the reuse window has passed too
    after = client.get("/", HTTP_IF_NONE_MATCH=before["ETag"])

    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
