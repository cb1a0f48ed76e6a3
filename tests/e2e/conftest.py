"""Browser fixtures: Debian's Chromium, driven by Playwright, against pytest-django's live_server.

Without /usr/bin/chromium (or axe-core) the browser tests are skipped with a hint; with the
CI environment variable set they fail instead, and so does any other skip: CI must not pass
with browser tests that did not run.

    npm install --no-save --prefix tests/e2e axe-core@4.14.1
    .venv/bin/python -m pytest -m e2e                       # E2E_CHROMIUM=<path> to point elsewhere
    E2E_SCREENSHOTS=docs/screenshots .venv/bin/python -m pytest -m e2e   # and save the PNGs
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from uploads.models import Image
from uploads.shelf import services
from uploads.tests.factories import upload_file

from .scenery import SCENES, Scene, landscape
from .support import AXE_VERSION, BrowserGuard, Screenshots

HERE = Path(__file__).resolve().parent
# Debian's Chromium: `apt-get install -y chromium`. Never a browser that Playwright downloads.
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_PATH = HERE / "node_modules" / "axe-core" / "axe.min.js"
AXE_INSTALL = f"npm install --no-save --prefix tests/e2e axe-core@{AXE_VERSION}"
DESKTOP = {"width": 1440, "height": 900}
PASSWORD = "shelf-password-1"
# Problems in third-party pages (Django's admin): listed at the end of the run, not failed.
FINDINGS = pytest.StashKey[dict[str, set[str]]]()


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def unavailable(reason: str, hint: str) -> None:
    """Skip on a developer's machine; fail in CI, where a skipped browser test hides a gap."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so this fails instead of skipping). {hint}")
    pytest.skip(f"{reason}. {hint}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI, a browser test that skipped for any reason is reported as a failure."""
    report = yield
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"e2e test skipped in CI: {call.excinfo.value if call.excinfo else ''}"
    return report


# --- The browser ------------------------------------------------------------


@pytest.fixture(scope="session")
def _allow_orm_beside_playwright() -> Iterator[None]:
    """Playwright's sync API runs an event loop in this thread; Django would refuse the ORM."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield


@pytest.fixture(scope="session")
def browser(_allow_orm_beside_playwright):
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        unavailable(
            f"Chromium is not installed at {CHROMIUM}",
            "Install Debian's Chromium to run the browser tests: apt-get install -y chromium",
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    if not AXE_PATH.is_file():
        unavailable(f"axe-core is not installed at {AXE_PATH}", f"Install it: {AXE_INSTALL}")
    package = (AXE_PATH.parent / "package.json").read_text()
    if f'"version": "{AXE_VERSION}"' not in package:
        pytest.fail(f"axe-core is not version {AXE_VERSION}. Reinstall it: {AXE_INSTALL}")
    return AXE_PATH.read_text()


def pytest_terminal_summary(terminalreporter, config) -> None:
    for title, lines in sorted(config.stash.get(FINDINGS, {}).items()):
        terminalreporter.section(title)
        for line in sorted(lines):
            terminalreporter.write_line(line)


@pytest.fixture
def record_finding(request):
    """Notes a third-party problem under a heading for the end-of-run summary."""
    findings = request.config.stash.setdefault(FINDINGS, {})
    return lambda title, line: findings.setdefault(title, set()).add(line)


@pytest.fixture
def open_page(browser, live_server, record_finding) -> Iterator:
    """Opens pages in fresh browser contexts; each context is watched by a BrowserGuard."""
    contexts = []

    def open_page(*, viewport=None, color_scheme="light", **options):
        context = browser.new_context(
            base_url=live_server.url,
            viewport=viewport or DESKTOP,
            color_scheme=color_scheme,
            **options,
        )
        context.set_default_timeout(10_000)
        guard = BrowserGuard(context, live_server.url)
        contexts.append((context, guard))
        page = context.new_page()
        page.guard = guard
        return page

    yield open_page
    problems = []
    for context, guard in contexts:
        problems.extend(guard.problems())
        for line in guard.known:
            record_finding("Known gaps in third-party pages (not failed)", line)
        context.close()
    assert not problems, "The browser saw problems:\n" + "\n".join(problems)


@pytest.fixture
def page(open_page):
    """A desktop-sized page (1440 px wide) in light mode."""
    return open_page()


@pytest.fixture
def screenshots() -> Screenshots:
    """Saves PNGs under $E2E_SCREENSHOTS when it is set (e.g. docs/screenshots)."""
    return Screenshots(os.environ.get("E2E_SCREENSHOTS"))


# --- People and pictures ----------------------------------------------------


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        username="curator", password=PASSWORD, is_staff=True, is_superuser=True
    )


@pytest.fixture
def scene_files(tmp_path) -> list[Path]:
    """Landscape JPEGs on disk, named after their titles, for the browser to upload."""
    folder = tmp_path / "pictures"
    folder.mkdir()
    paths = []
    for scene in SCENES:
        path = folder / scene.filename
        path.write_bytes(landscape(scene))
        paths.append(path)
    return paths


@pytest.fixture
def shelve():
    """Puts scenes on the shelf through the one ingest door, oldest first, each described
    by its title (its alt text, so a link's name)."""

    def shelve(scenes: list[Scene]) -> list[Image]:
        return [
            services.image_ingest(
                upload_file(landscape(scene), scene.filename),
                title=scene.title,
                description=scene.title,
            )
            for scene in scenes
        ]

    return shelve


@pytest.fixture
def three_on_the_shelf(shelve) -> list[Image]:
    return shelve(SCENES[:3])
