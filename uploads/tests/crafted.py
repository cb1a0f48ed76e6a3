"""Files built chunk by chunk: damaged data, and markup hidden where metadata goes."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image, PngImagePlugin

from .factories import noisy_png

# What a polyglot hides: a web page, a script, PHP. None of it may reach a stored file.
MARKUP = b'<!DOCTYPE html><html><script>alert("shelf")</script><?php system($_GET["c"]); ?>'
PLIST = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN"'
    b' "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0"><dict>'
    b"<key>com.apple.print.PageFormat.PMHorizontalRes</key><real>72</real></dict></plist>"
)


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, body) of every chunk in a PNG."""
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        chunks.append((data[at + 4 : at + 8], data[at + 8 : at + 8 + length]))
        at += 12 + length
    return chunks


def png_from_chunks(chunks: list[tuple[bytes, bytes]]) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    return b"\x89PNG\r\n\x1a\n" + b"".join(chunk(kind, body) for kind, body in chunks)


def jpeg_segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def photo_jpeg(size=(96, 64)) -> bytes:
    img = Image.linear_gradient("L").resize(size).convert("RGB")
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


# --- Markup in metadata: accepted, and never stored --------------------------


def jpeg_with_comment(text: bytes = MARKUP) -> bytes:
    data = photo_jpeg()
    return data[:2] + jpeg_segment(0xFE, text) + data[2:]


def jpeg_with_xmp(text: bytes = MARKUP) -> bytes:
    packet = (
        b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        b"<rdf:RDF><rdf:Description><dc:title>" + text + b"</dc:title></rdf:Description>"
        b'</rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    )
    data = photo_jpeg()
    return data[:2] + jpeg_segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00" + packet) + data[2:]


def jpeg_with_photoshop_block(text: bytes = PLIST) -> bytes:
    """An APP13 "Photoshop 3.0" block whose 8BIM resource holds print settings (a plist)."""
    body = text + b"\x00" * (len(text) % 2)
    resource = b"8BIM" + struct.pack(">H", 0x03E9) + b"\x00\x00" + struct.pack(">I", len(text))
    data = photo_jpeg()
    block = b"Photoshop 3.0\x00" + resource + body
    return data[:2] + jpeg_segment(0xED, block) + data[2:]


def png_with_text(text: bytes = MARKUP) -> bytes:
    """The same markup in a tEXt, an iTXt and a zTXt chunk."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text.decode())
    info.add_itxt("Description", text.decode())
    info.add_text("Software", text.decode(), zip=True)
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 90, 160)).save(buffer, "PNG", pnginfo=info)
    return buffer.getvalue()


def gif_with_comment(text: bytes = MARKUP) -> bytes:
    """A GIF carrying markup in its comment and after its trailer (a GIF/HTML polyglot)."""
    buffer = io.BytesIO()
    Image.new("P", (8, 8), 1).save(buffer, "GIF", comment=text)
    return buffer.getvalue() + text


# --- Damaged files: refused ---------------------------------------------------


def png_with_corrupt_zlib() -> bytes:
    """Valid chunks and CRCs around an IDAT whose compressed stream is garbage midway."""
    chunks = png_chunks(noisy_png((64, 64)))
    kind, body = next(chunk for chunk in chunks if chunk[0] == b"IDAT")
    middle = len(body) // 3
    broken = body[:middle] + bytes(byte ^ 0xFF for byte in body[middle : middle + 64])
    broken += body[middle + 64 :]
    return png_from_chunks([(k, broken if k == b"IDAT" else b) for k, b in chunks])


def png_cut_in_its_last_chunk() -> bytes:
    """Metadata written after the pixels (as some encoders do), and the file ends inside it."""
    chunks = png_chunks(noisy_png((64, 64)))
    text = (b"tEXt", b"Comment\x00" + b"written after the image data " * 20)
    data = png_from_chunks(chunks[:-1] + [text, chunks[-1]])
    return data[: -(12 + len(text[1]) // 2)]


def apng_with_a_broken_frame_sequence() -> bytes:
    """Three frames, the second frame's control chunk lost: its data is out of sequence."""
    colours = ((255, 0, 0), (0, 255, 0), (0, 0, 255))
    frames = [Image.new("RGB", (32, 32), colour) for colour in colours]
    buffer = io.BytesIO()
    frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:])
    chunks = png_chunks(buffer.getvalue())
    second_control = [index for index, (kind, _) in enumerate(chunks) if kind == b"fcTL"][1]
    return png_from_chunks(chunks[:second_control] + chunks[second_control + 1 :])


def jpeg_with_exif(exif: bytes) -> bytes:
    """An APP1 EXIF block as given, however malformed."""
    data = photo_jpeg()
    return data[:2] + jpeg_segment(0xE1, exif) + data[2:]


def lossless_jpeg(width: int = 64, height: int = 48, value: int = 90) -> bytes:
    """A greyscale lossless JPEG (SOF3, predictor 1) of one solid value: Pillow decodes it
    completely, but libjpeg cannot decode lossless JPEGs at a reduced scale."""
    frame = struct.pack(">BHHB", 8, height, width, 1) + bytes([1, 0x11, 0])
    # Huffman table: difference category 0 -> "0", categories 1..8 -> 10000..10111.
    table = bytes([0x00, 1, 0, 0, 0, 8] + [0] * 11) + bytes(range(9))
    scan = bytes([1, 1, 0x00, 1, 0, 0])  # one component; predictor 1, no point transform
    difference = value - 128  # the first sample is predicted as 128, every other one exactly
    category = abs(difference).bit_length()
    extra = difference if difference >= 0 else difference + (1 << category) - 1
    bits = f"{0b10000 + category - 1:05b}{extra:0{category}b}" + "0" * (width * height - 1)
    bits += "1" * (-len(bits) % 8)
    entropy = bytearray()
    for at in range(0, len(bits), 8):
        entropy.append(int(bits[at : at + 8], 2))
        if entropy[-1] == 0xFF:
            entropy.append(0)  # byte stuffing
    return (
        b"\xff\xd8"
        + jpeg_segment(0xC3, frame)
        + jpeg_segment(0xC4, table)
        + jpeg_segment(0xDA, scan)
        + bytes(entropy)
        + b"\xff\xd9"
    )
