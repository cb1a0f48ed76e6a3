"""The admin: the shelf's control room."""

from __future__ import annotations

from django.contrib import admin

from .models import Image


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "width",
        "height",
        "format",
        "size_bytes",
        "uploaded_by",
        "uploaded_at",
    ]
    list_select_related = ["uploaded_by"]
    search_fields = ["title", "sha256"]
    date_hierarchy = "uploaded_at"
