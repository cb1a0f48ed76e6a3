"""Thumbnails: the stored image at a few widths, in AVIF and WebP. Knows Pillow, not Django.

The set is declared here once (WIDTHS x FORMATS): the row keeps each stored thumbnail in
one JSON field under key(format, width), and the page, the admin and reconcile_media read
it from there. The widths cover a card's width on a phone at 3x, a tablet and a desktop at
1x and 2x. Each thumbnail keeps the image's aspect ratio: portraits are shown whole.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import IO

from PIL import Image

from uploads.ingest import render

# The thumbnail widths, each with its AVIF quality: the wider files are for denser
# screens, where each pixel is smaller and artefacts show less, so they are compressed
# harder ("compressive images").
AVIF_QUALITY = {480: 50, 720: 38, 1080: 34}
WIDTHS = tuple(AVIF_QUALITY)
FORMATS = ("AVIF", "WEBP")  # the page offers them in this order: the smaller first
EXTENSIONS = {"AVIF": "avif", "WEBP": "webp"}
# Faster than Pillow's default (6) for files a little larger: bench/ingest.py measures it
# (docs/benchmarks.md).
AVIF_SPEED = 8
WEBP_OPTIONS = {"quality": 80}


@dataclass(frozen=True)
class Thumbnail:
    """One encoded thumbnail: where the row keeps its name, its file's extension and its
    file (an unnamed temporary file, as imaging.ProcessedImage's)."""

    key: str  # key(format, width)
    extension: str  # EXTENSIONS[format]
    content: IO[bytes]


def key(fmt: str, width: int) -> str:
    """Where the row keeps this thumbnail's name: "webp-480"."""
    return f"{fmt.lower()}-{width}"


def sizes(image_size: tuple[int, int]) -> dict[int, tuple[int, int]]:
    """The pixel size of the thumbnail for each width; a width is left out when a narrower
    one already holds the whole image (nothing is scaled up)."""
    width, height = image_size
    result = {}
    for target in WIDTHS:
        shown = min(target, width)
        result[target] = (shown, max(1, round(height * shown / width)))
        if shown == width:  # the whole image: every wider one would be the same
            break
    return result


def make(img: Image.Image) -> list[Thumbnail]:
    """Every thumbnail of an image already upright, in sRGB and web mode (L, RGB, RGBA); a
    JPEG not yet decoded is decoded at the smallest scale that still covers the widest."""
    sized = sizes(img.size)
    img.draft(None, max(sized.values()))  # a no-op for other formats and decoded images
    thumbnails = []
    source = img
    # Widest first, each from the one before: only the first resize reads the full image.
    for width, size in sorted(sized.items(), reverse=True):
        # reducing_gap: a cheap box reduction first, so the filter never spans many pixels.
        source = source.resize(size, render.RESAMPLE, reducing_gap=2.0)
        source.info = {}  # nothing from the source's metadata is written
        thumbnails.extend(_encode(source, fmt, width) for fmt in FORMATS)
    return thumbnails


def make_from_stored(file: IO[bytes], stored_format: str) -> list[Thumbnail]:
    """Every thumbnail of a stored image (already normalised)."""
    with Image.open(file, formats=[stored_format]) as img:
        return make(img)


def _encode(img: Image.Image, fmt: str, width: int) -> Thumbnail:
    """One thumbnail, encoded into an unnamed temporary file."""
    encoded = tempfile.TemporaryFile()  # noqa: SIM115 (as imaging's)
    if fmt == "AVIF":
        img.save(encoded, "AVIF", quality=AVIF_QUALITY[width], speed=AVIF_SPEED)
    else:
        img.save(encoded, "WEBP", **WEBP_OPTIONS)
    return Thumbnail(key(fmt, width), EXTENSIONS[fmt], encoded)
