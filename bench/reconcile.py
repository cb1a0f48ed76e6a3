"""Reconcile benchmark: reconcile_media on 1 000 to 100 000 rows, on local disk and on S3.

    python bench/reconcile.py [--local 1000,10000,100000] [--s3 1000,5000]

(A few minutes; moto_server comes with the dev requirements; --s3 "" skips S3.)

For each shelf size N a child process builds a temporary SQLite database (settings.test)
holding N rows, and stores their N images and 2N thumbnails (64 px wide: one width, in AVIF
and WebP) in a temporary MEDIA_ROOT or in a bucket on a moto_server that the bench starts
on a free port. The files are a few placeholder bytes (reconcile lists files, it never
decodes them), except for the images whose thumbnails must be regenerated, which are real
PNGs. Then the shelf is damaged:

  missing image   1 % of the rows have no image file (their thumbnails are still there)
  orphans         N/100 unreferenced files, half under images/, half under thumbs/, older
                  than the grace period (os.utime locally; --orphan-grace 0 on S3, where
                  LastModified cannot be backdated)
  thumbnails      10 rows (with their real images) have no thumbnail
  limit           --limit N, so no row is beyond the limit and the shelf survives

`reconcile_media --dry-run --json` and then `reconcile_media --json` each run in a fresh
process (so peak memory is their own). Printed per run: wall time of the command, peak
RSS (VmHWM) and its growth during the command, SQL queries (connection.execute_wrapper),
S3 requests (botocore before-send on the storage's client; locally "n/a"), and the
ratios to N. Both runs are checked against the scenario: the dry run must report every
repair and change nothing, the real run must leave exactly the expected rows and files.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

# Run as `python bench/reconcile.py`, Python puts bench/ on sys.path: tests/ is at the root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.processes import (  # noqa: E402
    ROOT,
    free_port,
    moto_server,
    s3_client,
    s3_storages,
    stop,
)

ROW_BATCH = 5000
THUMBNAILS_MISSING = 10
GOAL_SECONDS = 30
GOAL_PER_ROW = 1 / 500


class BenchFailure(Exception):
    """A run did not do what the scenario requires: its figures would be meaningless."""


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited via fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


# --- In the child: Django, the shelf, the runs ----------------------------------------


def setup_django(work: Path, endpoint: str | None) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    os.environ["DATABASE_URL"] = f"sqlite:///{work / 'bench.sqlite3'}"
    import django

    django.setup()
    from django.test.utils import override_settings

    overrides = {"MEDIA_ROOT": str(work / "media")}
    if endpoint:
        overrides["STORAGES"] = s3_storages(work.name, endpoint)
    # Sends setting_changed, so default_storage (the ImageFields' storage) is rebuilt.
    override_settings(**overrides).enable()


class Files:
    """Write and list the shelf's files directly, around the app (not counted)."""

    def __init__(self, work: Path, endpoint: str | None) -> None:
        self.root = work / "media"
        self.bucket = work.name
        self.client = s3_client(endpoint) if endpoint else None

    def write(self, items: list[tuple[str, bytes]], *, aged: bool = False) -> None:
        if self.client:
            from concurrent.futures import ThreadPoolExecutor

            def put(item):
                self.client.put_object(Bucket=self.bucket, Key=item[0], Body=item[1])

            with ThreadPoolExecutor(max_workers=8) as pool:
                list(pool.map(put, items))
            return
        old = time.time() - 3600
        for name, data in items:
            path = self.root / name
            path.write_bytes(data)
            if aged:
                os.utime(path, (old, old))

    def names(self) -> set[str]:
        if self.client:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
            return {item["Key"] for page in pages for item in page.get("Contents", ())}
        return {
            f"{prefix}/{entry.name}"
            for prefix in ("images", "thumbs")
            for entry in os.scandir(self.root / prefix)
        }


