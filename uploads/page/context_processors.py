"""Shelf settings every template may mention."""

from django.conf import settings


def shelf(request) -> dict:
    return {"limit": settings.IMAGE_LIMIT, "max_upload_mb": settings.MAX_UPLOAD_MB}
