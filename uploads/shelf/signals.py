"""Thin receivers: each calls one service. Connected in UploadsConfig.ready()."""

from __future__ import annotations

from django.db import transaction

from uploads.shelf import services


def count_shelf_change(sender, instance, **kwargs) -> None:
    """Any saved or deleted image changes the shelf: bump its version in the same transaction.

    Fixture loads (raw saves) count too: they change what the page shows.
    """
    services.shelf_changed()


def enforce_limit_after_upload(sender, instance, created, raw, **kwargs) -> None:
    """After a new image commits, trim the shelf back to IMAGE_LIMIT (a pending image is
    not on the shelf yet: approving it applies the limit)."""
    if raw or not created or instance.pending:
        return
    # robust: the upload has committed; a failure here is logged, not shown as an error.
    transaction.on_commit(services.images_enforce_limit, robust=True)
