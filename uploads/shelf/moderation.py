"""Visitors' uploads waiting for approval (PUBLIC_UPLOADS=moderated): staff approve them onto
the shelf or reject them. services.image_ingest(pending=True) fills the queue."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from uploads.models import Image
from uploads.shelf import services
from uploads.shelf.audit import audit, username


def images_approve(pks: Iterable[int], *, user=None) -> list[Image]:
    """Put the pending images among `pks` on the shelf as its newest, then apply the limit
    (which may delete them again, if more are approved than the shelf keeps)."""
    with transaction.atomic():
        services.lock_shelf()
        approved = list(Image.objects.filter(pk__in=list(pks), pending=True).order_by("pk"))
        if not approved:
            return []
        Image.objects.filter(pk__in=[image.pk for image in approved]).update(
            pending=False, uploaded_at=timezone.now()
        )
        services.shelf_changed()  # update() sends no signal: count the change here
        for image in approved:
            audit("image.approved", user=username(user), image=image.pk, file=image.file.name)
        services.images_enforce_limit(user=user)
    return approved


def images_reject(pks: Iterable[int], *, user=None) -> list[Image]:
    """Delete the pending images among `pks`; their files go after commit."""
    with transaction.atomic():
        rejected = list(Image.objects.filter(pk__in=list(pks), pending=True))
        services.images_delete([image.pk for image in rejected], reason="rejected", user=user)
    return rejected
