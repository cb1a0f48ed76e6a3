"""The image list's filters: file status (present or missing) and moderation (pending)."""

from __future__ import annotations

from django.contrib import admin, messages

from . import selectors
from .storage import StorageUnavailable


class FileStatusFilter(admin.SimpleListFilter):
    title = "file status"
    parameter_name = "file"

    def lookups(self, request, model_admin):
        return [("present", "Present"), ("missing", "Missing")]

    def queryset(self, request, queryset):
        if self.value() not in ("present", "missing"):
            return queryset
        try:
            present = selectors.present_image_names()
        except StorageUnavailable:
            messages.error(request, "Storage is unavailable: the file status is unknown.")
            return queryset.none()
        if self.value() == "present":
            return queryset.filter(file__in=present)
        return queryset.exclude(file__in=present)


class PendingFilter(admin.SimpleListFilter):
    """Visitors' uploads waiting for approval (PUBLIC_UPLOADS=moderated), or the shelf."""

    title = "moderation"
    parameter_name = "pending"

    def lookups(self, request, model_admin):
        return [("yes", "Pending"), ("no", "On the shelf")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(pending=self.value() == "yes")
        return queryset
