"""The shelf's own settings: its limits, who may upload, and what a request may send."""

from django.core.exceptions import ImproperlyConfigured

from .environment import env


def at_least_one(name: str, default: int) -> int:
    """A count or size from the environment that must be positive: another value stops
    startup with its name, rather than a page failing later."""
    value = env.int(name, default=default)
    if value < 1:
        raise ImproperlyConfigured(f"{name}={value} must be 1 or more.")
    return value


IMAGE_LIMIT = at_least_one("IMAGE_LIMIT", 3)
MAX_UPLOAD_MB = at_least_one("MAX_UPLOAD_MB", 10)
MAX_IMAGE_PIXELS = at_least_one("MAX_IMAGE_PIXELS", 50_000_000)
# The memory one upload may need at its peak (uploads/ingest/memory_budget.py, from the
# header, before any pixel is decoded): its decode (pixels x bytes per pixel of the mode it
# decodes to x the copies its decoder holds), or its conversion (the decoded image and the
# stored one), whichever is larger. MAX_IMAGE_PIXELS caps the pixel count of any image;
# this caps what it costs; a JPEG that needs more is decoded at 1/2 to 1/8 scale. A dyno
# runs one ingest at a time: bench/memory.py measures the dyno's peak (docs/benchmarks.md).
MAX_DECODE_MB = at_least_one("MAX_DECODE_MB", 224)
IMAGE_MAX_EDGE = at_least_one("IMAGE_MAX_EDGE", 4096)


def public_uploads_mode(value: str) -> str:
    """PUBLIC_UPLOADS as one of "off", "moderated", "open"; true and false still mean open
    and off."""
    mode = value.strip().lower()
    mode = {"true": "open", "1": "open", "false": "off", "0": "off", "": "off"}.get(mode, mode)
    if mode in ("off", "moderated", "open"):
        return mode
    raise ImproperlyConfigured(
        f"PUBLIC_UPLOADS={value!r} is not a value it takes: use off (staff only), moderated "
        "(visitors' uploads wait for staff approval) or open (they go straight on the shelf)."
    )


# Who may upload besides staff with the add permission: nobody ("off"), visitors whose
# images wait for approval ("moderated"), or visitors straight onto the shelf ("open").
PUBLIC_UPLOADS = public_uploads_mode(env("PUBLIC_UPLOADS", default="off"))
# How many visitors' uploads may wait for approval; beyond it they are refused (429).
PENDING_LIMIT = at_least_one("PENDING_LIMIT", 20)
# reconcile_media spares unreferenced files younger than this: uploads in flight.
ORPHAN_GRACE_MINUTES = env.int("ORPHAN_GRACE_MINUTES", default=15)

# A bulk upload without JavaScript is one request: this many ingests (each well under a
# second) stay far inside the router's 30 s. With JavaScript each file is a request.
BULK_UPLOAD_MAX_FILES = 10
# No form takes more files than that; Django refuses a request with more (400).
DATA_UPLOAD_MAX_NUMBER_FILES = BULK_UPLOAD_MAX_FILES
# Requests bigger than FILE_UPLOAD_MAX_MEMORY_SIZE (Django's default, 2.5 MB) reach the
# upload handlers on disk, not in memory: unnamed files that cannot outlive their process
# (uploads/web/upload_handlers.py).
FILE_UPLOAD_HANDLERS = [
    "uploads.web.upload_handlers.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "uploads.web.upload_handlers.UnnamedTemporaryFileUploadHandler",
]
# Seconds a request's body may take to arrive at most (uploads/web/read_deadline.py), for
# the largest upload; smaller bodies get less, in proportion, plus REQUEST_BODY_IDLE, which
# is also the longest a body may send nothing.
REQUEST_BODY_DEADLINE = env.int("REQUEST_BODY_DEADLINE", default=60)
REQUEST_BODY_IDLE = env.int("REQUEST_BODY_IDLE", default=10)
# Seconds a request has, from the moment its body has arrived (where the router starts
# counting its 30 s), for all of its uploads: waiting for each decode turn, and writing the
# files before the row commits (uploads/ingest/decode_lock.py). Past it, the request gets
# the 503 page with Retry-After, and what it had not committed is not stored. A bulk
# upload of ten files and "Regenerate thumbnails" share one budget across their turns.
INGEST_DEADLINE = at_least_one("INGEST_DEADLINE", 20)
