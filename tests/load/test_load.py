"""Load breaks nothing: gunicorn with production settings and Postgres, many clients at once.

Run with `pytest -m load -s` (the figures are printed); `make test` leaves these out.
"""

from __future__ import annotations

import io
import queue
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

from tests.load.support import (
    IMAGE_LIMIT,
    STAFF,
    Client,
    Response,
    file_names,
    parse_page,
    percentile,
    vm_rss_kb,
)

pytestmark = pytest.mark.load

READERS = 16
READ_SECONDS = 20
UPLOADERS = 8
UPLOADS = 50
# Concurrent uploads race to trim the shelf: that is what the advisory lock is for.
BURST_EVERY = (READ_SECONDS - 2) / -(-UPLOADS // UPLOADERS)
HERO = re.compile(r"/static/img/hero\.[0-9a-f]{12}\.svg")


def photo(size: tuple[int, int]) -> Image.Image:
    """Busy at every scale, as a photo is: a gradient with coarse and fine noise."""
    gradient = Image.linear_gradient("L").resize(size)
    coarse = Image.effect_noise((size[0] // 5, size[1] // 5), 48).resize(
        size, Image.Resampling.BICUBIC
    )
    fine = Image.effect_noise(size, 24)
    return Image.merge(
        "RGB",
        (
            Image.blend(gradient, coarse, 0.5),
            Image.blend(coarse, fine, 0.3),
            gradient.transpose(Image.Transpose.ROTATE_180),
        ),
    )


def variant(base: Image.Image, index: int) -> bytes:
    """The base photo with a small square that only this index has, as a JPEG (quality 90)."""
    x, y = (index * 16) % base.width, (index * 16 // base.width) * 16
    base.paste((index % 256, index * 7 % 256, index * 13 % 256), (x, y, x + 16, y + 16))
    buffer = io.BytesIO()
    base.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def shelf_rows(database) -> list[tuple[str, ...]]:
    """Each row's file names: the image, then its thumbnails (the page's <img> source first)."""
    with database.cursor() as cursor:
        cursor.execute("SELECT file, thumbnails FROM uploads_image ORDER BY id")
        return [file_names(file, thumbnails) for file, thumbnails in cursor.fetchall()]


def ever_stored(database) -> set[str]:
    """Media URLs of every file a committed row ever named."""
    with database.cursor() as cursor:
        cursor.execute("SELECT name FROM load_shelf_history")
        return {f"/media/{name}" for (name,) in cursor.fetchall() if name}


def stored_files(media: Path) -> set[str]:
    return {
        f"{folder}/{path.name}"
        for folder in ("images", "thumbs")
        if (media / folder).is_dir()
        for path in (media / folder).iterdir()
    }


def settled_shelf(database, media: Path, timeout: float = 15) -> tuple[list, set[str]]:
    """Rows and files once the post-commit deletions have caught up (or the timeout passed)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = shelf_rows(database)
        files = stored_files(media)
        if files == {name for row in rows for name in row if name} or time.monotonic() > deadline:
            return rows, files
        time.sleep(0.2)


def test_uploads_while_many_read_leave_a_consistent_shelf(gunicorn, production, database):
    server = gunicorn("--workers", "4")
    uploaders = [Client(server.port) for _ in range(UPLOADERS)]
    with ThreadPoolExecutor(UPLOADERS) as pool:  # each signs in once, through the admin form
        list(pool.map(lambda client: client.log_in(*STAFF), uploaders))
    slots: queue.Queue[int] = queue.Queue()
    for index in range(UPLOADS):
        slots.put(index)
    reads: list[tuple[Response, str]] = []  # (response, problem or "")
    shown: set[str] = set()
    uploads: list[Response] = []
    lock = threading.Lock()
    started = time.monotonic()
    deadline = started + READ_SECONDS

    def read(conditional: bool) -> None:
        """A visitor reloading the page; half of them revalidate with the last ETag."""
        client, etag = Client(server.port), None
        while time.monotonic() < deadline:
            headers = {"If-None-Match": etag} if conditional and etag else {}
            response = client.get("/", **headers)
            problem, sources = check_page(response)
            if response.status == 200:
                etag = response.headers["ETag"]
            with lock:
                reads.append((response, problem))
                shown.update(sources)

    def upload(client: Client) -> None:
        """Takes the next of the 50 uploads: bursts of 8 at once, spread over the reading time."""
        base = photo((1600, 1200))
        while True:
            try:
                index = slots.get_nowait()
            except queue.Empty:
                return
            due = started + (index // UPLOADERS) * BURST_EVERY
            time.sleep(max(0.0, due - time.monotonic()))
            response = client.upload(variant(base, index), f"load-{index}.jpg", f"Load {index}")
            with lock:
                uploads.append(response)

    threads = [threading.Thread(target=read, args=(n % 2 == 0,)) for n in range(READERS)]
    threads += [threading.Thread(target=upload, args=(client,)) for client in uploaders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    media = Path(production["MEDIA_ROOT"])
    rows, files = settled_shelf(database, media)
    history = ever_stored(database)

    statuses = [response.status for response, _ in reads] + [r.status for r in uploads]
    accepted = [r for r in uploads if r.status == 303]
    on_shelf = {src for src in shown if not HERO.fullmatch(src)}
    read_times = [response.seconds for response, _ in reads]
    upload_times = [r.seconds for r in uploads]
    final_page = visitors_see(server.port, {f"/media/{row[1]}" for row in rows})
    print(
        f"\nload: {READERS} readers for {READ_SECONDS} s and {UPLOADERS} uploaders"
        f" ({UPLOADS} JPEGs of 1600 x 1200) on the web dyno's gunicorn, 4 workers,"
        f" in {elapsed:.1f} s"
        f"\n  page requests: {len(reads)} ({len(reads) / elapsed:.0f}/s),"
        f" {sum(s == 200 for s in statuses[: len(reads)])} x 200,"
        f" {sum(s == 304 for s in statuses[: len(reads)])} x 304;"
        f" p50 {percentile(read_times, 0.5) * 1000:.0f} ms,"
        f" p99 {percentile(read_times, 0.99) * 1000:.0f} ms"
        f"\n  uploads accepted: {len(accepted)} of {len(uploads)};"
        f" p50 {percentile(upload_times, 0.5) * 1000:.0f} ms,"
        f" p99 {percentile(upload_times, 0.99) * 1000:.0f} ms"
        f"\n  pages showed {len(on_shelf)} different image URLs besides the hero;"
        f" {sum(name.startswith('/media/images/') for name in history)} images were stored in all"
        f"\n  at the end: {len(rows)} rows, {len(files)} files under images/ and thumbs/"
    )
    assert [s for s in statuses if s >= 500] == []
    assert [problem for _, problem in reads if problem] == []
    assert len(accepted) == UPLOADS
    assert len(rows) == IMAGE_LIMIT
    assert files == {name for row in rows for name in row if name}
    assert len(files) == 7 * IMAGE_LIMIT  # each image and its six thumbnails
    assert on_shelf and on_shelf <= history  # images were shown, and only stored ones
    assert final_page == "", final_page
    assert "Traceback" not in server.log_text()


def visitors_see(port: int, thumbnails: set[str], within: float = 5) -> str:
    """ "" once every worker shows visitors exactly these thumbnails (each reuses its page
    for PAGE_CACHE_SECONDS, 2 s), else what it showed.

    Each request is a new connection, so the four workers all answer some of them.
    """
    deadline = time.monotonic() + within
    while True:
        pages = [Client(port).get("/").body.decode() for _ in range(12)]
        shown = [set(parse_page(html).shelf_images) for html in pages]
        if all(images == thumbnails for images in shown):
            return ""
        if time.monotonic() > deadline:
            wrong = next(images for images in shown if images != thumbnails)
            return f"a visitor's page showed {sorted(wrong)}, not {sorted(thumbnails)}"
        time.sleep(0.2)


def check_page(response: Response) -> tuple[str, set[str]]:
    """What is wrong with one answer for the public page ("" if nothing), and its images."""
    if response.status == 304:
        return ("" if not response.body else "a 304 with a body"), set()
    if response.status != 200:
        return f"status {response.status}", set()
    html = response.body.decode()
    if "Traceback" in html:
        return "traceback text on the page", set()
    try:
        page = parse_page(html)
    except ValueError as error:
        return f"malformed page: {error}", set()
    if len(page.shelf_images) > IMAGE_LIMIT:
        return f"{len(page.shelf_images)} images on the shelf", set(page.images)
    return "", set(page.images)


INGESTS = 200  # a leak of 200 KB or more per ingest shows within 150 after the first 50


def test_a_worker_does_not_grow_over_200_ingests(gunicorn):
    # One thread: each of a worker's threads keeps its own working memory, so with five the
    # figure steps up whenever a thread is first used, which would hide what this measures.
    server = gunicorn("--workers", "1", "--threads", "1", "--max-requests", "0")
    [worker] = server.workers()
    client = Client(server.port)
    client.log_in(*STAFF)
    photos: queue.Queue[bytes] = queue.Queue(maxsize=4)

    def make_photos() -> None:
        """Encodes the next 12 MP JPEG while the server ingests the last one."""
        base = photo((4000, 3000))
        for index in range(INGESTS):
            photos.put(variant(base, index))

    threading.Thread(target=make_photos, daemon=True).start()
    statuses, after = [], {}
    started = time.monotonic()
    for count in range(1, INGESTS + 1):
        statuses.append(client.upload(photos.get(timeout=60), f"memory-{count}.jpg").status)
        if count in (50, INGESTS):
            after[count] = vm_rss_kb(worker)
    elapsed = time.monotonic() - started
    growth = (after[INGESTS] - after[50]) / after[50]

    print(
        f"\nmemory: one worker, one thread, {INGESTS} ingests of 4000 x 3000 JPEGs in "
        f"{elapsed:.0f} s ({elapsed / INGESTS * 1000:.0f} ms each)"
        f"\n  VmRSS after 50: {after[50] / 1024:.1f} MB, after {INGESTS}: "
        f"{after[INGESTS] / 1024:.1f} MB,"
        f" growth {growth:+.1%} (at most +20 %)"
    )
    assert server.workers() == [worker]  # the same process all along: no restart hid a leak
    assert statuses == [303] * INGESTS
    assert growth <= 0.20
