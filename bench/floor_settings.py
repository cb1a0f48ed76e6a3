"""The benchmark's floor: production settings and middleware, one trivial view."""

from config.settings.production import *  # noqa: F403

ROOT_URLCONF = "bench.floor_urls"
