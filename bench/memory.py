"""Memory benchmark: the dyno's web command under the worst uploads we accept.

    python bench/memory.py [--postgres] [--rounds 1] [--inputs DIR] [--s3-put-delay SECONDS]

Starts the Procfile's `web:` command as Heroku would (its line, run by a shell, with
PORT, WEB_CONCURRENCY=2 and config.settings.production; SQLite, or with --postgres a
fresh database on BENCH_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/postgres),
so it follows the Procfile wherever that goes. A staff account signs in through the admin.
Media go to a temporary directory, or with --s3-put-delay to a bucket on moto_server behind
a proxy that holds every PUT that many seconds (slow storage: uploads write their files
after their decode turn, so several hold their encoded files at once, on disk).

Then 4 clients at once each upload every input below (`--rounds` times) while a visitor
reads the page, and a sampler adds up the PSS of every process in the tree (from
/proc/PID/smaps_rollup, every 20 ms): memory as the dyno's cgroup counts it, where pages
a fork shares count once. The inputs are the worst the default limits admit (computed
with uploads/ingest/memory_budget.py), each under MAX_UPLOAD_MB; they take a minute to
make, so they are kept in --inputs (default: imageshelf-bench-memory in the temporary
directory):

  rgba.png     the largest RGBA PNG, transparent, so it is stored as a PNG
  grey16.png   the largest 16-bit greyscale PNG (MAX_IMAGE_PIXELS is the limit here)
  photo.jpg    the largest JPEG decoded at full scale, as a photo, under the byte limit:
               the costliest JPEG (larger ones decode at 1/2 scale and cost less)
  photo.heic   the largest HEIC (4:3)
  photo.avif   the largest AVIF (4:3)
  alpha.webp   the largest WebP with transparency (4:3): the hungriest decoder
  anim.gif     an animated GIF at MAX_IMAGE_PIXELS, three frames

Clients send the same files, so some are refused as duplicates: only after the whole
decode, so the memory they cost is the same. Printed: the peak of the sum, the sum before
and after, and each worker's PSS before and after. Goal: peak <= 450 MB for the whole
dyno (512 MB on Basic and Standard-1X), and each worker back within 50 MB of where it
started. 1 MB = 1024 * 1024 bytes, as MAX_UPLOAD_MB counts.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

# Run as `python bench/memory.py`, Python puts bench/ on sys.path: tests/ is at the root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import graphic, photo  # noqa: E402
from tests.load.support import STAFF, Client  # noqa: E402
from tests.processes import (  # noqa: E402
    ROOT,
    S3_ACCESS_KEY,
    S3_REGION,
    S3_SECRET_KEY,
    SlowPuts,
    free_port,
    manage,
    moto_server,
    postgres_database,
    production_env,
    s3_client,
    stop,
    web_command,
)
from uploads.ingest import memory_budget  # noqa: E402

ADMIN_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
CLIENTS = 4
MB = 1024 * 1024
# The defaults (config/settings/base.py): MAX_UPLOAD_MB, MAX_IMAGE_PIXELS, MAX_DECODE_MB.
MAX_UPLOAD = 10 * MB
MAX_PIXELS = 50_000_000
DECODE_BUDGET = 224 * MB
MAX_EDGE = 4096
GOAL_PEAK_MB, GOAL_GROWTH_MB = 450, 50


# --- The inputs ---------------------------------------------------------------


def inputs(folder: Path) -> dict[str, bytes]:
    """The worst inputs the default limits admit, each under the byte limit; made once into
    `folder` (they take a minute) and read from there afterwards."""
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()

    def largest(shape: tuple[int, int], mode: str, fmt: str) -> tuple[int, int]:
        """The largest image of this shape the limits admit (uploads/ingest/memory_budget.py)."""
        most = memory_budget.most_pixels(shape, mode, fmt, DECODE_BUDGET, MAX_EDGE)
        scale = (min(most, MAX_PIXELS) / (shape[0] * shape[1])) ** 0.5
        return int(shape[0] * scale), int(shape[1] * scale)

    def encoded(img: Image.Image, fmt: str, **options) -> bytes:
        buffer = io.BytesIO()
        img.save(buffer, fmt, **options)
        return buffer.getvalue()

    def rgba_png() -> bytes:
        size = largest((1, 1), "RGBA", "PNG")
        img = Image.new("RGBA", size, (0, 0, 0, 0))
        img.paste((200, 30, 30, 255), (0, 0, size[0] // 2, size[1] // 2))
        return encoded(img, "PNG", compress_level=9)

    def grey16_png() -> bytes:
        size = largest((1, 1), "I;16", "PNG")
        img = Image.new("I;16", size, 0)
        img.paste(40000, (0, 0, size[0] // 2, size[1] // 2))
        return encoded(img, "PNG", compress_level=9)

    def alpha_webp() -> bytes:
        return encoded(graphic(largest((4, 3), "RGBA", "WEBP")), "WEBP", quality=80)

    def anim_gif() -> bytes:
        size = largest((1, 1), "P", "GIF")
        frames = [Image.new("P", size, index) for index in range(3)]
        return encoded(frames[0], "GIF", save_all=True, append_images=frames[1:])

    makers = {
        "rgba.png": rgba_png,
        "grey16.png": grey16_png,
        "photo.jpg": lambda: under_the_limit(photo(largest((1, 1), "RGB", "JPEG")), "JPEG", 95),
        "photo.heic": lambda: under_the_limit(photo(largest((4, 3), "RGB", "HEIF")), "HEIF", 60),
        "photo.avif": lambda: encoded(
            photo(largest((4, 3), "RGB", "AVIF")), "AVIF", quality=50, speed=10
        ),
        "alpha.webp": alpha_webp,
        "anim.gif": anim_gif,
    }
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, make in makers.items():
        path = folder / name
        if not path.exists():
            data = make()
            assert len(data) <= MAX_UPLOAD, f"{name} is {len(data) / MB:.1f} MB"
            path.write_bytes(data)
        files[name] = path.read_bytes()
    return files


def under_the_limit(img, fmt: str, highest: int) -> bytes:
    """The highest quality, from `highest` down, that stays under the byte limit."""
    for quality in range(highest, 10, -5):
        buffer = io.BytesIO()
        img.save(buffer, fmt, quality=quality)
        if buffer.tell() <= MAX_UPLOAD:
            return buffer.getvalue()
    raise RuntimeError(f"no {fmt} quality fits the byte limit")


# --- The dyno -----------------------------------------------------------------


@contextlib.contextmanager
def dyno(env: dict[str, str], log: Path):
    """The web command in a shell, as on a dyno; yields (process, port) once it answers."""
    port = free_port()
    env = {**env, "PORT": str(port), "WEB_CONCURRENCY": "2"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["/bin/sh", "-c", f"exec {web_command()}"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                if Client(port).get("/healthz").status == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the web command did not answer:\n{log.read_text()}")
            time.sleep(0.2)
        yield process, port
    finally:
        stop(process)


def tree(pid: int) -> list[int]:
    """pid and every process below it."""
    pids, index = [pid], 0
    while index < len(pids):
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{pids[index]}/task").iterdir():
                pids += [int(child) for child in (task / "children").read_text().split()]
        index += 1
    return pids


def pss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass  # it exited between the listing and the read
    return 0.0


class Sampler(threading.Thread):
    """Adds up the tree's PSS every few milliseconds and keeps the peak."""

    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root, self.peak, self.samples, self.done = root, 0.0, 0, threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.peak = max(self.peak, sum(pss_mb(pid) for pid in tree(self.root)))
            self.samples += 1


