"""Real image bytes for tests, made with Pillow (no binary fixtures in the repository)."""

from __future__ import annotations

import io

from PIL import Image


def image_bytes(fmt: str = "PNG", size=(64, 48), color=(200, 30, 30), mode="RGB", **save) -> bytes:
    """A small solid image with a blue line along the top, so orientation is visible."""
    img = Image.new(mode, size, color)
    if mode in ("RGB", "RGBA"):
        # A little structure makes encoders and orientation checks meaningful.
        for x in range(size[0] // 2):
            img.putpixel((x, 0), (0, 0, 255) + ((255,) if mode == "RGBA" else ()))
    buffer = io.BytesIO()
    img.save(buffer, fmt, **save)
    return buffer.getvalue()


def jpeg(size=(64, 48), color=(200, 30, 30), **save) -> bytes:
    return image_bytes("JPEG", size, color, **save)


def png(size=(64, 48), color=(30, 160, 60), mode="RGB", **save) -> bytes:
    return image_bytes("PNG", size, color, mode=mode, **save)


def distinct_png(index: int, size=(64, 48)) -> bytes:
    """PNGs that differ by content, so the duplicate check lets them all in."""
    return png(size=size, color=(index * 37 % 256, index * 91 % 256, index * 53 % 256))


def upload_file(data: bytes, name: str = "photo.png", content_type: str = "image/png"):
    """An uploaded file as Django's test client and services receive it."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def wait_for_background_deletes() -> None:
    """Return once the file deletions requests left to threads of their own
    (uploads/shelf/deletion.py) are done."""
    import threading

    for thread in threading.enumerate():
        if thread.name.endswith("(delete_files)"):  # Thread-N (its target's name)
            thread.join()


def stored_files(root) -> list[str]:
    """Every file under a MEDIA_ROOT, as storage names ("images/….jpg"), but for the
    marker that says whose the storage is (uploads/shelf/ownership.py)."""
    from pathlib import Path

    root = Path(root)
    names = (str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
    return sorted(name for name in names if name != ".imageshelf-owner")


# --- Files that must be refused ---------------------------------------------

TEXT = b"These are my holiday notes, not a photo.\n"
HTML = b"<!doctype html><html><body><h1>Hi</h1><script>alert(1)</script></body></html>"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" onload="alert(1)">'
    b"<script>alert(document.cookie)</script></svg>"
)
PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def noisy_jpeg(size=(256, 256)) -> bytes:
    """A JPEG with enough entropy that cutting it in half loses real image data."""
    img = Image.effect_noise(size, 80).convert("RGB")
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def noisy_png(size=(256, 256)) -> bytes:
    """Random pixels: PNG cannot compress them, so the file is about width x height x 3."""
    import os

    buffer = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with almost no data behind it."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def other_format(fmt: str) -> bytes:
    """Real images in formats we do not accept (TIFF, BMP, ICO)."""
    return image_bytes(fmt, size=(32, 32))


# --- Images that must be normalised -----------------------------------------


def jpeg_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "ShelfCam"  # Make
    exif[0x0110] = "Model 1"  # Model
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"  # GPSLatitudeRef
    gps[2] = (51.0, 30.0, 12.5)  # GPSLatitude
    gps[3] = "W"
    gps[4] = (0.0, 7.0, 39.0)
    return jpeg(size=(120, 80), exif=exif.tobytes(), comment=b"taken at home")


def jpeg_rotated_6() -> bytes:
    """Stored sideways: red on the left, blue on the right; EXIF says "rotate 90° clockwise"."""
    img = Image.new("RGB", (60, 40), (220, 20, 20))
    img.paste((20, 20, 220), (30, 0, 60, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=95, exif=exif.tobytes())
    return buffer.getvalue()


def cmyk_jpeg() -> bytes:
    return image_bytes("JPEG", size=(40, 30), color=(0, 255, 255, 0), mode="CMYK", quality=95)


def png_16bit(value: int = 40000, size=(32, 32)) -> bytes:
    buffer = io.BytesIO()
    Image.new("I;16", size, value).save(buffer, "PNG")
    return buffer.getvalue()


def palette_png_with_transparency() -> bytes:
    """Left half transparent (palette index 0), right half opaque green."""
    img = Image.new("P", (32, 32), 0)
    img.putpalette([255, 0, 0, 0, 200, 0] + [0] * 762)
    img.paste(1, (16, 0, 32, 32))
    buffer = io.BytesIO()
    img.save(buffer, "PNG", transparency=0)
    return buffer.getvalue()


def animated_gif() -> bytes:
    frames = [Image.new("RGB", (24, 24), color) for color in ((255, 0, 0), (0, 255, 0))]
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    return buffer.getvalue()


def phone_photo(fmt: str, mode="RGB", orientation=1, size=(60, 40), **save) -> bytes:
    """A HEIC ("HEIF", written by pillow-heif) or AVIF, stored sideways as jpeg_rotated_6 is:
    red on the left, blue on the right; `orientation` 6 says "rotate 90° clockwise"."""
    import pillow_heif

    pillow_heif.register_heif_opener()
    width, height = size
    alpha = (255,) if mode == "RGBA" else ()
    img = Image.new(mode, size, (220, 20, 20) + alpha)
    img.paste((20, 20, 220) + alpha, (width // 2, 0, width, height))
    if mode == "RGBA":
        img.paste((0, 0, 0, 0), (0, 0, width // 6, height // 4))  # a transparent corner
    exif = Image.Exif()
    exif[0x010F] = "ShelfPhone"  # Make
    if orientation != 1:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    img.save(buffer, fmt, quality=90, exif=exif.tobytes(), **save)
    return buffer.getvalue()


def webp(mode: str = "RGB") -> bytes:
    color = (10, 120, 200, 128) if mode == "RGBA" else (10, 120, 200)
    return image_bytes("WEBP", size=(40, 30), color=color, mode=mode)


def swapped_primaries_profile() -> bytes:
    """An RGB profile whose red and green primaries are swapped: its "red" pixels are green."""
    import struct

    from PIL import ImageCms

    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    (count,) = struct.unpack_from(">I", profile, 128)
    entries = {}
    for index in range(count):
        start = 132 + 12 * index
        entries[bytes(profile[start : start + 4])] = start
    red, green = entries[b"rXYZ"], entries[b"gXYZ"]
    profile[red + 4 : red + 12], profile[green + 4 : green + 12] = (
        profile[green + 4 : green + 12],
        profile[red + 4 : red + 12],
    )
    # Rename it, so nothing mistakes it for sRGB (the description is UTF-16).
    return bytes(profile).replace("sRGB".encode("utf-16-be"), "Swap".encode("utf-16-be"))


def open_image(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img
