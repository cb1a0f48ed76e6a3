"""Public page benchmark: the page against the floor (one trivial view), under gunicorn.

    python bench/page.py [--duration 5] [--connections 16] [--rounds 5] [--python-load]
                         [--baseline REV]

Gunicorn servers run the Procfile's web command (gunicorn.conf.py, 2 workers each) with
config.settings.production (Postgres in a fresh database, WhiteNoise after collectstatic, a
temporary MEDIA_ROOT):

  page        config.urls, with three images on the shelf, ingested from generated 24 MP
              JPEGs through the app's upload service (image_ingest): each worker renders
              and gzips the visitors' page at most once per PAGE_CACHE_SECONDS (2) and
              answers from it in between
  baseline    with --baseline REV only: the same page server run from a temporary
              `git worktree` of REV (removed afterwards), with its own fresh database,
              media and static files and the same three photographs; this .venv runs it
              (it still holds what older revisions require). Page and baseline are
              measured one after the other in every round, in alternating order, so both
              see the same machine in the same minutes.
  staff       the page server again, signed in as staff: a page rendered for every request
              (the session, the user, the shelf, a stat per file, the form), printed beside
  floor       bench.floor_settings: the same settings and middleware, and a URLconf with
              one view that returns a small HttpResponse: what Django and gunicorn cost

All get the same load (wrk when it is installed, otherwise a Python load generator with
one thread per connection), anonymous, over "HTTPS" as Heroku's router forwards it
(X-Forwarded-Proto: https, so SECURE_SSL_REDIRECT stays on) and accepting compressed
answers as every browser does (Accept-Encoding: br, gzip; the app answers gzip),
alternating page and floor, on 16 keep-alive connections, as Heroku's router keeps them
open to a dyno. (A connection stays with the worker that accepted it: with only 4, now and
then all four went to one worker, and that run, page or floor, went at half the rate.)
Printed: requests/s, p50 and p99 latency, the workers' CPU time per request (from /proc:
less sensitive than requests/s to other work on the machine) and the busiest worker's
share of it (50 %: an even split; 100 %: one worker did everything), page/floor for 200
responses, with --baseline page/baseline in each round and their medians (requests/s and
worker CPU per request), the share of 304 answers to repeat requests (If-None-Match with
the page's ETag), and what a visit costs in Chromium (/usr/bin/chromium, through
Playwright) on a 390 px phone at DPR 3 and a 1,440 px desktop at DPR 2: every response's
bytes on the wire (headers and body, as Chromium counts them) for a first visit, and for a
repeat visit in the same browser (its cache keeps what it may), beside the figures of the
page before AVIF, srcset and compression (TODAY, measured with this bench on that code).

The shelf: three 24 MP JPEGs made by bench/photos.py (landscape, portrait, landscape),
whose thumbnails compress about as camera photos' do.

Goals: page/floor >= 0.9 for 200 responses (the staff page has none: it is printed for
comparison); against a baseline, no worse: the page's worker CPU per request at most
1.05x the baseline's (its requests/s, at least 0.95x, are printed beside); repeat visits
answered 304; a first visit at most 300 KB on a 1,440 px desktop at DPR 2, a repeat visit
at most 2 KB (1 KB = 1000 bytes).

Postgres: BENCH_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres) is
used to create, and afterwards drop, a database of our own.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

# Run as `python bench/page.py`, Python puts bench/ on sys.path: tests/ is at the root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.photos import save_photo  # noqa: E402
from tests.load.support import Client  # noqa: E402
from tests.processes import (  # noqa: E402
    ROOT,
    PostgresUnavailable,
    Server,
    free_port,
    parse_procfile,
    postgres_database,
    production_env,
    stop,
)

ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
SHAPES = [(6000, 4000), (4000, 6000), (6000, 4000)]  # landscape, portrait, landscape
STAFF = ("bench-curator", "bench-password-4d1c9a7e")
# As Heroku's router forwards a browser's request: over HTTPS, asking for compression.
BROWSER = {"X-Forwarded-Proto": "https", "Accept-Encoding": "br, gzip"}
# "No worse" than a baseline: the page's worker CPU per request within this share of the
# baseline's, a margin for the noise left in a median of rounds on a shared machine.
TOLERANCE = 0.05


# --- Setup: a tree, its database and settings, a shelf of three images ----------


@dataclass(frozen=True)
class Site:
    """One source tree made ready to serve: its settings and the shelf it will show."""

    name: str
    source: str  # "this checkout", or the baseline's revision and commit
    tree: Path
    env: dict[str, str]
    shelf: list[dict]
    ingest_seconds: float


@contextlib.contextmanager
def web_server(tree: Path, env: dict[str, str], log: Path) -> Iterator[Server]:
    """`tree`'s Procfile web command, run in `tree` as a dyno runs it (its gunicorn.conf.py,
    its app and nothing of this checkout's on sys.path), with 2 workers and a free PORT;
    yielded once /healthz answers, stopped on exit."""
    # tests.processes.gunicorn does the same, but only in this checkout.
    port = free_port()
    command = parse_procfile((tree / "Procfile").read_text())["web"]
    env = {
        **env,
        "PORT": str(port),
        "GUNICORN_CMD_ARGS": "--workers 2",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', os.defpath)}",
    }
    # A file, not a pipe: nobody reads a pipe while the server runs, and a full one blocks it.
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["bash", "-c", f"exec {command}"], cwd=tree, env=env, stdout=output, stderr=output
        )
    try:
        deadline = time.monotonic() + 30
        while fetch(port, "/healthz").status == 0:  # any answer will do
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"gunicorn in {tree} did not answer; its log:\n{log.read_text()}"
                )
            time.sleep(0.2)
        yield Server(port, process, log)
    finally:
        stop(process)


def make_photos(folder: Path) -> list[Path]:
    """The three generated 24 MP JPEGs every shelf holds (the same bytes for each tree)."""
    paths = []
    for index, size in enumerate(SHAPES, start=1):
        path = folder / f"photo-{index}.jpg"
        save_photo(path, size, seed=index)
        paths.append(path)
    return paths


def prepare(
    name: str, source: str, tree: Path, work: Path, database_url: str, photos: list[Path]
) -> Site:
    """Migrate, collect static files, add the staff account and fill the shelf, as `tree`
    does them, in `work` (its own media and static files) and `database_url`."""
    work.mkdir()
    # Every child (the ingest, the servers) imports config from the tree, bench from here.
    env = production_env(work, DATABASE_URL=database_url, PYTHONPATH=str(tree))
    # Nothing shared across processes, in any tree: an older baseline read a host's Redis.
    env.pop("REDIS_URL", None)
    manage_in(tree, env, "migrate", "--noinput")
    manage_in(tree, env, "collectstatic", "--noinput")
    manage_in(
        tree, {**env, "DJANGO_SUPERUSER_PASSWORD": STAFF[1]},
        "createsuperuser", "--noinput", "--username", STAFF[0], "--email", "bench@example.com",
    )  # fmt: skip
    started = time.perf_counter()
    shelf = fill_shelf(tree, env, photos)
    return Site(name, source, tree, env, shelf, time.perf_counter() - started)


def fill_shelf(tree: Path, env: dict[str, str], photos: list[Path]) -> list[dict]:
    """Ingest `photos` through `tree`'s upload service with a server's settings, in a child
    process; returns what was stored."""
    output = subprocess.run(
        [sys.executable, __file__, "--child-ingest", str(tree), *map(str, photos)],
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def manage_in(tree: Path, env: dict[str, str], *args: str) -> None:
    """manage.py of `tree` in its own process; a failure stops the bench, showing stderr."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode:
        raise RuntimeError(f"{tree}: manage.py {' '.join(args)} failed:\n{result.stderr}")