# --- The run ------------------------------------------------------------------


def run(env: dict[str, str], work: Path, files: dict[str, bytes], rounds: int) -> None:
    database = "Postgres" if env["DATABASE_URL"].startswith("postgres") else "SQLite"
    print(f"web: {web_command()}\nWEB_CONCURRENCY=2, config.settings.production, {database}")
    with dyno(env, work / "web.log") as (process, port):
        clients = [Client(port) for _ in range(CLIENTS)]
        for client in clients:
            client.log_in(*STAFF)
        for _ in range(20):
            Client(port).get("/")  # every worker has served the page and the admin
        workers = tree(process.pid)[1:]
        before = {pid: pss_mb(pid) for pid in workers}
        total_before = sum(pss_mb(pid) for pid in tree(process.pid))
        sampler = Sampler(process.pid)
        sampler.start()
        reading, pages = threading.Event(), Counter()

        def read() -> None:
            visitor = Client(port)
            while not reading.is_set():
                pages[visitor.get("/").status] += 1

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        started = time.monotonic()

        def send(index: int) -> list[tuple[str, int, float]]:
            names = list(files) * rounds
            names = names[index:] + names[:index]  # each client starts with another file
            return [(name, *upload(clients[index], files[name], name)) for name in names]

        with ThreadPoolExecutor(CLIENTS) as pool:
            results = [row for rows in pool.map(send, range(CLIENTS)) for row in rows]
        elapsed = time.monotonic() - started
        reading.set()
        reader.join()
        time.sleep(2)  # let the last responses' memory settle
        sampler.done.set()
        sampler.join()
        after = {pid: pss_mb(pid) for pid in workers}
        total_after = sum(pss_mb(pid) for pid in tree(process.pid))
        log = (work / "web.log").read_text(errors="replace")
    report(files, results, elapsed, pages, sampler, (total_before, total_after), before, after)
    found = [at for at in (log.find("Traceback"), log.find("WORKER TIMEOUT")) if at >= 0]
    if found:
        # From the first error on: the log's tail is mostly the reader's access lines.
        print(f"\nthe server's log has errors; the first:\n{log[min(found) :][:3000]}")


