"""Pillow work for uploads: sniff, admit, decode, normalise, thumbnail. Knows nothing of
Django but its translations (refusals are read by the person who sent the file)."""

from __future__ import annotations

import hashlib
import io
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import IO

import pillow_heif
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from PIL import ExifTags, Image

from uploads.ingest import formats, memory_budget, render, variants

JPEG_QUALITY = 85
_CORRUPT = _(
    "This image is damaged or incomplete, so it could not be read. "
    "Save or export it again, then upload the new file."
)
_FORMAT_NAMES = {"WEBP": "WebP", "HEIF": "HEIC"}
# What Pillow reads from the header of a JPEG it wrote itself (no EXIF, ICC or comment).
_JFIF_FIELDS = ("jfif", "jfif_version", "jfif_unit", "jfif_density", "dpi")

# HEIC through pillow-heif; AVIF is Pillow's own. Embedded thumbnails, depth and auxiliary
# images are never used, so they are not read either.
pillow_heif.register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)


# Every image is opened here, and refused by MAX_IMAGE_PIXELS and the decode budget before
# any pixel is decoded. Pillow's own global limit would refuse (or, through a process-wide
# warnings filter, warn about) images those settings admit.
Image.MAX_IMAGE_PIXELS = None


class ImageRejected(ValueError):
    """An upload we refuse; its text is written for the person who sent it."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ProcessedImage:
    """What gets stored: the normalised image, its thumbnails and their facts. Encoded
    files are unnamed temporary files, never in memory (a 9 MB PNG can be stored as 25 MB),
    so that they can wait for storage after the decode turn."""

    content: IO[bytes]
    format: str  # "JPEG" or "PNG"
    width: int
    height: int
    sha256: str
    thumbnails: list[variants.Thumbnail]
    # What the stored image lost, for the sender: "first_frame" (of an animation),
    # "8_bit" (from 16 bits per channel), "scaled_down" (to IMAGE_MAX_EDGE); nothing for an
    # image stored as it is (a restored archive's).
    changes: frozenset[str] = frozenset()

    @property
    def extension(self) -> str:
        return "jpg" if self.format == "JPEG" else "png"


@dataclass(frozen=True)
class Limits:
    """What an upload may be: pixels, the memory its decode needs, the stored long edge."""

    max_pixels: int
    max_decode_bytes: int
    max_edge: int


def process(data: bytes, limits: Limits) -> ProcessedImage:
    """Validate image bytes by content and return the normalised image and its thumbnails."""
    source_format = _sniff(data)
    full, changes = _decode_and_render(data, source_format, limits)
    try:
        # PNG keeps transparency and lossless sources lossless; everything else is JPEG.
        fmt = "PNG" if full.mode == "RGBA" or source_format in ("PNG", "GIF") else "JPEG"
        content = tempfile.TemporaryFile()  # noqa: SIM115 (unnamed: gone when closed, or with us)
        full.save(content, fmt, quality=JPEG_QUALITY)  # PNG has no quality: Pillow ignores it
        thumbnails = variants.make(full)  # from the stored pixels: no second decode
    finally:
        full.close()  # its pixels; its size stays
    content.seek(0)
    sha256 = hashlib.file_digest(content, "sha256").hexdigest()
    return ProcessedImage(content, fmt, *full.size, sha256, thumbnails, changes)


def verify(data: bytes, limits: Limits) -> tuple[str, tuple[int, int]]:
    """Check image bytes as an upload's are checked (by content, the pixel limit and the
    memory budget, every pixel decoded) without changing them, and that they are an image
    as process() stores one, so they may be stored as they are: a JPEG or PNG within the
    edge, in L, RGB or RGBA, one frame, nothing but JFIF's own header fields beside the
    pixels (no EXIF, and so no orientation to apply, no ICC profile, XMP, comment or PNG
    text). Their format and size."""
    source_format = _sniff(data)
    with _open(data, source_format) as img:
        size = img.size  # before _admit_and_load, which may draft a JPEG to a smaller decode
        _admit_and_load(img, data, source_format, limits)
        as_stored = source_format in ("JPEG", "PNG") and img.mode in ("L", "RGB", "RGBA")
        as_stored &= not _is_animated(img) and not set(img.info) - set(_JFIF_FIELDS)
    as_stored &= source_format == "JPEG" or formats.without_text_chunks(data) == data
    if not as_stored or max(size) > limits.max_edge:
        raise ImageRejected(_("This is not a JPEG or PNG as export_shelf writes them."), "kind")
    return source_format, size


def _sniff(data: bytes) -> str:
    """The format the bytes say, or the refusal of an empty file or one we do not accept."""
    if not data:
        raise ImageRejected(_("The file is empty."), "empty")
    source_format = formats.sniff_format(data[:64])
    if source_format is None:
        message = _("This file is not an image we accept (%(formats)s).")
        raise ImageRejected(message % {"formats": formats.ACCEPTED}, "unsupported")
    return source_format


def clean_title(filename: str) -> str:
    """A readable default title from a client's file name: no path, extension or oddities."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.lstrip(".") else name
    stem = "".join(ch for ch in stem if unicodedata.category(ch)[0] != "C")
    return re.sub(r"[_\s]+", " ", stem).strip(" .-")  # cut to the field's length on save


