"""Local development: DEBUG on, SQLite and local media unless the environment says otherwise."""

from .base import *  # noqa: F403
from .base import BASE_DIR, env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env(
    "SECRET_KEY", default="django-insecure-development-only-0f1c9c1e6b2d4a7e9d3b5a8c7e6f4d2b"
)
# Its own directory: a production-like run in the same checkout (`make prod`) keeps another.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media-dev")
