"""Pillow work for uploads: sniff, validate, normalise and thumbnail. Knows nothing of Django."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from PIL import Image, ImageCms

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
JPEG_QUALITY = 85
WEBP_QUALITY = 80

# Markers of web content hidden in image data (polyglots), matched on lower-cased bytes.
# Long enough not to turn up by chance in compressed pixels (about 1 in 10^5 uploads).
_MARKUP = re.compile(
    rb"<(?:script|iframe|object|embed|!doctype|\?php|html[\s>]|body[\s>]|svg[\s>])"
)
# Thumbnails and large resizes run on two threads: Pillow releases the GIL while it works.
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="imageshelf-imaging")
_BANDED_RESIZE_MIN_PIXELS = 2_000_000
_BAND_ROWS = 32
# Hamming: Pillow's antialiased windowed filter, sharper than bilinear at its speed; for
# the usual cap (scaling down by less than 2x) about twice as fast as Lanczos.
_RESAMPLE = Image.Resampling.HAMMING

# EXIF orientation -> the transpose that makes the pixels upright (as ImageOps.exif_transpose).
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_EXIF_ORIENTATION = 0x0112
_SIDEWAYS = (5, 6, 7, 8)  # orientations that swap width and height
_SRGB = ImageCms.createProfile("sRGB")
_CORRUPT = (
    "This image is damaged or incomplete, so it could not be read. "
    "Save or export it again, then upload the new file."
)


class ImageRejected(ValueError):
    """An upload we refuse; `message` is written for the person who sent it."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class ProcessedImage:
    """What gets stored: the normalised image, its thumbnail and their facts."""

    content: bytes
    format: str  # "JPEG" or "PNG"
    width: int
    height: int
    sha256: str
    thumbnail: bytes  # WebP
    source_format: str
    animated: bool

    @property
    def extension(self) -> str:
        return "jpg" if self.format == "JPEG" else "png"


def process(data: bytes, *, max_pixels: int, max_edge: int, thumb_edge: int) -> ProcessedImage:
    """Validate image bytes by content and return the normalised image and its thumbnail."""
    if not data:
        raise ImageRejected("The file is empty.", "empty")
    source_format = sniff_format(data[:16])
    if source_format is None:
        raise ImageRejected(
            "This file is not an image we accept (JPEG, PNG, WebP or GIF).", "unsupported"
        )
    if contains_markup(data):
        raise ImageRejected(
            "This file mixes an image with web page code (HTML or script), so it was refused.",
            "polyglot",
        )
    img = _open(data, source_format, max_pixels)
    full = img
    try:
        animated = getattr(img, "n_frames", 1) > 1
        target = fit_within(img.size, max_edge)
        upright = target[::-1] if _orientation(img) in _SIDEWAYS else target
        # The thumbnail decodes its own small copy on the other core meanwhile.
        thumbnail = _POOL.submit(
            make_thumbnail, data, source_format, fit_within(upright, thumb_edge)
        )
        if source_format == "JPEG":
            img.draft(None, target)  # decode straight at a reduced scale when the cap allows
        _decode(img)
        full = normalise(img, target)
    finally:
        if full is not img:
            img.close()  # free the full-size pixels before encoding
    # PNG keeps transparency and lossless sources lossless; everything else is JPEG.
    fmt = "PNG" if full.mode == "RGBA" or source_format in ("PNG", "GIF") else "JPEG"
    content = _encode(full, fmt)
    width, height = full.size
    full.close()
    try:
        thumbnail_bytes = thumbnail.result()
    except Exception:
        raise ImageRejected(_CORRUPT, "corrupt") from None
    return ProcessedImage(
        content=content,
        format=fmt,
        width=width,
        height=height,
        sha256=hashlib.sha256(content).hexdigest(),
        thumbnail=thumbnail_bytes,
        source_format=source_format,
        animated=animated,
    )