def child_ingest(tree: str, photos: list[str]) -> None:
    """Runs with the page server's environment: the shelf it will show."""
    sys.path.insert(0, tree)  # the tree's app, not this checkout's
    import django

    django.setup()
    from django.core.files import File

    try:
        from uploads.shelf import services
    except ModuleNotFoundError:  # a baseline from before the app's subpackages (ca691a7)
        from uploads import services

    stored = []
    for index, photo in enumerate(map(Path, photos), start=1):
        with photo.open("rb") as handle:
            image = services.image_ingest(
                File(handle, name=photo.name), user=None, title=f"Bench photo {index}"
            )
        stored.append({"source_bytes": photo.stat().st_size, "file": image.file.name})
    print(json.dumps(stored))


@contextlib.contextmanager
def worktree(rev: str, path: Path) -> Iterator[tuple[Path, str]]:
    """A checkout of `rev` at `path` (git worktree add), removed afterwards; yields it and
    the commit's short hash."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            raise SystemExit(f"git {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    commit = git("rev-parse", "--verify", "--short", f"{rev}^{{commit}}")
    git("worktree", "add", "--detach", "--quiet", str(path), commit)
    try:
        yield path, commit
    finally:
        git("worktree", "remove", "--force", str(path))


def worker_cpu_seconds(server: Server) -> dict[int, float]:
    """User + system CPU time of each of the server's workers so far (/proc/<pid>/stat)."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for worker in server.workers():
        fields = Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()
        seconds[worker] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return seconds


