"""Ingest benchmark: our pipeline against a naive one, on a generated 24 MP JPEG.

    python bench/ingest.py [--runs 5]

Each pipeline runs in its own fresh process (so peak memory is its own) and ingests the
same 6000 x 4000 JPEG (quality 90, noise + gradient) several times. Printed: median wall
time per ingest and the process's peak RSS, and the ratios naive / ours.

  ours   services.image_ingest: the whole door (checks, decode, normalise, JPEG + WebP
         thumbnail, sha256, storage writes, the row), with settings.test on SQLite
  naive  Image.open, ImageOps.exif_transpose, full-size JPEG save, thumbnail() on the
         decoded image (so without draft()), WebP save
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_jpeg(path: Path) -> None:
    from PIL import Image

    size = (6000, 4000)
    gradient = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 24)
    img = Image.merge(
        "RGB",
        (
            gradient,
            Image.blend(gradient, noise, 0.5),
            gradient.transpose(Image.Transpose.ROTATE_180),
        ),
    )
    img.save(path, "JPEG", quality=90)


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited via fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_ours(path: Path, runs: int) -> dict:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.core.files import File
    from django.core.management import call_command
    from django.db import connection

    from uploads import services

    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    settings.MEDIA_ROOT = str(work / "media")
    connection.settings_dict["NAME"] = str(work / "bench.sqlite3")
    call_command("migrate", verbosity=0)
    baseline = peak_rss_mb()
    times = []
    for _ in range(runs):
        # Uploads over 2.5 MB reach views as temporary files on disk: read from disk too.
        with path.open("rb") as handle:
            started = time.perf_counter()
            image = services.image_ingest(File(handle, name="big.jpg"), user=None)
            times.append(time.perf_counter() - started)
        services.images_delete([image.pk], reason="bench")  # so the next run is no duplicate
    return {"times": times, "peak_mb": peak_rss_mb(), "baseline_mb": baseline}


def run_naive(path: Path, runs: int) -> dict:
    from PIL import Image, ImageOps

    data = path.read_bytes()
    baseline = peak_rss_mb()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        with Image.open(io.BytesIO(data)) as img:
            upright = ImageOps.exif_transpose(img)
            upright.save(io.BytesIO(), "JPEG", quality=85)
            upright.thumbnail((480, 480))
            upright.save(io.BytesIO(), "WEBP", quality=80)
        times.append(time.perf_counter() - started)
    return {"times": times, "peak_mb": peak_rss_mb(), "baseline_mb": baseline}


def measure(pipeline: str, path: Path, runs: int) -> dict:
    """Run one pipeline in a fresh interpreter and read back its figures."""
    output = subprocess.run(
        [sys.executable, __file__, "--child", pipeline, "--image", str(path), "--runs", str(runs)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--child", choices=["ours", "naive"], help=argparse.SUPPRESS)
    parser.add_argument("--image", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = (run_ours if args.child == "ours" else run_naive)(args.image, args.runs)
        print(json.dumps(result))
        return

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "24mp.jpg"
        make_jpeg(path)
        print(f"input: 6000 x 4000 JPEG, quality 90, {path.stat().st_size / 1e6:.1f} MB")
        print(f"runs per pipeline: {args.runs} (each pipeline in a fresh process)\n")
        results = {name: measure(name, path, args.runs) for name in ("ours", "naive")}

    header = f"{'pipeline':<8} {'median s':>9} {'min s':>7} {'peak RSS MB':>12}"
    print(f"{header} {'before MB':>10} {'pipeline MB':>12}")
    for name, result in results.items():
        result["pipeline_mb"] = result["peak_mb"] - result["baseline_mb"]
        print(
            f"{name:<8} {statistics.median(result['times']):>9.3f} {min(result['times']):>7.3f}"
            f" {result['peak_mb']:>12.0f} {result['baseline_mb']:>10.0f}"
            f" {result['pipeline_mb']:>12.0f}"
        )
    ours, naive = results["ours"], results["naive"]
    time_ratio = statistics.median(naive["times"]) / statistics.median(ours["times"])
    memory_ratio = naive["pipeline_mb"] / ours["pipeline_mb"]
    print(f"\nnaive / ours: {time_ratio:.2f}x the time, {memory_ratio:.2f}x the pipeline memory")
    print(
        "goal: ours at most 0.6 s and 160 MB (pipeline memory: peak minus the process before"
        " the first ingest), and faster and leaner than naive"
    )


if __name__ == "__main__":
    main()
