"""Real image bytes for tests, made with Pillow (no binary fixtures in the repository)."""

from __future__ import annotations

import io

from PIL import Image


def image_bytes(fmt: str = "PNG", size=(64, 48), color=(200, 30, 30), mode="RGB", **save) -> bytes:
    """A small solid image (with a gradient, so no two colours encode the same)."""
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


def stored_files(root) -> list[str]:
    """Every file under a MEDIA_ROOT, as storage names ("images/….jpg")."""
    from pathlib import Path

    root = Path(root)
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