def _decode_and_render(
    data: bytes, source_format: str, limits: Limits
) -> tuple[Image.Image, frozenset[str]]:
    """(the stored image, its changes): the decoded image is freed on return unless it is it."""
    img = _open(data, source_format)
    full = None
    try:
        changes = {"first_frame"} if _is_animated(img) else set()
        if source_format == "PNG" and data[24:25] == b"\x10":  # IHDR's bit depth; Pillow keeps 8
            changes.add("8_bit")
        if max(img.size) > limits.max_edge:  # before a JPEG's draft scale
            changes.add("scaled_down")
        _admit_and_load(img, data, source_format, limits)
        # Scaled down so that the long edge is at most max_edge; never scaled up.
        scale = min(1.0, limits.max_edge / max(img.size))
        target = max(1, round(img.width * scale)), max(1, round(img.height * scale))
        full = render.render(img, target, _orientation(img))
    finally:
        if full is not img:  # refused, failed, or rendered into a new image
            img.close()  # and its decoder's buffers go with the last reference, on return
    # Nothing from the upload's metadata (EXIF, GPS, XMP, ICC, comments) is written back.
    full.info = {}
    return full, frozenset(changes)


def _open(data: bytes, source_format: str) -> Image.Image:
    """Parse the header only (no pixels yet)."""
    if source_format == "PNG":
        data = formats.without_text_chunks(data)
    try:
        return Image.open(io.BytesIO(data), formats=[source_format])
    except Exception:
        # Pillow raises many types on malformed headers; all mean the same to the sender.
        raise ImageRejected(_CORRUPT, "corrupt") from None


def _is_animated(img: Image.Image) -> bool:
    """Whether there are frames beyond the first (GIF walks them; their pixels are not read)."""
    try:
        return getattr(img, "n_frames", 1) > 1
    except Exception:
        try:
            img.seek(0)  # a damaged later frame: only the first is used
        except Exception:
            raise ImageRejected(_CORRUPT, "corrupt") from None
        return True


def _admit_and_load(img: Image.Image, data: bytes, source_format: str, limits: Limits) -> None:
    """Admit the image: refuse too many pixels, or an ingest that needs more memory than the
    budget; a JPEG that needs less at a reduced scale is decoded at that scale. Then decode
    every pixel of the frame we use, so that damage is refused, never stored."""
    width, height = img.size
    if width * height > limits.max_pixels:
        raise _too_many_pixels(width, height, limits.max_pixels / 1_000_000)
    budget, edge = limits.max_decode_bytes, limits.max_edge
    if source_format == "JPEG" and not formats.lossless_jpeg(data):
        scale = memory_budget.jpeg_scale(img.size, img.mode, budget, edge)
        # At scale 1, the full decode. A side shorter than the scale is asked for as one
        # pixel (Pillow divides by it), and draft() then keeps the whole decode.
        img.draft(None, (max(1, width // scale), max(1, height // scale)))
    if memory_budget.ingest_bytes(img.size, img.mode, source_format, edge) > budget:
        most = memory_budget.most_pixels(img.size, img.mode, source_format, budget, edge)
        name = _FORMAT_NAMES.get(source_format, source_format)
        kind = _(" for %(format)s images like this one") % {"format": name}
        raise _too_many_pixels(width, height, min(limits.max_pixels, most) / 1_000_000, kind)
    try:
        img.load()
    except Exception:
        raise ImageRejected(_CORRUPT, "corrupt") from None


def _too_many_pixels(width: int, height: int, limit_mp: float, kind: str = "") -> ImageRejected:
    # Two significant digits (12, 0.52, 0.001), with the language's decimal mark.
    limit = number_format(Decimal(f"{float(f'{limit_mp:.2g}'):g}"))
    message = _(
        "This image is %(width)s × %(height)s pixels (%(megapixels)s megapixels); the "
        "limit%(kind)s is %(limit)s megapixels."
    )
    megapixels = round(width * height / 1e6)
    facts = {"width": width, "height": height, "megapixels": megapixels, "kind": kind}
    return ImageRejected(message % {**facts, "limit": limit}, "too_many_pixels")


def _orientation(img: Image.Image) -> int:
    """The EXIF orientation, read after decoding (for a PNG, reading it loads the image)."""
    try:
        return int(img.getexif().get(ExifTags.Base.Orientation, 1))
    except Exception:
        return 1  # unreadable EXIF: treat as upright rather than refuse the image
