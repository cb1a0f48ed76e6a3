"""What a file is, read from its bytes before Pillow sees it: the format it claims, a
lossless JPEG, and PNG text chunks that are never stored. Knows bytes, not Pillow."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

ACCEPTED = gettext_lazy("JPEG, PNG, WebP, GIF, HEIC or AVIF")
HEIF_BRANDS = (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs")
AVIF_BRANDS = (b"avif", b"avis")


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
    if head[4:8] == b"ftyp":  # ISO media: the major brand, then the compatible ones
        box_end = min(len(head), int.from_bytes(head[:4], "big"))
        brands = [head[8:12]] + [head[at : at + 4] for at in range(16, box_end - 3, 4)]
        if any(brand in AVIF_BRANDS for brand in brands):
            return "AVIF"
        if any(brand in HEIF_BRANDS for brand in brands) or head[8:12] in (b"mif1", b"msf1"):
            return "HEIF"
    return None


def lossless_jpeg(data: bytes) -> bool:
    """A lossless JPEG (SOF3, 7, 11 or 15), which libjpeg decodes at full scale only."""
    at = 2
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):  # a frame header
            return marker in (0xC3, 0xC7, 0xCB, 0xCF)
        at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
    return False


PNG_TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")


def without_text_chunks(data: bytes) -> bytes:
    """A PNG without its text chunks, which are never stored: Pillow refuses a compressed
    one that inflates past its limit (PngImagePlugin.MAX_TEXT_CHUNK), and what metadata
    holds must never refuse an image. A PNG whose chunks do not add up is left as it is,
    for the decoder to judge."""
    kept, offset = [data[:8]], 8
    while offset + 8 <= len(data):
        length = int.from_bytes(data[offset : offset + 4], "big")
        end = offset + 12 + length  # length, type, data, CRC
        if end > len(data):
            return data
        if data[offset + 4 : offset + 8] not in PNG_TEXT_CHUNKS:
            kept.append(data[offset:end])
        offset = end
    return b"".join(kept) if offset == len(data) else data
