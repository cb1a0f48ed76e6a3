"""Test settings: fast hashers, a throwaway MEDIA_ROOT, local storage, pinned shelf values."""

import os
import tempfile

from .base import *  # noqa: F403
from .base import DATABASES, STORAGES

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-for-production-use-0123456789abcdef"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Each test gets its own directory too (see conftest.py); this one catches strays.
MEDIA_ROOT = tempfile.mkdtemp(prefix="imageshelf-test-media-")
STORAGES["default"] = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
# Every request renders the page, so a test sees its own change at once; the tests of
# the reuse itself turn it on.
PAGE_CACHE_SECONDS = 0

# A developer's .env must not change what the suite expects.
IMAGE_LIMIT = 3
MAX_UPLOAD_MB = 10
MAX_IMAGE_PIXELS = 50_000_000
MAX_DECODE_MB = 224
IMAGE_MAX_EDGE = 4096
PUBLIC_UPLOADS = "off"
PENDING_LIMIT = 20

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not shared memory: concurrency tests need SQLite's real locking (busy timeout).
    DATABASES["default"]["TEST"] = {
        "NAME": os.path.join(tempfile.gettempdir(), f"imageshelf-test-{os.getpid()}.sqlite3")
    }
