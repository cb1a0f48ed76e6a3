"""Ingest benchmark: our pipeline against a naive one, on generated photos.

    python bench/ingest.py [--runs 5]

Three inputs, each ingested several times by each pipeline, each pipeline and input in
its own fresh process (so peak memory is its own):

  24 MP JPEG   6000 x 4000, quality 90, noise + gradient: a camera's photo
  24 MP HEIC   5712 x 4284 (an iPhone's 24 MP photo), the same content, quality 40
  24 MP PNG    6000 x 4000 RGBA with transparency, shapes and gradients: a large graphic

  ours   services.image_ingest: the whole door (checks, decode, normalise, JPEG or PNG +
         AVIF and WebP thumbnails at 480, 720 and 1,080 px wide, sha256, storage writes,
         the row), with settings.test on SQLite
  naive  Image.open, ImageOps.exif_transpose, full-size JPEG save (PNG when transparent),
         thumbnail() on the decoded image (so without draft()), WebP save

Printed per input: median and fastest wall time per ingest, the process's peak RSS, its
RSS before the first ingest and their difference (the pipeline's memory), and the ratios
naive / ours. Then, for the JPEG's stored image (4096 px), each thumbnail's resize and
encoding time and bytes, and the three AVIF widths at Pillow's speeds 6 to 9 (what chose
variants.AVIF_SPEED). Times are noisy on a shared machine: the median is the figure to
quote.
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


def photo(size: tuple[int, int]):
    from PIL import Image

    gradient = Image.linear_gradient("L").resize(size)
    noise = Image.effect_noise(size, 24)
    return Image.merge(
        "RGB",
        (
            gradient,
            Image.blend(gradient, noise, 0.5),
            gradient.transpose(Image.Transpose.ROTATE_180),
        ),
    )


def graphic(size: tuple[int, int]):
    """Flat shapes over gradients, partly transparent: compresses as graphics do."""
    from PIL import Image, ImageDraw

    gradient = Image.linear_gradient("L").resize(size)
    img = Image.merge(
        "RGBA",
        (
            gradient,
            gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
            gradient.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
            gradient,
        ),
    )
    draw = ImageDraw.Draw(img)
    for index in range(40):
        x, y = index * size[0] // 40, index * size[1] // 40
        draw.ellipse((x, y, x + size[0] // 8, y + size[1] // 8), fill=(index * 6, 90, 200, 255))
    return img


def make_inputs(folder: Path) -> dict[str, Path]:
    import pillow_heif

    pillow_heif.register_heif_opener()
    paths = {name: folder / name for name in ("24mp.jpg", "24mp.heic", "24mp.png")}
    photo((6000, 4000)).save(paths["24mp.jpg"], "JPEG", quality=90)
    photo((5712, 4284)).save(paths["24mp.heic"], "HEIF", quality=40)
    graphic((6000, 4000)).save(paths["24mp.png"], "PNG")
    return paths


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

    from uploads.models import Image
    from uploads.shelf import deletion, services

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
            image = services.image_ingest(File(handle, name=path.name), user=None)
            times.append(time.perf_counter() - started)
        # So the next run is no duplicate (its files go too, on commit).
        deletion.images_delete(Image.objects.filter(pk=image.pk), reason="bench")
    return {"times": times, "peak_mb": peak_rss_mb(), "baseline_mb": baseline}


def run_naive(path: Path, runs: int) -> dict:
    import pillow_heif
    from PIL import Image, ImageOps

    pillow_heif.register_heif_opener()
    data = path.read_bytes()
    baseline = peak_rss_mb()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        with Image.open(io.BytesIO(data)) as img:
            upright = ImageOps.exif_transpose(img)
            if upright.mode == "RGBA":
                upright.save(io.BytesIO(), "PNG")
            else:
                upright.save(io.BytesIO(), "JPEG", quality=85)
            upright.thumbnail((480, 480))
            upright.save(io.BytesIO(), "WEBP", quality=80)
        times.append(time.perf_counter() - started)
    return {"times": times, "peak_mb": peak_rss_mb(), "baseline_mb": baseline}


def run_thumbnails(path: Path, runs: int) -> dict:
    """Each thumbnail of the JPEG's stored image: encoding time (median) and bytes."""
    sys.path.insert(0, str(ROOT))
    from PIL import Image

    from uploads.ingest import render, variants

    with Image.open(path) as img:
        img.draft("RGB", variants.sizes(img.size)[variants.WIDTHS[-1]])  # as ingest decodes
        stored = img.resize((4096, round(4096 * img.height / img.width)), render.RESAMPLE)

    def timed(action) -> tuple[float, object]:
        times, result = [], None
        for _ in range(runs):
            started = time.perf_counter()
            result = action()
            times.append(time.perf_counter() - started)
        return statistics.median(times), result

    rows, speeds = [], {}
    source = stored
    # As variants.make does: widest first, each from the one before.
    for width, size in sorted(variants.sizes(stored.size).items(), reverse=True):
        resize_s, small = timed(
            lambda size=size, source=source: source.resize(size, render.RESAMPLE, reducing_gap=2.0)
        )
        source = small
        for fmt in variants.FORMATS:
            seconds, thumbnail = timed(
                lambda fmt=fmt, small=small, width=width: variants._encode(small, fmt, width)
            )
            size_bytes = thumbnail.content.seek(0, io.SEEK_END)  # an unnamed temporary file
            row = {"format": fmt, "size": list(size), "seconds": seconds, "bytes": size_bytes}
            rows.append({**row, "resize_s": resize_s})
        for speed in (6, 7, 8, 9):
            options = {"quality": variants.AVIF_QUALITY[width], "speed": speed}

            def avif(small=small, options=options) -> int:
                buffer = io.BytesIO()
                small.save(buffer, "AVIF", **options)
                return len(buffer.getvalue())

            seconds, size_bytes = timed(avif)
            total = speeds.setdefault(speed, {"seconds": 0.0, "bytes": 0})
            total["seconds"] += seconds
            total["bytes"] += size_bytes
    return {"rows": rows, "speeds": speeds}


