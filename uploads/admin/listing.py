"""What the image list shows: its file status filter and image previews that are never
broken."""

from __future__ import annotations

from django.contrib import admin, messages
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from uploads.media import storage
from uploads.models import Image


def stored_images() -> set[str] | None:
    """The names of the files under images/, from one listing; None when storage cannot
    be listed."""
    try:
        return {stored.name for stored in storage.list_files("images/")}
    except storage.StorageUnavailable:
        return None


class FileStatusFilter(admin.SimpleListFilter):
    title = _("file status")
    parameter_name = "file"

    def lookups(self, request, model_admin):
        return [("present", _("Present")), ("missing", _("Missing"))]

    def queryset(self, request, queryset):
        if self.value() not in ("present", "missing"):
            return queryset
        present = stored_images()
        if present is None:
            messages.error(request, storage.UNAVAILABLE)
            return queryset.none()
        keep = queryset.filter if self.value() == "present" else queryset.exclude
        return keep(file__in=present)


class DescriptionFilter(admin.SimpleListFilter):
    title = _("description")
    parameter_name = "described"

    def lookups(self, request, model_admin):
        return [("no", _("Needs a description"))]

    def queryset(self, request, queryset):
        return queryset.filter(description="") if self.value() == "no" else queryset


def note_files(images) -> None:
    """Mark each image's file_present and preview_present (None: storage did not answer)."""
    try:
        present = storage.existing(name for image in images for name in image.stored_names())
    except storage.StorageUnavailable:
        present = None
    for image in images:
        image.file_present = None if present is None else image.file.name in present
        image.preview_present = None if present is None else image.preview_name in present


def image_preview(image: Image, *, width: int, link: bool = False) -> str:
    """The thumbnail, the full image when only the thumbnail is missing (as on the public
    page), or a placeholder when the file is known to be missing: never a broken image.
    With `link`, followed by a link that opens the full image."""
    thumb_width, thumb_height = image.preview_size
    use_file = getattr(image, "preview_present", None) is False or not image.preview_name
    context = {
        "image": image,
        "width": width,
        "height": round(width * thumb_height / thumb_width) if thumb_width else width,
        "missing": getattr(image, "file_present", None) is False,
        "src": image.file.url if use_file else storage.media_storage().url(image.preview_name),
        "link": link,
    }
    return render_to_string("admin/uploads/image/preview.html", context)
