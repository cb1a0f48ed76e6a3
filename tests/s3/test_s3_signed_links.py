"""Signed media links and the pages that carry them: the page's ETag is computed from its
HTML, links included, so a page reused, or kept by a browser after a 304, lists links
signed at most PAGE_CACHE_SECONDS before, and links signed anew change the ETag."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from uploads.page import shared
from uploads.shelf import services
from uploads.tests.factories import distinct_png, upload_file

pytestmark = [pytest.mark.s3, pytest.mark.django_db(transaction=True)]

EXPIRE = 600  # seconds a signed link lasts
REUSE = 2  # seconds a process reuses its rendering (PAGE_CACHE_SECONDS)


@pytest.fixture
def signed_links(bucket, settings, monkeypatch):
    """Links signed for EXPIRE seconds, pages reused for REUSE seconds."""
    settings.STORAGES["default"]["OPTIONS"]["querystring_expire"] = EXPIRE
    settings.STORAGES = {**settings.STORAGES}  # rebuilds the media storage
    settings.PAGE_CACHE_SECONDS = REUSE
    monkeypatch.setattr(shared, "_kept", {})
    return bucket


def expiries(html: str) -> list[float]:
    """When each signed link on the page stops working (query signatures, V2 or V4)."""
    times = []
    for link in re.findall(r'(?:src|href|srcset)="(https?://[^" ]*Signature[^" ]*)', html):
        query = parse_qs(urlsplit(link.replace("&amp;", "&")).query)
        if "Expires" in query:
            times.append(float(query["Expires"][0]))
        else:
            date = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")
            times.append(date.replace(tzinfo=UTC).timestamp() + int(query["X-Amz-Expires"][0]))
    return times


def test_a_reused_or_revalidated_page_lists_links_good_for_their_lifetime(client, signed_links):
    services.image_ingest(upload_file(distinct_png(1)), user=None)

    first = client.get("/")
    reused = client.get("/")
    revalidated = client.get("/", HTTP_IF_NONE_MATCH=first["ETag"])
    asked = time.time()

    links = expiries(first.content.decode())
    # The full image's link, and the <img>'s and each <source>'s thumbnail.
    assert len(links) == 4
    assert reused.content == first.content and revalidated.status_code == 304
    # The browser keeps links that last a whole lifetime, less the reuse, from when the
    # ETag last held (and X-Amz-Date's whole seconds).
    assert min(links) >= asked + EXPIRE - REUSE - 1


def test_links_signed_anew_change_the_etag(client, signed_links, monkeypatch):
    services.image_ingest(upload_file(distinct_png(1)), user=None)
    before = client.get("/")
    time.sleep(1.1)  # X-Amz-Date counts whole seconds: the next signatures differ
    monkeypatch.setattr(shared, "_kept", {})  # the reuse window has passed

    after = client.get("/", HTTP_IF_NONE_MATCH=before["ETag"])

    assert after.status_code == 200
    assert after["ETag"] != before["ETag"]
    assert min(expiries(after.content.decode())) > max(expiries(before.content.decode()))