def print_thumbnails(result: dict) -> None:
    print("\nthumbnails of the 24 MP JPEG's stored image (4096 x 2731), medians")
    print(f"  {'format':<6} {'size':>11} {'resize ms':>10} {'encode ms':>10} {'bytes':>8}")
    for row in result["rows"]:
        size = "x".join(str(n) for n in row["size"])
        print(
            f"  {row['format']:<6} {size:>11} {row['resize_s'] * 1000:>10.0f}"
            f" {row['seconds'] * 1000:>10.0f} {row['bytes']:>8}"
        )
    total_ms = sum(row["seconds"] for row in result["rows"]) * 1000
    print(f"  encoding all six: {total_ms:.0f} ms, {sum(r['bytes'] for r in result['rows'])} bytes")
    print("  AVIF, the three widths together, by speed:")
    for speed, total in sorted(result["speeds"].items(), key=lambda item: int(item[0])):
        print(f"    speed {speed}: {total['seconds'] * 1000:>5.0f} ms, {total['bytes']:>7} bytes")


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
    parser.add_argument("--child", choices=["ours", "naive", "thumbnails"], help=argparse.SUPPRESS)
    parser.add_argument("--image", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run = {"ours": run_ours, "naive": run_naive, "thumbnails": run_thumbnails}[args.child]
        print(json.dumps(run(args.image, args.runs)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        paths = make_inputs(Path(tmp))
        print(f"runs per pipeline and input: {args.runs} (each in a fresh process)")
        results = {
            name: {pipeline: measure(pipeline, path, args.runs) for pipeline in ("ours", "naive")}
            for name, path in paths.items()
        }
        sizes = {name: path.stat().st_size / 1e6 for name, path in paths.items()}
        thumbnails = measure("thumbnails", paths["24mp.jpg"], args.runs)

    for name, by_pipeline in results.items():
        print(f"\n{name} ({sizes[name]:.1f} MB)")
        header = f"  {'pipeline':<8} {'median s':>9} {'min s':>7} {'peak RSS MB':>12}"
        print(f"{header} {'before MB':>10} {'pipeline MB':>12}")
        for pipeline, result in by_pipeline.items():
            result["pipeline_mb"] = result["peak_mb"] - result["baseline_mb"]
            print(
                f"  {pipeline:<8} {statistics.median(result['times']):>9.3f}"
                f" {min(result['times']):>7.3f} {result['peak_mb']:>12.0f}"
                f" {result['baseline_mb']:>10.0f} {result['pipeline_mb']:>12.0f}"
            )
        ours, naive = by_pipeline["ours"], by_pipeline["naive"]
        time_ratio = statistics.median(naive["times"]) / statistics.median(ours["times"])
        memory_ratio = naive["pipeline_mb"] / ours["pipeline_mb"]
        print(f"  naive / ours: {time_ratio:.2f}x the time, {memory_ratio:.2f}x the memory")
    print_thumbnails(thumbnails)
    print(
        "\ngoal: for the 24 MP JPEG, ours at most 0.6 s and 160 MB (pipeline memory: peak"
        " minus the process before the first ingest); for every input, leaner than naive"
    )


if __name__ == "__main__":
    main()