def sniff_format(head: bytes) -> str | None:
    """Name the format from the file's first bytes; None for anything we do not accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WEBP"
    return None


def contains_markup(data: bytes) -> bool:
    """True when HTML or script markers appear anywhere in the bytes (a polyglot file)."""
    return _MARKUP.search(data.lower()) is not None


def fit_within(size: tuple[int, int], edge: int) -> tuple[int, int]:
    """Scale (width, height) down so the long edge is at most `edge`; never scale up."""
    width, height = size
    longest = max(width, height)
    if longest <= edge:
        return width, height
    scale = edge / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def normalise(img: Image.Image, target: tuple[int, int]) -> Image.Image:
    """Return the decoded image upright, in sRGB, in a web-safe mode and scaled to `target`."""
    orientation = _orientation(img)
    icc_profile = img.info.get("icc_profile")
    out = img if img.mode in ("RGB", "RGBA", "L", "CMYK") else _web_mode(img)
    if out.size != target:
        resized = _resize(out, target)
        if out is not img:
            out.close()
        out = resized
    out = _to_srgb(out, icc_profile)
    if orientation in _ORIENTATION_TRANSPOSE:
        out = out.transpose(_ORIENTATION_TRANSPOSE[orientation])
    if out.mode == "RGBA" and out.getchannel("A").getextrema() == (255, 255):
        out = out.convert("RGB")  # alpha that hides nothing is dropped
    # Nothing from the upload's metadata (EXIF, GPS, XMP, ICC, comments) is written back.
    out.info = {}
    return out


def make_thumbnail(data: bytes, source_format: str, size: tuple[int, int]) -> bytes:
    """WebP thumbnail of exactly `size` (upright), decoded at reduced scale for JPEGs."""
    with Image.open(io.BytesIO(data), formats=[source_format]) as img:
        # `size` is upright; the draft request must match the stored (sideways) layout.
        sideways = _orientation(img) in _SIDEWAYS
        stored_size = (size[1], size[0]) if sideways else size
        if source_format == "JPEG":
            img.draft(None, stored_size)
        buffer = io.BytesIO()
        normalise(img, stored_size).save(buffer, "WEBP", quality=WEBP_QUALITY)
    return buffer.getvalue()


def clean_title(filename: str, max_length: int = 200) -> str:
    """A readable default title from a client's file name: no path, extension or oddities."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    stem = "".join(ch for ch in stem if unicodedata.category(ch)[0] != "C")
    stem = re.sub(r"[_\s]+", " ", stem).strip(" .-")
    return stem[:max_length]


def _open(data: bytes, source_format: str, max_pixels: int) -> Image.Image:
    """Parse the header only (no pixels yet) and refuse images with too many pixels."""
    limit_mp = max_pixels / 1_000_000
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=[source_format])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageRejected(
            f"This image has far too many pixels; the limit is {limit_mp:g} megapixels.",
            "too_many_pixels",
        ) from None
    except Exception:
        # Pillow raises many types on malformed headers; all mean the same to the sender.
        raise ImageRejected(_CORRUPT, "corrupt") from None
    width, height = img.size
    if width * height > max_pixels:
        img.close()
        raise ImageRejected(
            f"This image is {width} × {height} pixels ({width * height / 1_000_000:.0f} "
            f"megapixels); the limit is {limit_mp:g} megapixels.",
            "too_many_pixels",
        )
    return img


def _decode(img: Image.Image) -> None:
    """Decode every pixel now, so truncated or corrupt data is refused, never half-stored."""
    try:
        img.load()
    except Exception:
        img.close()
        raise ImageRejected(_CORRUPT, "corrupt") from None


def _resize(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Resize; large images go in bands on two threads, pasted in place as they finish.

    Bands keep Pillow's intermediate (source rows x new width) small, and the GIL is
    released while each band is resampled, so two cores share the work.
    """
    width, height = size
    if width * height < _BANDED_RESIZE_MIN_PIXELS:
        return img.resize(size, _RESAMPLE)
    out = Image.new(img.mode, size, None)  # uninitialised: every row is pasted below
    scale = img.height / height
    edges = list(range(0, height, _BAND_ROWS)) + [height]

    def resize_band(rows: tuple[int, int]) -> None:
        top, bottom = rows
        # `box` samples the source band with its neighbours, so seams are invisible.
        box = (0, top * scale, img.width, bottom * scale)
        band = img.resize((width, bottom - top), _RESAMPLE, box=box)
        out.paste(band, (0, top))  # disjoint rows: safe from two threads
        band.close()

    list(_POOL.map(resize_band, zip(edges, edges[1:], strict=False)))
    return out


def _orientation(img: Image.Image) -> int:
    try:
        return int(img.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:
        return 1  # unreadable EXIF: treat as upright rather than refuse the image


def _web_mode(img: Image.Image) -> Image.Image:
    """Convert palette, 16-bit, bilevel and grey+alpha images to RGB, RGBA or L."""
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        # 16-bit grey: scale to 8 bits instead of clipping everything above 255 to white.
        return img.convert("I").point(lambda value: value * (1 / 257)).convert("L")
    if img.mode == "1":
        return img.convert("L")
    has_alpha = img.mode in ("LA", "La", "PA", "RGBa") or "transparency" in img.info
    return img.convert("RGBA" if has_alpha else "RGB")


def _to_srgb(img: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """Convert colours to sRGB using the embedded profile; CMYK always becomes RGB."""
    if icc_profile and img.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            if img.mode != "CMYK" and "srgb" in ImageCms.getProfileDescription(source).lower():
                return img
            return ImageCms.profileToProfile(
                img, source, _SRGB, outputMode="RGBA" if img.mode == "RGBA" else "RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: keep the pixels as they are rather than refuse
    return img.convert("RGB") if img.mode == "CMYK" else img


def _encode(img: Image.Image, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "JPEG":
        img.save(buffer, "JPEG", quality=JPEG_QUALITY)
    else:
        img.save(buffer, "PNG")
    return buffer.getvalue()
