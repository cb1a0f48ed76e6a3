"""What the browser journeys share: a guard on every context, axe-core, screenshots, sign-in."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import BrowserContext, Page, expect

AXE_VERSION = "4.14.1"


@dataclass(frozen=True)
class KnownGap:
    """A console error that comes from a third party's pages, reported instead of failing."""

    pattern: str  # regular expression, matched against "message [source url]"
    pages: str  # regular expression for the path of the page it may appear on
    why: str


KNOWN_GAPS: list[KnownGap] = []  # none left: add one only with the reason it cannot be fixed


class BrowserGuard:
    """Collects console errors, uncaught page errors and requests that leave the live server."""

    def __init__(self, context: BrowserContext, base_url: str) -> None:
        self.origin = urlsplit(base_url).netloc
        self.console_errors: list[str] = []
        self.page_errors: list[str] = []
        self.foreign_requests: list[str] = []
        self.expected: list[re.Pattern] = []
        self.known: list[str] = []  # third-party gaps seen: reported, not failed
        context.on("console", self._on_console)
        context.on("weberror", lambda error: self.page_errors.append(str(error.error)))
        context.on("request", self._on_request)

    def expect_console_error(self, pattern: str) -> None:
        """A console error the journey provokes on purpose (matched as a regular expression)."""
        self.expected.append(re.compile(pattern))

    def _on_console(self, message) -> None:
        if message.type != "error":
            return
        text = f"{message.text} [{message.location.get('url', '')}]"
        page_path = urlsplit(message.page.url).path if message.page else ""
        if any(pattern.search(text) for pattern in self.expected):
            return
        for gap in KNOWN_GAPS:
            if re.search(gap.pattern, text) and re.search(gap.pages, page_path):
                self.known.append(f"{gap.why} (on {page_path})")
                return
        self.console_errors.append(f"{text} on {page_path}")

    def _on_request(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return  # not a network request
        if parts.netloc != self.origin:
            self.foreign_requests.append(request.url)

    def problems(self) -> list[str]:
        return (
            [f"console error: {text}" for text in self.console_errors]
            + [f"page error: {text}" for text in self.page_errors]
            + [f"request to another host: {url}" for url in self.foreign_requests]
        )


# --- Pages ------------------------------------------------------------------


def sign_in(page: Page, username: str, password: str) -> None:
    """Follow the page's "Sign in" link and use Django's admin login form, as a person would."""
    page.get_by_role("link", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/admin/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def admin_sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Manage the shelf")).to_be_visible()


def broken_images(page: Page) -> list[str]:
    """The sources of <img> elements that did not load; lazy ones are scrolled into view first."""
    images = page.locator("img")
    for index in range(images.count()):
        images.nth(index).scroll_into_view_if_needed()
    page.wait_for_function("() => [...document.images].every((img) => img.complete)")
    page.evaluate("() => window.scrollTo(0, 0)")
    return page.evaluate(
        "() => [...document.images].filter((img) => img.naturalWidth === 0)"
        ".map((img) => img.currentSrc || img.src)"
    )


def shelf_titles(page: Page) -> list[str]:
    """The captions' titles on the shelf, in page order."""
    return page.locator("main figure figcaption .shelf__title").all_inner_texts()


def has_horizontal_scroll(page: Page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")


# --- axe-core -----------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    targets: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        nodes = "; ".join(
            f"{target} {html[:120]}" for target, html in zip(self.targets, self.html, strict=True)
        )
        return f"{self.rule} ({self.impact}): {self.help} — {nodes}"


def axe_violations(page: Page, axe_source: str, within: str | None = None) -> list[Violation]:
    """Run axe-core's default rules (WCAG A/AA and best practices) on the page as it is now.

    axe is evaluated through the DevTools protocol, which the page's CSP does not govern,
    so the policy stays as strict as it is in production.
    """
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source)
    results = page.evaluate(
        """async (within) => {
            const results = await axe.run(within || document, {resultTypes: ['violations']});
            return results.violations.map((v) => ({
                rule: v.id, impact: v.impact, help: v.help,
                targets: v.nodes.map((n) => n.target.join(' ')),
                html: v.nodes.map((n) => n.html),
            }));
        }""",
        within,
    )
    return [Violation(**result) for result in results]


# --- Screenshots --------------------------------------------------------------


class Screenshots:
    """Writes full-page PNGs into a folder when one is configured; otherwise does nothing."""

    def __init__(self, folder: str | None) -> None:
        self.folder = Path(folder) if folder else None

    def save(self, page: Page, name: str) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        page.evaluate("() => document.activeElement && document.activeElement.blur()")
        page.screenshot(path=self.folder / f"{name}.png", full_page=True, animations="disabled")