def real_png(index: int) -> tuple[bytes, int, int]:
    from PIL import Image as Pillow

    size = (64, 48)
    buffer = io.BytesIO()
    Pillow.new("RGB", size, (index * 37 % 256, 90, 200)).save(buffer, "PNG")
    return buffer.getvalue(), *size


def build(work: Path, size: int, endpoint: str | None) -> dict:
    """The damaged shelf of the docstring; returns what the repairs must be."""
    from django.core.management import call_command
    from django.utils import timezone

    from uploads.ingest import variants
    from uploads.media.reconcile import IMPORT_PREVIEWS
    from uploads.models import Image

    call_command("migrate", verbosity=0)
    files = Files(work, endpoint)
    if endpoint:
        files.client.create_bucket(Bucket=work.name)
    else:
        for prefix in ("images", "thumbs"):
            (files.root / prefix).mkdir(parents=True)

    placeholder = b"placeholder bytes"
    missing = set(range(50, size, 100))  # 1 %, spread over the shelf
    regenerate = set(range(1, size, size // THUMBNAILS_MISSING)[:THUMBNAILS_MISSING])
    assert not missing & regenerate
    first = timezone.now() - timedelta(days=3)  # older than the run, so it is judged
    expected = {"missing": [], "regenerate": [], "kept_files": set()}
    for start in range(0, size, ROW_BATCH):
        rows, writes = [], []
        for index in range(start, min(start + ROW_BATCH, size)):
            stem = uuid.uuid4()
            image = f"images/{stem}.png"
            # 64 px wide: one width (the narrowest), in AVIF and WebP.
            thumbs = {
                variants.key(fmt, variants.WIDTHS[0]): (
                    f"thumbs/{uuid.uuid4()}.{variants.EXTENSIONS[fmt]}"
                )
                for fmt in variants.FORMATS
            }
            data, width, height = placeholder, 64, 48
            if index in regenerate:
                data, width, height = real_png(index)
            rows.append(
                Image(
                    file=image,
                    thumbnails=thumbs,
                    width=width,
                    height=height,
                    size_bytes=len(data),
                    format="PNG",
                    sha256=f"{stem.int:064x}",
                    uploaded_at=first + timedelta(seconds=index),
                )
            )
            if index in missing:
                expected["missing"].append(image)
            else:
                writes.append((image, data))
                expected["kept_files"].add(image)
            if index in regenerate:
                expected["regenerate"].append(image)
            else:
                writes += [(thumb, placeholder) for thumb in thumbs.values()]
                if index not in missing:
                    expected["kept_files"].update(thumbs.values())
        Image.objects.bulk_create(rows)
        files.write(writes)
    orphans = [
        f"images/{uuid.uuid4()}.png" if index % 2 else f"thumbs/{uuid.uuid4()}.webp"
        for index in range(size // 100)
    ]
    files.write([(name, placeholder) for name in orphans], aged=True)
    expected["orphans"] = orphans
    expected["kept_files"] = sorted(expected["kept_files"])
    # What one listing of each prefix returns (S3: at most 1000 keys per request), the
    # import previews' prefix too (empty here).
    expected["listed"] = {
        prefix: per_row * (size - damaged) + sum(name.startswith(prefix) for name in orphans)
        for prefix, per_row, damaged in (
            ("images/", 1, len(missing)),
            ("thumbs/", 2, len(regenerate)),
            (IMPORT_PREVIEWS, 0, 0),
        )
    }
    return expected


class S3Requests:
    """HTTP requests sent by the media storage's S3 client, by operation, and the time spent
    in its calls (waiting on the server, mostly)."""

    def __init__(self, storage) -> None:
        self.operations: Counter[str] = Counter()
        self.seconds = 0.0
        self._started: dict[int, float] = {}
        clients = {id(c): c for c in (storage.connection.meta.client, storage.bucket.meta.client)}
        for client in clients.values():
            events = client.meta.events
            events.register("before-send.s3", self.record)
            events.register("before-call.s3", self.call_started)
            events.register("after-call.s3", self.call_ended)
            events.register("after-call-error.s3", self.call_ended)

    def record(self, event_name: str, **kwargs) -> None:
        self.operations[event_name.rsplit(".", 1)[-1]] += 1

    def call_started(self, **kwargs) -> None:
        self._started[threading.get_ident()] = time.perf_counter()

    def call_ended(self, **kwargs) -> None:
        started = self._started.pop(threading.get_ident(), None)
        if started is not None:
            self.seconds += time.perf_counter() - started


def count_listings(storage_module) -> Counter:
    """Locally there are no requests: count the listings reconcile asks for, by prefix."""
    calls: Counter[str] = Counter()
    list_files = storage_module.list_files

    def counted(prefix):
        calls[prefix] += 1
        return list_files(prefix)

    storage_module.list_files = counted
    return calls


def run(work: Path, size: int, mode: str, endpoint: str | None) -> dict:
    """One reconcile_media run, measured, then checked against the scenario."""
    from django.core.management import call_command
    from django.db import connection

    from uploads.media import storage as storage_module
    from uploads.models import Image

    expected = json.loads((work / "expected.json").read_text())
    files = Files(work, endpoint)
    args = ["reconcile_media", "--json", "--limit", str(size)]
    args += ["--dry-run"] if mode == "dry-run" else []
    args += ["--orphan-grace", "0"] if endpoint else []
    requests = S3Requests(storage_module.media_storage()) if endpoint else None
    listings = None if endpoint else count_listings(storage_module)
    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    out = io.StringIO()
    baseline = peak_rss_mb()
    with connection.execute_wrapper(count):
        started = time.perf_counter()
        call_command(*args, stdout=out)  # CommandError (any failed operation) ends the bench
        wall = time.perf_counter() - started
    peak = peak_rss_mb()
    report = json.loads(out.getvalue())
    verify(report, expected, size, mode, files, Image)
    if requests:
        # An empty prefix costs one request too.
        pages = sum(max(1, math.ceil(count / 1000)) for count in expected["listed"].values())
        if requests.operations["ListObjects"] != pages:
            raise BenchFailure(
                f"N={size} {mode}: {requests.operations['ListObjects']} listing requests,"
                f" expected {pages} (one listing of each prefix)"
            )
    elif dict(listings) != dict.fromkeys(expected["listed"], 1):
        raise BenchFailure(
            f"N={size} {mode}: listings {dict(listings)}, expected one of each of"
            f" {sorted(expected['listed'])}"
        )
    return {
        "wall": wall,
        "peak_mb": peak,
        "baseline_mb": baseline,
        "queries": queries,
        "requests": dict(requests.operations) if requests else None,
        "s3_seconds": requests.seconds if requests else None,
        "listings": sum(listings.values()) if listings is not None else None,
    }


def verify(report: dict, expected: dict, size: int, mode: str, files: Files, Image) -> None:
    """The run found (and, for real, repaired) exactly what the scenario broke."""

    def check(what: str, got, want) -> None:
        if got != want:
            raise BenchFailure(
                f"N={size} {mode}: {what}: got {repr(got)[:300]}, expected {repr(want)[:300]}"
            )

    check("errors", report["errors"], [])
    check("rows checked", report["rows_checked"], size)
    check("missing images", sorted(report["missing_image"]["names"]), sorted(expected["missing"]))
    check("orphans", sorted(report["orphans_deleted"]["names"]), sorted(expected["orphans"]))
    check("orphans spared", report["orphans_spared"]["count"], 0)
    check("import previews", report["import_previews_deleted"]["count"], 0)
    check("beyond the limit", report["beyond_limit"]["count"], 0)
    check(
        "thumbnails",
        sorted(report["thumbnails_regenerated"]["names"]),
        sorted(expected["regenerate"]),
    )
    stored = files.names()
    if mode == "dry-run":
        check("rows after a dry run", Image.objects.count(), size)
        check("orphans still stored", set(expected["orphans"]) <= stored, True)
        return
    check("rows", Image.objects.count(), size - len(expected["missing"]))
    check("rows of missing images", Image.objects.filter(file__in=expected["missing"]).count(), 0)
    regenerated = [
        name
        for image in Image.objects.filter(file__in=expected["regenerate"])
        for name in image.thumbnails.values()
    ]
    check("regenerated thumbnails stored", set(regenerated) <= stored, True)
    wanted = {*expected["kept_files"], *regenerated}
    if stored != wanted:
        extra, lost = sorted(stored - wanted), sorted(wanted - stored)
        raise BenchFailure(
            f"N={size} {mode}: {len(extra)} files left that should be gone {extra[:3]},"
            f" {len(lost)} files gone that should be kept {lost[:3]}"
        )


def child(args) -> None:
    work = Path(args.work)
    setup_django(work, args.endpoint)
    if args.child == "build":
        expected = build(work, args.size, args.endpoint)
        (work / "expected.json").write_text(json.dumps(expected))
        return
    result = run(work, args.size, args.child, args.endpoint)
    (work / f"{args.child}.json").write_text(json.dumps(result))


# --- In the parent: moto_server, the children, the figures ----------------------------


def start_moto(log: Path) -> tuple[subprocess.Popen, str]:
    """moto_server on a free port, and its endpoint; the bench stops if it does not start."""
    port = free_port()
    try:
        return moto_server(port, log), f"http://127.0.0.1:{port}"
    except RuntimeError as error:
        raise SystemExit(str(error)) from None


def in_child(step: str, work: Path, size: int, endpoint: str | None) -> dict | None:
    command = [sys.executable, __file__, "--child", step, "--work", str(work)]
    command += ["--size", str(size)] + (["--endpoint", endpoint] if endpoint else [])
    log = work / f"{step}.log"
    with log.open("w") as output:
        done = subprocess.run(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
    if done.returncode:
        sys.stdout.write(log.read_text()[-4000:])
        raise SystemExit(
            f"\nthe {step} step failed for N={size}: stopping, its figures would mean nothing"
        )
    result = work / f"{step}.json"
    return json.loads(result.read_text()) if result.exists() else None


def show(storage: str, size: int, mode: str, result: dict) -> None:
    requests = result["requests"]
    if requests is None:
        sent = f"n/a (local; {result['listings']} directory listings)"
        ratio = "-"
    else:
        total = sum(requests.values())
        detail = ", ".join(f"{name} {count}" for name, count in sorted(requests.items()))
        sent = f"{total} ({detail}; {result['s3_seconds']:.2f} s in S3 calls)"
        ratio = f"{total / size:.4f}"
    print(
        f"{storage:<6} {size:>8,} {mode:<8} {result['wall']:>7.2f} {result['peak_mb']:>8.0f}"
        f" {result['peak_mb'] - result['baseline_mb']:>5.0f} {result['queries']:>7}"
        f" {result['queries'] / size:>7.4f} {ratio:>7}  {sent}"
    )


def growth(results: dict, key) -> list[tuple[int, int, int, int]]:
    """(N1, N2, figure at N1, figure at N2) between successive sizes, for the real runs."""
    sizes = sorted(results)
    return [
        (a, b, key(results[a]), key(results[b])) for a, b in zip(sizes, sizes[1:], strict=False)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--local", default="1000,10000,100000", help="sizes on local disk")
    parser.add_argument("--s3", default="1000,5000", help="sizes on S3 (moto_server)")
    parser.add_argument("--child", choices=["build", "dry-run", "real"], help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--endpoint", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    plans = [("local", int(n)) for n in args.local.split(",") if n]
    plans += [("s3", int(n)) for n in args.s3.split(",") if n]
    print("\n\n".join(__doc__.split("\n\n")[3:5]) + "\n")
    print("storage        N mode       wall s  peak MB  +MB queries     q/N   req/N  requests")
    results: dict[str, dict[int, dict]] = {"local": {}, "s3": {}}
    with tempfile.TemporaryDirectory(prefix="bench-reconcile-") as tmp:
        moto = None
        try:
            endpoint = None
            for storage, size in plans:
                if storage == "s3" and moto is None:
                    moto, endpoint = start_moto(Path(tmp) / "moto.log")
                work = Path(tmp) / f"bench-{storage}-{size}"
                work.mkdir()
                started = time.perf_counter()
                in_child("build", work, size, endpoint if storage == "s3" else None)
                print(
                    f"{storage:<6} {size:>8,} built in {time.perf_counter() - started:.1f} s:"
                    f" {size // 100} images missing, {size // 100} orphans,"
                    f" {THUMBNAILS_MISSING} thumbnails missing, --limit {size}"
                )
                for mode in ("dry-run", "real"):
                    result = in_child(mode, work, size, endpoint if storage == "s3" else None)
                    show(storage, size, mode, result)
                    if mode == "real":
                        results[storage][size] = result
        finally:
            if moto:
                stop(moto)
    print("\nrepairs verified: every dry run reported exactly the scenario's missing images,")
    print("orphans and thumbnails and changed nothing; every real run left exactly the expected")
    print("rows and files; each run listed each prefix once (S3: one request per 1000 keys).\n")
    summarise(results)


def summarise(results: dict[str, dict[int, dict]]) -> None:
    print(f"goals (real runs; growth per added row, against 1/500 = {GOAL_PER_ROW:.4f}):")
    biggest = max(results["local"], default=0)
    if biggest >= 100_000:
        wall = results["local"][biggest]["wall"]
        met = "met" if wall < GOAL_SECONDS else "NOT MET"
        print(
            f"  100 000 rows + files in under {GOAL_SECONDS} s:"
            f" N={biggest:,} took {wall:.1f} s: {met}"
        )
    else:
        print(
            f"  100 000 rows + files in under {GOAL_SECONDS} s: not measured (give --local 100000)"
        )

    queries = [g for runs in results.values() for g in growth(runs, lambda r: r["queries"])]
    for a, b, at_a, at_b in queries:
        per_row = (at_b - at_a) / (b - a)
        met = "met" if per_row <= GOAL_PER_ROW else "NOT MET"
        print(
            f"  SQL queries, N={a:,} -> {b:,}: {at_a} -> {at_b}, {per_row:.5f} per added row: {met}"
        )

    requests = growth(results["s3"], lambda r: sum(r["requests"].values()))
    listing = {
        (a, b): (x, y)
        for a, b, x, y in growth(results["s3"], lambda r: r["requests"].get("ListObjects", 0))
    }
    for a, b, at_a, at_b in requests:
        per_row = (at_b - at_a) / (b - a)
        pages_a, pages_b = listing[(a, b)]
        # Each row has two objects and S3 lists at most 1000 keys per request, so one
        # listing costs N/500 requests plus a partly filled last page per prefix.
        floor = GOAL_PER_ROW + 2 / (b - a)
        met = "met" if per_row <= floor else "NOT MET"
        print(
            f"  S3 requests, N={a:,} -> {b:,}: {at_a} -> {at_b}, {per_row:.5f} per added row:"
            f" {met}\n    listing pages {pages_a} -> {pages_b}, other requests (per repair,"
            f" per 1000 deletions) {at_a - pages_a} -> {at_b - pages_b}; allowed: N/500 plus a"
            f" partly filled last page per prefix ({floor:.5f}); strictly"
            f" {'within' if per_row <= GOAL_PER_ROW else 'above'} 1/500"
        )
    if not requests:
        print("  S3 requests: growth not measured (give two sizes with --s3)")


if __name__ == "__main__":
    main()