# --- One request, byte for byte ---------------------------------------------


@dataclass(frozen=True)
class Transfer:
    path: str
    status: int
    header_bytes: int  # status line and headers, with the blank line that ends them
    body_bytes: int
    headers: dict[str, str]
    body: bytes


def fetch(port: int, path: str, headers: dict[str, str] | None = None) -> Transfer:
    """One GET on its own connection; counts the response's bytes exactly as received."""
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in {**BROWSER, **(headers or {})}.items()]
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
            chunks = []
            while data := sock.recv(65536):
                chunks.append(data)
    except OSError:
        return Transfer(path, 0, 0, 0, {}, b"")
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    if not head:
        return Transfer(path, 0, 0, 0, {}, b"")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    parsed = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    return Transfer(path, int(status_line.split()[1]), len(head) + 4, len(body), parsed, body)


# --- Load -------------------------------------------------------------------

WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) statuses = {} end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local counts = {}
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[tostring(status)] = (counts[tostring(status)] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(counts) do table.insert(parts, string.format('"%s": %d', status, n)) end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout
  io.write(string.format(
    '\\nRESULT {"requests": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f, "errors": %d,'
    .. ' "statuses": {%s}}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, errors, table.concat(parts, ", ")))
end
"""


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: int
    statuses: dict[str, int]
    worker_cpu_s: float = 0.0  # CPU time the gunicorn workers spent during the run
    busiest_share: float = 0.0  # the busiest worker's part of it (0.5: an even split)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def ok_rate(self) -> float:
        """200 responses per second."""
        return self.rate * self.share(200)

    @property
    def cpu_ms_per_request(self) -> float:
        return self.worker_cpu_s * 1000 / max(1, self.requests)

    def share(self, status: int) -> float:
        return self.statuses.get(str(status), 0) / max(1, self.requests)


def load(
    server: Server, headers: dict[str, str], *, duration: float, connections: int, use_wrk: bool
) -> LoadResult:
    headers = {**BROWSER, **headers}  # as a browser asks: compressed, please
    generate = wrk_load if use_wrk else python_load
    before = worker_cpu_seconds(server)
    result = generate(server.port, headers, duration=duration, connections=connections)
    spent = [
        seconds - before.get(worker, 0.0) for worker, seconds in worker_cpu_seconds(server).items()
    ]
    total = sum(spent)
    return replace(result, worker_cpu_s=total, busiest_share=max(spent) / total if total else 0.0)


def wrk_load(port: int, headers: dict[str, str], *, duration: float, connections: int):
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(WRK_SCRIPT)
        script.flush()
        command = ["wrk", "--threads", "1", "--connections", str(connections)]
        command += ["--duration", f"{duration:g}s", "--timeout", "10s", "--script", script.name]
        for name, value in headers.items():
            command += ["--header", f"{name}: {value}"]
        output = subprocess.run(
            [*command, f"http://127.0.0.1:{port}/"], check=True, capture_output=True, text=True
        ).stdout
    result = json.loads(output.split("RESULT ", 1)[1])
    return LoadResult(**result)


def python_load(port: int, headers: dict[str, str], *, duration: float, connections: int):
    """One thread per connection, each sending requests back to back (keep-alive if allowed)."""
    deadline = time.monotonic() + duration
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    errors = 0
    lock = threading.Lock()

    def client() -> None:
        nonlocal errors
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        mine: list[float] = []
        seen: Counter[str] = Counter()
        failed = 0
        while (started := time.monotonic()) < deadline:
            try:
                connection.request("GET", "/", headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                failed += 1
                connection.close()
                continue
            mine.append(time.monotonic() - started)
            seen[str(response.status)] += 1
        connection.close()
        with lock:
            latencies.extend(mine)
            statuses.update(seen)
            errors += failed

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    latencies.sort()

    def percentile(q: float) -> float:
        return latencies[round(q * (len(latencies) - 1))] * 1000 if latencies else 0.0

    return LoadResult(
        len(latencies), seconds, percentile(0.50), percentile(0.99), errors, dict(statuses)
    )


# --- Page weight ------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
# (name, viewport width, height, device pixel ratio)
VISITORS = [("390 px phone, DPR 3", 390, 844, 3), ("1,440 px desktop, DPR 2", 1440, 900, 2)]
# The page before AVIF, srcset and compression (main at 00229a6: three 480 px WebP
# thumbnails, uncompressed HTML, a linked stylesheet), measured with this bench's visits and
# photos on 2026-12-02: bytes on the wire, the same at every screen.
TODAY = {"first": 36_100, "repeat": 776}


def browser_visits(port: int) -> list[tuple[str, list[tuple[str, int, str]], list]]:
    """(visitor, first visit's and repeat visit's responses as (path, bytes, status))."""
    from playwright.sync_api import sync_playwright

    visits = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--headless"])
        for name, width, height, ratio in VISITORS:
            context = browser.new_context(
                viewport={"width": width, "height": height},
                device_scale_factor=ratio,
                extra_http_headers={"X-Forwarded-Proto": "https"},
            )
            page = context.new_page()
            first = _visit(page, f"http://127.0.0.1:{port}/")
            page.goto("about:blank")  # then come back, as a visitor does (not a reload)
            repeat = _visit(page, f"http://127.0.0.1:{port}/")
            visits.append((name, first, repeat))
            context.close()
        browser.close()
    return visits


def _visit(page, url: str) -> list[tuple[str, int, str]]:
    """Load the page and everything it shows: (path, bytes on the wire, how it came) for
    each request, as Chromium's network log counts them (a cache hit costs nothing)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    seen: dict[str, list] = {}

    def on_response(event) -> None:
        response = event["response"]
        cached = response.get("fromDiskCache") or response.get("fromMemoryCache")
        seen[event["requestId"]] = [response["url"], 0, "cache" if cached else response["status"]]

    def on_finished(event) -> None:
        if event["requestId"] in seen:
            seen[event["requestId"]][1] = int(event["encodedDataLength"])

    def on_served_from_cache(event) -> None:
        seen.setdefault(event["requestId"], ["", 0, "cache"])[2] = "cache"

    cdp.on("Network.responseReceived", on_response)
    cdp.on("Network.loadingFinished", on_finished)
    cdp.on("Network.requestServedFromCache", on_served_from_cache)
    page.goto(url, wait_until="load")
    page.wait_for_function("() => [...document.images].every((img) => img.complete)")
    cdp.detach()
    return [
        (address.split("127.0.0.1", 1)[-1].split("/", 1)[-1], size, str(how))
        for address, size, how in seen.values()
        if address.startswith("http")
    ]


def measure_weight(port: int) -> None:
    for name, first, repeat in browser_visits(port):
        totals = []
        for visit, transfers in (("first", first), ("repeat", repeat)):
            print(f"\n{name}, {visit} visit: status (or cache), bytes on the wire, path")
            for path, size, status in sorted(transfers, key=lambda t: t[0]):
                print(f"  {status:>5} {size:>8}  /{path}")
            totals.append(sum(size for _, size, _ in transfers))
        print(
            f"  first visit {totals[0] / 1000:.1f} KB (before: {TODAY['first'] / 1000:.1f} KB);"
            f" repeat visit {totals[1] / 1000:.1f} KB (before: {TODAY['repeat'] / 1000:.1f} KB)"
        )
    print("goals: a first visit at most 300 KB at 1,440 px DPR 2; a repeat visit at most 2 KB")


# --- The run ----------------------------------------------------------------


def print_load(name: str, result: LoadResult) -> None:
    statuses = " ".join(f"{code}x{n}" for code, n in sorted(result.statuses.items()))
    print(
        f"{name:<14} {result.rate:>9.1f} {result.p50_ms:>8.2f} {result.p99_ms:>8.2f}"
        f" {result.cpu_ms_per_request:>12.3f} {result.busiest_share:>8.0%} {result.errors:>7}"
        f"  {statuses}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per load run")
    # Keep-alive connections stay with the worker that accepted them: with 4, all of them
    # sometimes went to one worker, halving that run's rate whichever server it was.
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--python-load", action="store_true", help="do not use wrk")
    parser.add_argument(
        "--baseline",
        metavar="REV",
        help="also measure the page at this git revision (a temporary worktree), in every"
        " round beside this checkout's",
    )
    parser.add_argument("--child-ingest", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_ingest:
        child_ingest(args.child_ingest[0], args.child_ingest[1:])
        return
    use_wrk = shutil.which("wrk") is not None and not args.python_load
    try:
        with contextlib.ExitStack() as stack:
            run(args, use_wrk, stack)
    except PostgresUnavailable as error:
        raise SystemExit(f"bench/page.py needs PostgreSQL (BENCH_POSTGRES_URL): {error}") from None


def run(args, use_wrk: bool, stack: contextlib.ExitStack) -> None:
    """Make each tree ready (this checkout, and the baseline's), start the servers, then
    measure; everything made is removed when `stack` closes."""
    work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-page-")))
    photos = make_photos(work)
    trees = {"page": (ROOT, "this checkout")}
    if args.baseline:
        tree, commit = stack.enter_context(worktree(args.baseline, work / "baseline-tree"))
        trees["baseline"] = (
            tree,
            commit if commit == args.baseline else f"{args.baseline} at {commit}",
        )
    sites = {}
    for name, (tree, source) in trees.items():
        url = stack.enter_context(postgres_database(ADMIN_URL, prefix=f"imageshelf_bench_{name}"))
        sites[name] = prepare(name, source, tree, work / name, url, photos)
    pages = {
        name: stack.enter_context(web_server(site.tree, site.env, work / f"{name}.log"))
        for name, site in sites.items()
    }
    floor_env = {**sites["page"].env, "DJANGO_SETTINGS_MODULE": "bench.floor_settings"}
    floor = stack.enter_context(web_server(ROOT, floor_env, work / "floor.log"))
    print_setup(args, use_wrk, sites, pages)
    rounds = measure_load(args, use_wrk, pages, floor, staff_cookie(pages["page"]))
    if "baseline" in sites:
        print_against_baseline(rounds, sites["baseline"].source)
    print(f"machine load average after the runs: {os.getloadavg()[0]:.2f}")
    measure_weight(pages["page"].port)


def staff_cookie(server: Server) -> str:
    """The Cookie header of a staff member signed in through the admin's form."""
    client = Client(server.port)
    client.log_in(*STAFF)
    return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


def print_setup(args, use_wrk: bool, sites: dict[str, Site], pages: dict[str, Server]) -> None:
    generator = (
        f"wrk, 1 thread, {args.connections} connections"
        if use_wrk
        else f"Python (http.client), {args.connections} threads"
    )
    print("public page vs floor: the Procfile's gunicorn, 2 workers each, production settings")
    for name, site in sites.items():
        sources = ", ".join(f"{item['source_bytes'] / 1e6:.1f}" for item in site.shelf)
        # What a browser gets: it shows which code answers (a baseline may compress otherwise).
        answer = fetch(pages[name].port, "/")
        if answer.status != 200:
            raise SystemExit(
                f"{name}: GET / answered {answer.status}, so its figures would mean nothing;"
                f" its log:\n{pages[name].log_text()[-4000:]}"
            )
        encoding = answer.headers.get("content-encoding", "uncompressed")
        print(
            f"{name}: {site.source}; shelf: {len(site.shelf)} images ingested through"
            f" image_ingest from 24 MP JPEGs ({sources} MB) in {site.ingest_seconds:.1f} s;"
            f" GET / answers {answer.status}, {encoding}, {answer.body_bytes:,} bytes"
        )
    print(
        f"load: {generator}; {args.duration:g} s per run, anonymous,"
        " X-Forwarded-Proto: https, Accept-Encoding: br, gzip"
    )
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} before the runs")
    if not use_wrk:
        print(
            "note: the Python load generator needs much of a CPU itself and limits the floor"
            " first, so its page/floor is flattering; install wrk for the real figure"
        )


def measure_load(
    args, use_wrk: bool, pages: dict[str, Server], floor: Server, cookie: str
) -> list[dict[str, LoadResult]]:
    """Every run's results, round by round (printed as they come), then the ratios."""
    options = {"duration": args.duration, "connections": args.connections, "use_wrk": use_wrk}
    # The staff page is the page server with a staff session: a page of its own every time.
    runs = {name: (server, {}) for name, server in pages.items()}
    runs["staff"] = (pages["page"], {"Cookie": cookie})
    for server, headers in [*runs.values(), (floor, {})]:  # warm them all
        load(server, headers, **{**options, "duration": 1})

    print(
        f"\n{'run':<14} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>12}"
        f" {'busiest':>8} {'errors':>7}  statuses"
    )
    ratios = {name: [] for name in runs}
    cpu_ratios = {name: [] for name in runs}
    rounds = []
    for round_ in range(1, args.rounds + 1):
        order = list(runs)
        if "baseline" in runs and round_ % 2 == 0:
            # Page and baseline take turns going first: neither always runs after the other.
            order = ["baseline", "page", *order[2:]]
        results = {name: load(runs[name][0], runs[name][1], **options) for name in order}
        floor_result = load(floor, {}, **options)
        for name, result in results.items():
            print_load(f"{name} {round_}", result)
            ratios[name].append(result.ok_rate / floor_result.ok_rate)
            cpu_ratios[name].append(floor_result.cpu_ms_per_request / result.cpu_ms_per_request)
        print_load(f"floor {round_}", floor_result)
        rounds.append(results)
    repeats = {}
    for name, server in pages.items():
        etag = fetch(server.port, "/").headers.get("etag")
        if etag:
            repeats[name] = (etag, load(server, {"If-None-Match": etag}, **options))
            print_load(f"{name} 304", repeats[name][1])

    print()
    for name in runs:
        goal = "(goal >= 0.9)" if name == "page" else "(for comparison: no goal)"
        print(
            f"{name}/floor, 200 responses per second:"
            f" {', '.join(f'{r:.2f}' for r in ratios[name])};"
            f" median {statistics.median(ratios[name]):.2f} {goal}"
        )
        print(
            f"  floor/{name}, worker CPU per request (the ratio if workers never waited):"
            f" median {statistics.median(cpu_ratios[name]):.2f}"
        )
    for name in pages.keys() - repeats.keys():
        print(f"{name}: no ETag on the page, so no repeat requests")
    for name, (etag, repeat) in repeats.items():
        print(
            f"{name}: repeat requests (If-None-Match: {etag}): {repeat.share(304):.1%}"
            f" answered 304 (goal: all), {repeat.rate:.0f}/s"
        )
    return rounds


def print_against_baseline(rounds: list[dict[str, LoadResult]], baseline: str) -> None:
    """Page against baseline, round by round (each pair ran minutes apart at most)."""
    print(f"\npage (this checkout) against baseline {baseline} (req/s: 200 responses):")
    print(
        f"{'round':<7} {'page req/s':>11} {'baseline':>9} {'ratio':>6}"
        f"   {'page CPU ms/req':>15} {'baseline':>9} {'ratio':>6}"
    )
    rows = [
        (
            page.ok_rate,
            base.ok_rate,
            page.ok_rate / base.ok_rate,
            page.cpu_ms_per_request,
            base.cpu_ms_per_request,
            page.cpu_ms_per_request / base.cpu_ms_per_request,
        )
        for page, base in ((results["page"], results["baseline"]) for results in rounds)
    ]
    medians = [statistics.median(column) for column in zip(*rows, strict=True)]
    for label, row in [*((str(n), row) for n, row in enumerate(rows, 1)), ("median", medians)]:
        print(
            f"{label:<7} {row[0]:>11.1f} {row[1]:>9.1f} {row[2]:>6.2f}"
            f"   {row[3]:>15.3f} {row[4]:>9.3f} {row[5]:>6.2f}"
        )
    cpu, rate = medians[5], medians[2]
    cpu_ok, rate_ok = cpu <= 1 + TOLERANCE, rate >= 1 - TOLERANCE
    print(
        f"worker CPU per request, page/baseline: median {cpu:.2f}:"
        f" {'no worse' if cpu_ok else 'WORSE'} (tolerance: at most {1 + TOLERANCE:.2f}x)"
    )
    print(
        f"requests per second, page/baseline: median {rate:.2f}:"
        f" {'no worse' if rate_ok else 'WORSE'} (tolerance: at least {1 - TOLERANCE:.2f}x;"
        " more sensitive than CPU per request to other work on the machine)"
    )


if __name__ == "__main__":
    main()
