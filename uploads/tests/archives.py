"""Shelf archives made in memory for tests: sound ones, and the hostile ones import_shelf
must refuse."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import warnings
import zipfile

from uploads.tests.factories import distinct_png

NAME = "images/0b1e4f3c-0000-4000-8000-000000000001.png"


def entry(data: bytes, name: str = NAME, **values) -> dict:
    """A manifest entry as export_shelf writes it."""
    return {
        "name": name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "title": "Harbour",
        "description": "Boats in a harbour at dusk.",
        "uploaded_at": "2026-01-02T03:04:05+00:00",
        "pending": False,
        **values,
    }


def archive(members: dict[str, bytes], manifest=None, compression=zipfile.ZIP_STORED) -> bytes:
    """A zip of `members` (a name may come twice, as a list of pairs) and its manifest:
    by default, one entry per member."""
    if manifest is None:
        manifest = {"images": [entry(data, name) for name, data in dict(members).items()]}
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w", compression) as zipped:
        warnings.simplefilter("ignore")  # zipfile warns of a duplicate name, and writes it
        for name, data in members.items() if isinstance(members, dict) else members:
            zipped.writestr(name, data)
        manifest = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
        zipped.writestr("manifest.json", manifest)
    return buffer.getvalue()


def one_image(data: bytes | None = None, **values) -> bytes:
    data = distinct_png(1) if data is None else data
    return archive({NAME: data}, {"images": [entry(data, **values)]})


def patched(data: bytes, *, local: int, central: int, fmt: str, value: int) -> bytes:
    """The first member's field at those offsets of its local header and its central
    directory entry set to `value`: what a zip declares, whatever it holds."""
    out = bytearray(data)
    struct.pack_into(fmt, out, out.find(b"PK\x03\x04") + local, value)
    struct.pack_into(fmt, out, out.find(b"PK\x01\x02") + central, value)
    return bytes(out)


def encrypted() -> bytes:
    return patched(one_image(), local=6, central=8, fmt="<H", value=0x1)


def declaring_less_than_it_holds() -> bytes:
    """A deflated image whose headers declare 100 bytes: it inflates to far more."""
    data = distinct_png(1, size=(300, 200))
    zipped = archive({NAME: data}, compression=zipfile.ZIP_DEFLATED)
    return patched(zipped, local=22, central=24, fmt="<I", value=100)


def many_entries(count: int = 10_000) -> bytes:
    return archive({f"images/{index}.png": b"x" for index in range(count)}, manifest={})


def deeply_nested() -> bytes:
    depth = 100_000
    return archive({}, manifest=b'{"images": ' + b"[" * depth + b"]" * depth + b"}")
