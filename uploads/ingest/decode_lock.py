"""One image decode at a time on this machine: every worker process and thread takes turns.

A decode can need a few hundred megabytes (see imaging's budget); a dyno has 512 MB. An
upload keeps its turn from reading its bytes to storing its files (services.py). The
lock is an flock on a file in the temporary directory, which every process on the dyno
shares (each dyno has its own). The kernel releases it when its holder exits, even by
SIGKILL, so a killed worker never leaves it held. Never nest it: a second turn taken
inside a first waits forever. Each turn ends by giving the memory it freed back to the
system, so the next one starts from a worker's own size.
"""

from __future__ import annotations

import ctypes
import fcntl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = Path(tempfile.gettempdir()) / "imageshelf-decode.lock"


def _glibc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None  # not glibc (macOS, musl): nothing to tune


_LIBC = _glibc()
_M_MMAP_THRESHOLD = -3
# glibc raises its mmap threshold each time it frees a large block (up to 32 MB), so after
# the first upload, image-sized blocks came from the heap, which it rarely gives back: a
# worker kept its largest image's memory for good. A fixed threshold keeps large blocks in
# mmap, returned to the system as soon as they are freed.
if _LIBC is not None:
    _LIBC.mallopt(_M_MMAP_THRESHOLD, 128 * 1024)  # glibc's default, made fixed


def _return_free_memory() -> None:
    """Give the free pages of every heap arena back to the system: each thread that ran an
    upload (request threads, the render pool) has an arena of its own, and without this
    each kept the smaller blocks of the last upload it saw."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


@contextmanager
def decode_turn() -> Iterator[None]:
    """Wait until no other process or thread on this machine is decoding, then decode."""
    # Opened per turn: flock excludes other open files, even in the same process.
    with LOCK_FILE.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            _return_free_memory()
            fcntl.flock(handle, fcntl.LOCK_UN)
