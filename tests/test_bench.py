"""bench/ingest.py reaches into the ingest code's internals to time each thumbnail: a change
there must not leave the benchmark broken until someone next runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def test_the_ingest_benchmark_times_every_thumbnail(tmp_path):
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (1200, 800), (120, 90, 60)).save(path)

    output = subprocess.run(
        [sys.executable, "bench/ingest.py", "--child", "thumbnails", "--image", str(path),
         "--runs", "1"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
    ).stdout  # fmt: skip

    rows = json.loads(output)["rows"]
    assert {row["format"] for row in rows} == {"AVIF", "WEBP"}
    assert all(row["bytes"] > 0 for row in rows)
