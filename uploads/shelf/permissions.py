"""Who may change the shelf: one rule, called by every door (the public page and the admin)."""

from __future__ import annotations

import enum

from django.conf import settings

ADD = "uploads.add_image"  # upload, on the page or in the admin; approve a visitor's upload
DELETE = "uploads.delete_image"  # delete one, selected or all; verify files
IMPORT = "uploads.import_image"
# The admin checks the others itself: change_image (edit titles, regenerate thumbnails) and
# export_image (django-import-export).


def may(user, permission: str) -> bool:
    """Active staff holding the permission (superusers hold every one)."""
    return bool(user.is_active and user.is_staff and user.has_perm(permission))


class UploadAccess(enum.Enum):
    """Where one person's upload goes; the values are PUBLIC_UPLOADS's, which decides for
    visitors."""

    REFUSED = "off"
    SHELF = "open"  # straight onto the shelf
    QUEUE = "moderated"  # pending, until staff approve it


def upload_access(user) -> UploadAccess:
    """Staff who may add go to the shelf; anyone else as PUBLIC_UPLOADS says."""
    return UploadAccess.SHELF if may(user, ADD) else UploadAccess(settings.PUBLIC_UPLOADS)


def public_uploads() -> bool:
    """Whether visitors may upload at all (PUBLIC_UPLOADS is not "off")."""
    return settings.PUBLIC_UPLOADS in ("moderated", "open")
