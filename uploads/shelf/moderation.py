"""Visitors' uploads waiting for approval (PUBLIC_UPLOADS=moderated): staff approve them onto
the shelf or reject them. services.image_ingest(pending=True) fills the queue."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from uploads.models import Image
from uploads.shelf.audit import audit, username
from uploads.shelf.deletion import images_delete, images_enforce_limit, lock_shelf


def images_approve(pks: Iterable[int], *, user=None) -> list[Image]:
    """Put the pending images among `pks` on the shelf as its newest, then apply the limit
    (which may delete them again, if more are approved than the shelf keeps)."""
    with transaction.atomic():
        lock_shelf()
        rows = Image.objects.filter(pk__in=list(pks), pending=True).order_by("pk")
        approved = list(rows)
        rows.update(pending=False, uploaded_at=timezone.now())  # the same rows: the lock is held
        for image in approved:
            audit("image.approved", user=username(user), image=image.pk, file=image.file.name)
        if approved:
            images_enforce_limit(user=user)
    return approved


def images_reject(pks: Iterable[int], *, user=None) -> list[Image]:
    """Delete the pending images among `pks`; returns them."""
    rows = Image.objects.filter(pk__in=list(pks), pending=True)
    return images_delete(rows, reason="rejected", user=user)
