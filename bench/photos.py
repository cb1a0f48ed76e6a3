"""Generated photographs for the page benchmarks: a painted landscape with texture at
every scale, finer texture weaker (as in photographs), the sky smoother than the ground.

Thumbnails of these cost about what a camera photo's do (a 720 px AVIF: about 16 KB
landscape, 30 KB portrait); noise alone would be incompressible at every size, and the
painted landscape alone would be almost free.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.scenery import SCENES, landscape  # noqa: E402

OCTAVES = ((64, 0.35), (16, 0.15), (4, 0.05))  # (feature size in px, weight)


def photo(size: tuple[int, int], seed: int = 0):
    """A photograph-like RGB image of `size`; another seed, another picture."""
    from PIL import Image, ImageChops

    width, height = size
    base = Image.open(io.BytesIO(landscape(SCENES[seed % len(SCENES)], size, seed)))
    texture = Image.new("L", size, 128)
    for feature, weight in OCTAVES:
        small = (max(1, width // feature), max(1, height // feature))
        layer = Image.effect_noise(small, 64).resize(size, Image.Resampling.BICUBIC)
        texture = Image.blend(texture, layer, weight)
    textured = ImageChops.overlay(base.convert("RGB"), texture.convert("RGB"))
    sky_to_ground = Image.linear_gradient("L").resize(size).point(lambda v: 60 + v * 195 // 255)
    return Image.composite(textured, base.convert("RGB"), sky_to_ground)


def save_photo(path: Path, size: tuple[int, int], seed: int) -> None:
    """A JPEG (quality 90), as a camera would write it."""
    photo(size, seed).save(path, "JPEG", quality=90)
