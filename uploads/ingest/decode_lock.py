"""One image decode at a time on this machine: every worker process and thread takes turns.

A decode can need a few hundred megabytes (see imaging's budget); a dyno has 512 MB. An
upload keeps its turn from reading its bytes to encoding its files, which go straight to
unnamed temporary files; it writes them to storage after its turn (services.py). The
lock is an flock on a file in the temporary directory, which every process on the dyno
shares (each dyno has its own). The kernel releases it when its holder exits, even by
SIGKILL, so a killed worker never leaves it held. Never nest it: a second turn taken
inside a first waits forever. Each turn ends by giving the memory it freed back to the
system, so the next one starts from a worker's own size.

A request has a deadline for its uploads (`deadline`, set by uploads/web/upload_gate.py
from INGEST_DEADLINE): it waits for turns only until then, however many it takes, and
services.py checks it again after writing files, before committing a row. Waiting keeps
the kernel's blocking flock, woken the moment the lock is free: a helper thread blocks in
it while the request waits on the result with a timeout, and a request that gives up
leaves the helper to hand the turn straight back when it comes. (Polling with LOCK_NB
instead lost the order of waiters: a poller sleeping when the lock came free lost it to
those blocked, and under bursts some uploads waited far longer than others.) Outside a
request (commands) there is no deadline: a turn waits as long as it takes.
"""

from __future__ import annotations

import ctypes
import fcntl
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

LOCK_FILE = Path(tempfile.gettempdir()) / "imageshelf-decode.lock"


_M_MMAP_THRESHOLD = -3
# glibc raises its mmap threshold each time it frees a large block (up to 32 MB), so after
# the first upload, image-sized blocks came from the heap, which it rarely gives back: a
# worker kept its largest image's memory for good. A fixed threshold keeps large blocks in
# mmap, returned to the system as soon as they are freed.
try:
    _LIBC = ctypes.CDLL("libc.so.6")
    _LIBC.mallopt(_M_MMAP_THRESHOLD, 128 * 1024)  # glibc's default, made fixed
except OSError:
    _LIBC = None  # not glibc (macOS, musl): nothing to tune


class DeadlinePassed(Exception):
    """The request's deadline for its uploads came first: no turn in time, or storage slow."""


# time.monotonic() by which the request being served must be done with its uploads; None
# outside a request.
deadline: ContextVar[float | None] = ContextVar("deadline", default=None)


def check_deadline() -> None:
    """Raise DeadlinePassed when the request's deadline has passed."""
    if (ends := deadline.get()) is not None and time.monotonic() >= ends:
        raise DeadlinePassed("the request's deadline for its uploads has passed")


# The helper: it blocks in flock for the threads of this process one after another (first
# come, first served) while they wait on its Future with their deadline. Its thread starts
# with the first turn, so never in gunicorn's master, which forks the workers. A process
# exits once it is done: a turn given up is at most a few decodes away.
_WAITER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imageshelf-decode-turn")


@contextmanager
def decode_turn() -> Iterator[None]:
    """Wait until no other process or thread on this machine is decoding, then decode;
    DeadlinePassed when the request's deadline comes first."""
    # Opened per turn: flock excludes other open files, even in the same process.
    handle = LOCK_FILE.open("a")  # noqa: SIM115 (closed when the turn ends or is given up)
    taken = _WAITER.submit(fcntl.flock, handle, fcntl.LOCK_EX)
    ends = deadline.get()
    try:
        taken.result(timeout=None if ends is None else ends - time.monotonic())
    except TimeoutError:
        # (A deadline already past times out at once.) Closing the file releases the lock:
        # at once if it came meanwhile, or as soon as it comes (in the helper's thread).
        taken.add_done_callback(lambda _: handle.close())
        raise DeadlinePassed("no decode turn came before the request's deadline") from None
    try:
        yield
    finally:
        # Give the free pages of every heap arena back to the system: each thread that ran
        # an upload (request threads, the render pool) has an arena of its own, and without
        # this each kept the smaller blocks of the last upload it saw.
        if _LIBC is not None:
            _LIBC.malloc_trim(0)
        handle.close()  # releases the lock
