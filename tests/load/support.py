"""What the load tests use on gunicorn (tests.processes starts it): clients and page checks."""

from __future__ import annotations

import http.client
import re
import time
import uuid
from dataclasses import dataclass
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

STAFF = ("loadtester", "load-test-password-7f3e1b9d")
IMAGE_LIMIT = 3


# The thumbnail that is the page's <img> source (Image.preview_name): the WebP 480 px wide.
PREVIEW = "webp-480"


def file_names(file: str, thumbnails: dict[str, str]) -> tuple[str, ...]:
    """A row's file names: the image, then its thumbnails, the page's <img> source first."""
    others = sorted(name for key, name in thumbnails.items() if key != PREVIEW)
    return (file, thumbnails.get(PREVIEW, ""), *others)


def vm_rss_kb(pid: int) -> int:
    """Resident memory now (VmRSS), in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


@dataclass(frozen=True)
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float


class Client:
    """One visitor: its own cookies, requests over HTTPS as Heroku's router forwards them."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.origin = f"https://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}

    def get(self, path: str, **headers: str) -> Response:
        return self.request("GET", path, headers=headers)

    def request(self, method: str, path: str, body: bytes = b"", headers=None) -> Response:
        headers = {"X-Forwarded-Proto": "https", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        started = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return Response(response.status, response.headers, data, time.perf_counter() - started)

    def post(self, path: str, body: bytes, content_type: str) -> Response:
        """A same-origin form post, with the CSRF token Django gave this visitor."""
        headers = {
            "Content-Type": content_type,
            "Origin": self.origin,
            "Referer": self.origin + "/",
            "X-CSRFToken": self.cookies.get("csrftoken", ""),
        }
        return self.request("POST", path, body=body, headers=headers)

    def log_in(self, username: str, password: str) -> None:
        """Through the admin's sign-in form, as a person would."""
        form = self.get("/admin/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.body)
        assert form.status == 200 and token, f"no sign-in form: {form.status}"
        fields = {
            "csrfmiddlewaretoken": token.group(1).decode(),
            "username": username,
            "password": password,
            "next": "/admin/",
        }
        answer = self.post(
            "/admin/login/", urlencode(fields).encode(), "application/x-www-form-urlencoded"
        )
        assert answer.status == 302 and "sessionid" in self.cookies, (
            f"sign-in failed: {answer.status}"
        )

    def upload(self, data: bytes, filename: str, title: str = "") -> Response:
        boundary = uuid.uuid4().hex
        disposition = f"--{boundary}\r\nContent-Disposition: form-data; name="
        parts = [
            f'{disposition}"title"\r\n\r\n{title}\r\n'.encode(),
            f'{disposition}"image"; filename="{filename}"\r\n'.encode(),
            b"Content-Type: image/jpeg\r\n\r\n",
            data,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
        return self.post("/images/", b"".join(parts), f"multipart/form-data; boundary={boundary}")


# --- The page, read strictly ------------------------------------------------

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


class PageParser(HTMLParser):
    """Collects <img> sources and fails on tags that do not nest: a torn or mixed page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.images: list[str] = []
        self.shelf_images: list[str] = []
        self.closed_html = False

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            src = dict(attrs).get("src", "")
            self.images.append(src)
            if "li" in self.open:
                self.shelf_images.append(src)
        if tag not in _VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            raise ValueError(f"</{tag}> closes <{self.open[-1] if self.open else 'nothing'}>")
        self.open.pop()
        self.closed_html = self.closed_html or tag == "html"


def parse_page(html: str) -> PageParser:
    """The page's structure, or ValueError when it is not a whole, well-nested document."""
    if not html.lstrip().lower().startswith("<!doctype html>"):
        raise ValueError("no doctype")
    parser = PageParser()
    parser.feed(html)
    parser.close()
    if parser.open or not parser.closed_html:
        raise ValueError(f"unclosed: {parser.open}")
    return parser


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[round(share * (len(ordered) - 1))] if ordered else 0.0
