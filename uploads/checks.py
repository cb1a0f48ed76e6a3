"""System checks for deployment mistakes that would otherwise show up as lost files or 500s."""

from __future__ import annotations

import os

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from django.core import checks
from django.core.files.storage import storages
from django.db import DatabaseError

from uploads.media.storage import StorageUnavailable, is_s3, media_storage
from uploads.shelf import ownership

# Deploy checks only: they run in `check --deploy` (the Procfile's release command) and never
# in `collectstatic`, which runs at build time, before the manifest exists.


@checks.register(deploy=True)
def check_media_survives_restarts(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """On a Heroku dyno (DYNO is set), local media is lost on every restart."""
    if not os.environ.get("DYNO") or is_s3(media_storage()):
        return []
    return [
        checks.Warning(
            "Media is stored on the dyno's own disk: files vanish on every restart "
            "(at least once a day) and each dyno sees only its own.",
            hint="Set AWS_STORAGE_BUCKET_NAME and the keys (docs/deploy.md: every provider's "
            "recipe) to keep media in S3 or any S3-compatible store.",
            id="imageshelf.W001",
        )
    ]


@checks.register(deploy=True)
def check_static_manifest_exists(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """With hashed static names, a missing manifest turns every page into a 500."""
    # No STATIC_ROOT: Django's own checks and collectstatic name that mistake.
    if not settings.STATIC_ROOT:
        return []
    # A fresh instance: the shared one caches the manifest it read, or did not find.
    storage = storages.create_storage(settings.STORAGES["staticfiles"])
    # Django's own reader of the manifest: None when there is none.
    if not isinstance(storage, ManifestStaticFilesStorage) or storage.read_manifest() is not None:
        return []
    path = storage.manifest_storage.path(storage.manifest_name)
    return [
        checks.Error(
            f"The static files manifest {path} does not exist: every page that links a "
            "static file would answer 500.",
            hint="Run `python manage.py collectstatic --noinput` when building. Heroku's Python "
            "buildpack does it, unless a config var tells it to skip collectstatic: "
            "remove that config var.",
            id="imageshelf.E001",
        )
    ]


@checks.register(deploy=True)
def check_media_is_ours(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """Storage marked as another deployment's (or unmarked, holding files): every deletion
    and upload is refused until it is given storage of its own or claims this one."""
    try:
        ownership.identity()  # the database first: unmigrated, there is nothing to compare
        reason = ownership.refusal(ownership.marker())
    except DatabaseError:
        return []  # not migrated yet: the release runs `migrate` next, the next release checks
    except StorageUnavailable as error:
        reason = f"Could not tell whose the media storage is: {error}"
    return [] if reason is None else [checks.Warning(reason, id="imageshelf.W002")]