def upload(client: Client, data: bytes, name: str) -> tuple[int | str, float]:
    response = client.upload(data, name)
    refused = "already on the shelf" in response.body.decode(errors="replace")
    return (response.status if not refused else "duplicate"), response.seconds


def report(files, results, elapsed, pages, sampler, totals, before, after) -> None:
    from PIL import Image

    print("\ninputs:")
    for name, data in files.items():
        with Image.open(io.BytesIO(data)) as img:
            frames = getattr(img, "n_frames", 1)
            shape = f"{img.width} x {img.height} {img.mode}" + (f", {frames} frames" * (frames > 1))
        times = [seconds for sent, _, seconds in results if sent == name]
        outcomes = Counter(str(status) for sent, status, _ in results if sent == name)
        print(
            f"  {name:<11} {shape:<28} {len(data) / MB:5.1f} MB   "
            f"{dict(outcomes)}, slowest answer {max(times):.1f} s"
        )
    print(
        f"\n{len(results)} uploads from {CLIENTS} clients in {elapsed:.0f} s;"
        f" page reads meanwhile: {dict(pages)}"
    )
    total_before, total_after = totals
    print(
        f"\nmemory, sum of PSS over the process tree ({sampler.samples} samples):"
        f"\n  before {total_before:.0f} MB, peak {sampler.peak:.0f} MB"
        f" (goal <= {GOAL_PEAK_MB}), after {total_after:.0f} MB"
    )
    for pid, start in before.items():
        end = after.get(pid, 0.0)
        print(
            f"  worker {pid}: {start:.0f} MB before, {end:.0f} MB after"
            f" ({end - start:+.0f}; goal <= +{GOAL_GROWTH_MB})"
        )


def slow_bucket(work: Path, delay: float, stack: contextlib.ExitStack) -> dict[str, str]:
    """A bucket on moto_server behind a proxy holding every PUT `delay` s: its variables."""
    port = free_port()
    stack.callback(stop, moto_server(port, work / "moto.log"))
    s3_client(f"http://127.0.0.1:{port}").create_bucket(Bucket="bench-memory")
    proxy = SlowPuts(port, delay)
    stack.callback(proxy.close)
    print(f"media: a bucket on moto_server, every PUT held {delay:g} s")
    return {
        "AWS_STORAGE_BUCKET_NAME": "bench-memory",
        "AWS_S3_ENDPOINT_URL": f"http://127.0.0.1:{proxy.port}",
        "AWS_S3_REGION_NAME": S3_REGION,
        "AWS_ACCESS_KEY_ID": S3_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": S3_SECRET_KEY,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", action="store_true", help="a fresh Postgres database")
    parser.add_argument("--rounds", type=int, default=1, help="each client sends each file N times")
    parser.add_argument(
        "--inputs",
        type=Path,
        default=Path(tempfile.gettempdir()) / "imageshelf-bench-memory",
        help="where the inputs are made once and kept (default: %(default)s)",
    )
    parser.add_argument(
        "--s3-put-delay",
        type=float,
        metavar="SECONDS",
        help="media in a bucket on moto_server, every PUT held this long",
    )
    args = parser.parse_args()
    files = inputs(args.inputs)
    with (
        tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp,
        contextlib.ExitStack() as stack,
    ):
        work = Path(tmp)
        env = production_env(work)
        if args.postgres:
            env["DATABASE_URL"] = stack.enter_context(
                postgres_database(ADMIN_URL, prefix="bench_memory")
            )
        if args.s3_put_delay is not None:
            env.update(slow_bucket(work, args.s3_put_delay, stack))
        manage(env, "collectstatic", "--noinput", check=True)
        manage(env, "migrate", "--noinput", check=True)
        username, password = STAFF
        staff = {"DJANGO_SUPERUSER_USERNAME": username, "DJANGO_SUPERUSER_PASSWORD": password}
        manage({**env, **staff}, "ensure_superuser", check=True)  # as app.json's postdeploy
        run(env, work, files, args.rounds)


if __name__ == "__main__":
    main()
