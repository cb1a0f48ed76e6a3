"""The one environ.Env() every settings module reads, and where the project lives."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
# Real environment variables win over the file (django-environ never overwrites), and a
# missing file is skipped.
env.read_env(BASE_DIR / ".env")
