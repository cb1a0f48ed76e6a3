"""Turn a decoded image into the stored one in a single pass of small bands.

Each band of rows is cropped from the decoded image, converted to the stored mode,
resized, converted to sRGB and turned upright, then pasted into the output. Only the
decoded image and the output are ever full size: no conversion makes a full-size copy.
Knows Pillow, not Django.
"""

from __future__ import annotations

import io
import math
from concurrent.futures import ThreadPoolExecutor

from PIL import Image, ImageCms

from uploads.ingest.memory_budget import GREY_MODES

# Bands run on two threads: Pillow releases the GIL while it converts and resamples.
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="imageshelf-render")
_BAND_ROWS = 32  # output rows per band
# Hamming: Pillow's antialiased windowed filter, sharper than bilinear at its speed; for
# the usual cap (scaling down by less than 2x) about twice as fast as Lanczos.
RESAMPLE = Image.Resampling.HAMMING
_SUPPORT = 1.0  # the Hamming filter's support, in source pixels at scale 1

# EXIF orientation -> the transpose that makes the pixels upright (as ImageOps.exif_transpose).
ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_SRGB = ImageCms.createProfile("sRGB")
# Resized as they are, reading around the box; Pillow resizes RGBA by converting the whole
# image to premultiplied alpha first, so RGBA bands are cropped first like other modes.
_RESAMPLED_MODES = ("RGB", "L", "CMYK")
_ALPHA_MODES = ("RGBA", "LA", "La", "RGBa", "PA")


def render(img: Image.Image, size: tuple[int, int], orientation: int) -> Image.Image:
    """The stored image: `img` scaled to `size` (before turning upright), in its stored mode
    and sRGB, turned upright by the EXIF `orientation`; `img` itself when it already is."""
    mode = stored_mode(img)
    transpose = ORIENTATION_TRANSPOSE.get(orientation)
    colour = _colour_transform(img, mode)  # the embedded profile -> sRGB
    if (img.mode, img.size, transpose, colour) == (mode, size, None, None):
        return img
    width, height = size
    # Where a band lands once transposed follows from two facts about the orientation:
    # rows become columns (5 to 8), and the first row ends up last or rightmost (3, 4, 6, 7).
    swaps, reverses = orientation in (5, 6, 7, 8), orientation in (3, 4, 6, 7)
    # Upright, and uninitialised: every row is pasted.
    out = Image.new(mode, (height, width) if swaps else (width, height), None)
    scale = img.height / height
    edges = list(range(0, height, _BAND_ROWS)) + [height]

    resizing = img.size != size
    # When resizing these modes, the resampler reads the rows around a box itself; anything
    # else is cropped into a band (and converted) first.
    in_place = resizing and img.mode in _RESAMPLED_MODES and "transparency" not in img.info

    def render_band(rows: tuple[int, int]) -> None:
        top, bottom = rows
        if in_place:
            band, first = img, 0
        else:  # a copy of the band in the stored mode, with the rows around it the filter reads
            margin = math.ceil(_SUPPORT * max(scale, 1)) + 1 if resizing else 0
            first = max(0, math.floor(top * scale) - margin)
            last = min(img.height, math.ceil(bottom * scale) + margin)
            band = _web_mode(img.crop((0, first, img.width, last)), mode)
        if resizing:
            box = (0, top * scale - first, img.width, bottom * scale - first)
            band = band.resize((width, bottom - top), RESAMPLE, box=box)
        if colour is not None:
            band = ImageCms.applyTransform(band, colour)
        elif band.mode == "CMYK":
            band = band.convert("RGB")
        if transpose is not None:
            band = band.transpose(transpose)
        # Where the band lands once transposed: rows [top, bottom), counted from the end
        # when the transpose puts the first row last (or rightmost).
        start = height - bottom if reverses else top
        out.paste(band, (start, 0) if swaps else (0, start))  # disjoint areas

    list(_POOL.map(render_band, zip(edges, edges[1:], strict=False)))
    return out


def stored_mode(img: Image.Image) -> str:
    """L for grey, RGBA when some pixel is see-through, RGB for everything else."""
    if img.mode in GREY_MODES:
        return "L"
    return "RGBA" if _has_visible_alpha(img) else "RGB"


def _has_visible_alpha(img: Image.Image) -> bool:
    """Whether any pixel is transparent; alpha that hides nothing is dropped."""
    if img.mode in _ALPHA_MODES:
        return img.getextrema()[-1][0] < 255
    transparency = img.info.get("transparency")
    if transparency is None:
        return False
    if img.mode != "P":
        return True  # a colour key (rare): keep it rather than scan every pixel
    counts = img.histogram()
    if isinstance(transparency, int):
        return counts[transparency] > 0
    return any(alpha < 255 and counts[index] for index, alpha in enumerate(transparency))


def _web_mode(band: Image.Image, mode: str) -> Image.Image:
    """A band in a mode the resampler and sRGB conversion take: L, RGB, RGBA or CMYK."""
    if band.mode.startswith("I;16") or band.mode in ("I", "F"):
        # 16-bit grey: scale to 8 bits instead of clipping everything above 255 to white.
        return band.convert("I").point(lambda value: value * (1 / 257)).convert("L")
    if band.mode in (mode, "CMYK"):  # CMYK becomes RGB after resizing (through its profile)
        return band
    return band.convert(mode)


def _colour_transform(img: Image.Image, mode: str) -> ImageCms.ImageCmsTransform | None:
    """A transform from the embedded profile to sRGB, or None when there is nothing to do."""
    icc_profile = img.info.get("icc_profile")
    source_mode = "CMYK" if img.mode == "CMYK" else mode
    if not icc_profile or mode == "L":  # grey stays as it is
        return None
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if source_mode != "CMYK" and "srgb" in ImageCms.getProfileDescription(source).lower():
            return None
        # NOCACHE: the bands share one transform across threads.
        return ImageCms.buildTransform(
            source, _SRGB, source_mode, mode, flags=ImageCms.Flags.NOCACHE
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None  # a broken profile: keep the pixels as they are rather than refuse
