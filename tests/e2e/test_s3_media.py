"""Media in an S3-compatible store on a port of its own, over plain http (moto_server, as a
local MinIO would be): the public page's images load in Chromium and the CSP blocks none.

The app runs as a dyno does (the Procfile's gunicorn, production settings), so the policy
is the one config.settings builds from AWS_S3_ENDPOINT_URL, not one a test wrote.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.load.support import Client
from tests.processes import (
    S3_ACCESS_KEY,
    S3_REGION,
    S3_SECRET_KEY,
    Server,
    free_port,
    gunicorn,
    manage,
    moto_server,
    production_env,
    s3_client,
    stop,
)

from .conftest import DESKTOP
from .scenery import SCENES, landscape
from .support import BrowserGuard, broken_images

pytestmark = pytest.mark.e2e

# Every violation the page reports to itself, whatever the console says about it.
WATCH_CSP = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
    window.cspViolations.push(`${event.effectiveDirective} blocked ${event.blockedURI}`);
}, true);
"""
IMAGES_JS = """() => [...document.images].map((img) => ({
    src: img.currentSrc || img.src, complete: img.complete, naturalWidth: img.naturalWidth,
}))"""


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def moto(tmp_path) -> Iterator[str]:
    """An empty moto_server on a free port; yields its endpoint, http://127.0.0.1:<port>."""
    port = free_port()
    process = moto_server(port, tmp_path / "moto.log")
    yield f"http://127.0.0.1:{port}"
    stop(process, timeout=10)


@pytest.fixture
def dyno_on_s3(moto, tmp_path) -> Iterator[Server]:
    """The web dyno with media in a bucket on moto, reached only through AWS_* variables,
    and three photographs uploaded through the page (the one ingest door: thumbnails too)."""
    bucket = f"shelf-{uuid.uuid4().hex[:12]}"
    s3_client(moto).create_bucket(Bucket=bucket)
    env = production_env(
        tmp_path,
        AWS_STORAGE_BUCKET_NAME=bucket,
        AWS_S3_ENDPOINT_URL=moto,
        AWS_S3_REGION_NAME=S3_REGION,
        AWS_ACCESS_KEY_ID=S3_ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=S3_SECRET_KEY,
        PUBLIC_UPLOADS="open",  # the visitor below uploads without an account
        SECURE_SSL_REDIRECT="False",  # the browser speaks http to 127.0.0.1, as `make prod`
    )
    for command in (["migrate", "--noinput"], ["collectstatic", "--noinput"]):
        manage(env, *command, check=True)
    with gunicorn(env, "--workers", "1", log=tmp_path / "gunicorn.log") as server:
        visitor = Client(server.port)
        visitor.get("/")  # the form's CSRF cookie
        for scene in SCENES[:3]:
            response = visitor.upload(landscape(scene), scene.filename, scene.title)
            assert response.status == 303, response.body.decode(errors="replace")
        yield server


def test_images_in_a_bucket_on_an_http_endpoint_with_a_port_load_with_no_csp_violation(
    browser, dyno_on_s3, moto
):
    context = browser.new_context(base_url=dyno_on_s3.url, viewport=DESKTOP)
    context.set_default_timeout(10_000)
    guard = BrowserGuard(context, dyno_on_s3.url)
    messages: list[str] = []
    context.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
    media: list[tuple[int, str]] = []
    context.on(
        "response",
        lambda response: (
            response.url.startswith(f"{moto}/")
            and media.append((response.status, response.headers.get("content-type", "")))
        ),
    )
    context.add_init_script(WATCH_CSP)
    page = context.new_page()

    page.goto("/")
    broken = broken_images(page)
    images = page.evaluate(IMAGES_JS)
    violations = page.evaluate("() => window.cspViolations")
    context.close()

    photographs = [image for image in images if not image["src"].startswith(dyno_on_s3.url)]
    assert len(photographs) == 3, images  # beside the hero, served by the dyno
    assert broken == []
    assert all(image["complete"] and image["naturalWidth"] > 0 for image in images), images
    # Links at moto's own origin, port included: what the policy has to allow.
    assert {origin(image["src"]) for image in photographs} == {moto}
    assert media and all(status == 200 and kind.startswith("image/") for status, kind in media), (
        media
    )
    assert violations == []
    assert [text for text in messages if "Content Security Policy" in text or "CSP" in text] == []
    assert guard.console_errors == [] and guard.page_errors == []
    assert [url for url in guard.foreign_requests if not url.startswith(f"{moto}/")] == []
