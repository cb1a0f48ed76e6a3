"""How much memory an image's ingest needs at its peak, known from its header alone.

Two moments are the peak, whichever is larger: the decode, where some libraries hold
copies of their own besides Pillow's image, and the conversion, where the decoded image
and the stored one (at most the long-edge cap square) are both alive. Knows Pillow's
modes, not Django.
"""

from __future__ import annotations

GREY_MODES = ("1", "L", "I", "F", "I;16", "I;16L", "I;16B", "I;16N")
# Bytes per pixel of the mode Pillow decodes to (its RGB keeps four bytes a pixel).
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
# How many times the decoded image's size a decode holds at its peak: these libraries
# decode into buffers of their own, which Pillow then copies (measured on this machine:
# WebP 4.4x, AVIF 2.4x, HEIC 2.0x; JPEG, PNG and GIF decode in place).
_DECODE_COPIES = {"WEBP": 4.5, "AVIF": 2.5, "HEIF": 2.0}
JPEG_SCALES = (1, 2, 4, 8)  # what libjpeg can decode at, for a fraction of the work


def ingest_bytes(size: tuple[int, int], mode: str, source_format: str, max_edge: int) -> float:
    """Bytes at the peak of ingesting an image of this size (as decoded), mode and format."""
    per_pixel, copies, stored_per_pixel = _factors(mode, source_format)
    decoded = size[0] * size[1] * per_pixel
    shrink = min(1.0, max_edge / max(size))  # the stored image: at most the long-edge cap
    stored = size[0] * size[1] * shrink * shrink
    return max(decoded * copies, decoded + stored * stored_per_pixel)


def most_pixels(
    size: tuple[int, int], mode: str, source_format: str, budget: int, max_edge: int
) -> float:
    """The most pixels an image of this shape, mode and format may have within `budget`."""
    per_pixel, copies, stored_per_pixel = _factors(mode, source_format)
    capped = max_edge * max_edge * min(size) / max(size)  # stored pixels once over the cap
    # The conversion: pixels x per_pixel + min(pixels, capped) x stored_per_pixel <= budget.
    converting = budget / (per_pixel + stored_per_pixel)
    if converting > capped:
        converting = (budget - capped * stored_per_pixel) / per_pixel
    return min(budget / (per_pixel * copies), converting)


def jpeg_scale(size: tuple[int, int], mode: str, budget: int, max_edge: int) -> int:
    """The scale to decode a JPEG at: the smallest decode that keeps 90 % of the stored long
    edge, or smaller still while the ingest would need more than `budget`."""
    longest = max(size)
    keep = min(longest, max_edge) * 0.9
    scale = max(s for s in JPEG_SCALES if longest // s >= keep)
    while scale < JPEG_SCALES[-1]:
        decoded = -(-size[0] // scale), -(-size[1] // scale)  # libjpeg rounds up
        if ingest_bytes(decoded, mode, "JPEG", max_edge) <= budget:
            break
        scale *= 2
    return scale


def _factors(mode: str, source_format: str) -> tuple[int, float, int]:
    stored_per_pixel = 1 if mode in GREY_MODES else 4  # L, or RGB / RGBA
    return _BYTES_PER_PIXEL.get(mode, 4), _DECODE_COPIES.get(source_format, 1), stored_per_pixel
