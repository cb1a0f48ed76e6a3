"""One image decode at a time on this machine: every worker process and thread takes turns.

A decode can need a few hundred megabytes (see imaging's budget); a dyno has 512 MB. The
lock is an flock on a file in the temporary directory, which every process on the dyno
shares (each dyno has its own). The kernel releases it when its holder exits, even by
SIGKILL, so a killed worker never leaves it held. Never nest it: a second turn taken
inside a first waits forever. Each turn ends by giving the memory it freed back to the
system, so the next one starts from a worker's own size.
"""

from __future__ import annotations

import fcntl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import imaging

LOCK_FILE = Path(tempfile.gettempdir()) / "imageshelf-decode.lock"


@contextmanager
def decode_turn() -> Iterator[None]:
    """Wait until no other process or thread on this machine is decoding, then decode."""
    # Opened per turn: flock excludes other open files, even in the same process.
    with LOCK_FILE.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            imaging.return_free_memory()
            fcntl.flock(handle, fcntl.LOCK_UN)
