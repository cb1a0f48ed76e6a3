"""Compressed HTML: the shared page gzipped once per rendering; pages with a CSRF token
through Django's GZipMiddleware; stored images as they are."""

from __future__ import annotations

import gzip
import re
from types import SimpleNamespace

import pytest

from uploads.page import shared
from uploads.shelf import services
from uploads.tests.factories import distinct_png, upload_file

pytestmark = pytest.mark.django_db

DECODE = {"gzip": gzip.decompress, None: lambda body: body}


@pytest.fixture
def reuse(settings, monkeypatch):
    """Visitors' pages reused, as in production; this process has kept none yet."""
    settings.PAGE_CACHE_SECONDS = 60
    monkeypatch.setattr(shared, "_kept", {})


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip, deflate, br, zstd", "gzip"),
        ("gzip", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("br", None),  # Brotli alone: the page as it is
        ("", None),
    ],
)
def test_the_shared_page_is_gzipped_when_the_browser_takes_gzip(client, accept, coding):
    services.image_ingest(upload_file(distinct_png(1)), user=None, title="shelved")
    plain = client.get("/", HTTP_ACCEPT_ENCODING="identity")

    response = client.get("/", HTTP_ACCEPT_ENCODING=accept)

    assert response.get("Content-Encoding") == coding
    assert DECODE[coding](response.content) == plain.content
    assert b"shelved" in plain.content
    assert "Accept-Encoding" in response["Vary"]


def test_every_coding_shares_one_weak_etag_and_revalidates_with_it(client):
    codings = ["gzip", "br", "identity"]

    etags = {client.get("/", HTTP_ACCEPT_ENCODING=coding)["ETag"] for coding in codings}

    (etag,) = etags
    assert etag.startswith('W/"')
    for coding in codings:
        repeat = client.get("/", HTTP_ACCEPT_ENCODING=coding, HTTP_IF_NONE_MATCH=etag)
        assert repeat.status_code == 304
        assert "Accept-Encoding" in repeat["Vary"]


def test_the_shared_page_is_compressed_once_not_per_request(client, reuse, monkeypatch):
    calls = []

    def compress(data, **options):
        calls.append(1)
        return gzip.compress(data, **options)

    monkeypatch.setattr(shared, "gzip", SimpleNamespace(compress=compress))

    answers = [client.get("/", HTTP_ACCEPT_ENCODING="gzip") for _ in range(5)]

    assert [answer.status_code for answer in answers] == [200] * 5
    assert [answer["Content-Encoding"] for answer in answers] == ["gzip"] * 5
    assert len(calls) == 1


def test_a_page_with_a_csrf_token_is_gzipped_with_breach_mitigations(admin_client):
    pages = [admin_client.get("/", HTTP_ACCEPT_ENCODING="gzip, br") for _ in range(2)]

    assert [page["Content-Encoding"] for page in pages] == ["gzip", "gzip"]
    assert pages[0].content != pages[1].content  # random bytes in each gzip header
    html = [gzip.decompress(page.content).decode() for page in pages]
    tokens = [re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', h).group(1) for h in html]
    assert tokens[0] != tokens[1]  # masked afresh for every response


def test_a_stored_image_is_not_compressed_again(client):
    image = services.image_ingest(upload_file(distinct_png(1, size=(900, 600))), user=None)

    response = client.get(f"/media/{image.thumbnails['avif-480']}", HTTP_ACCEPT_ENCODING="gzip")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/avif"
    assert not response.has_header("Content-Encoding")
