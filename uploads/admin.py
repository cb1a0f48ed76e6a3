"""The admin: the shelf's control room. Declarations here; the work is done by services."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, JSON, XLSX

from . import selectors, services, thumbnails
from .forms import BulkUploadForm, ImageAddForm
from .models import Image
from .resources import ImageResource
from .storage import StorageUnavailable

PLACEHOLDER = "uploads/missing.svg"


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


@admin.register(Image)
class ImageAdmin(ImportExportModelAdmin):
    resource_classes = [ImageResource]
    import_formats = [CSV, XLSX, JSON]
    export_formats = [CSV, XLSX, JSON]
    change_list_template = "admin/uploads/image/change_list.html"

    list_display = [
        "preview",
        "title",
        "dimensions",
        "size",
        "format",
        "uploaded_by",
        "uploaded_at",
        "file_status",
    ]
    list_display_links = ["preview", "title"]
    list_filter = [FileStatusFilter, "format", "uploaded_at"]
    list_select_related = ["uploaded_by"]
    search_fields = ["title", "sha256"]
    date_hierarchy = "uploaded_at"
    fields = [
        "large_preview",
        "title",
        "file",
        "thumbnail",
        "dimensions",
        "size",
        "format",
        "sha256",
        "uploaded_at",
        "uploaded_by",
    ]
    readonly_fields = [f for f in fields if f != "title"]
    actions = [
        "verify_files",
        "enforce_limit",
        "regenerate_thumbnails",
        "delete_all",
    ]

    # --- Pages ----------------------------------------------------------------

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            return super().get_form(request, obj, change=change, **kwargs)
        form = type("ImageAddForm", (ImageAddForm,), {"user": request.user})
        return super().get_form(request, obj, change=change, form=form, fields=["title"])

    def get_fields(self, request, obj=None):
        return ["title", "image"] if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:  # new images were stored by image_ingest when the form was validated
            super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        services.images_delete([obj.pk], reason="admin", user=request.user)

    def delete_queryset(self, request, queryset):
        services.images_delete(
            queryset.values_list("pk", flat=True), reason="admin", user=request.user
        )

    def get_changelist_instance(self, request):
        """Look up the file status of the page's rows once (one listing on S3)."""
        changelist = super().get_changelist_instance(request)
        try:
            status = selectors.files_status(changelist.result_list)
        except StorageUnavailable:
            status = {}
        for image in changelist.result_list:
            image.file_present = status.get(image.pk)
        return changelist

    def get_urls(self):
        urls = [
            path(
                "bulk-upload/",
                self.admin_site.admin_view(self.bulk_upload_view),
                name="uploads_image_bulk_upload",
            )
        ]
        return urls + super().get_urls()

    def bulk_upload_view(self, request):
        """Several files at once, each through image_ingest; reports file by file."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        outcomes = []
        form = BulkUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            outcomes = services.images_ingest_many(form.cleaned_data["images"], user=request.user)
            stored = [outcome for outcome in outcomes if outcome.image]
            for outcome in stored:
                self.log_addition(request, outcome.image, [{"added": {}}])
            level = messages.SUCCESS if len(stored) == len(outcomes) else messages.WARNING
            self.message_user(
                request, f"Stored {len(stored)} of {len(outcomes)} files.", level=level
            )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Bulk upload",
            "form": form,
            "outcomes": outcomes,
            "image_count": Image.objects.count(),
        }
        return TemplateResponse(request, "admin/uploads/image/bulk_upload.html", context)

    # --- Columns ----------------------------------------------------------------

    @admin.display(description="Preview")
    def preview(self, image: Image):
        return _preview(image, getattr(image, "file_present", None), width=64)

    @admin.display(description="Preview")
    def large_preview(self, image: Image):
        if not image.pk:
            return "-"
        present = selectors.files_status([image]).get(image.pk)
        img = _preview(image, present, width=320)
        if not present:
            return img
        return format_html(
            '{}<p><a href="{}" target="_blank" rel="noopener">Open the full image</a></p>',
            img,
            image.file.url,
        )

    @admin.display(description="Dimensions")
    def dimensions(self, image: Image) -> str:
        return f"{image.width} × {image.height}"

    @admin.display(description="Size", ordering="size_bytes")
    def size(self, image: Image) -> str:
        return filesizeformat(image.size_bytes)

    @admin.display(description="File", boolean=True)
    def file_status(self, image: Image) -> bool | None:
        return getattr(image, "file_present", None)

    # --- Actions ----------------------------------------------------------------

    @admin.action(
        permissions=["delete"], description="Verify files and remove entries whose file is missing"
    )
    def verify_files(self, request, queryset):
        images = list(queryset)
        try:
            removed = services.images_remove_missing([i.pk for i in images], user=request.user)
        except StorageUnavailable:
            self.message_user(
                request, "Storage is unavailable; nothing was removed.", messages.ERROR
            )
            return
        if removed:
            self.log_deletions(request, [i for i in images if i.file.name in removed])
            self.message_user(
                request,
                f"Removed {len(removed)} of {len(images)} entries whose file was missing: "
                + ", ".join(removed),
                messages.WARNING,
            )
        else:
            self.message_user(request, f"All {len(images)} files are present.", messages.SUCCESS)

    @admin.action(permissions=["delete"], description="Enforce the image limit now")
    def enforce_limit(self, request, queryset):
        limit = settings.IMAGE_LIMIT
        with transaction.atomic():
            services.lock_shelf()  # so the rows logged are exactly the rows deleted
            self.log_deletions(request, list(Image.objects.all()[limit:]))
            deleted = services.images_enforce_limit(user=request.user)
        if deleted:
            message = f"Deleted {deleted} image(s) beyond the limit of {limit}."
        else:
            message = f"Nothing to do: the shelf holds no more than {limit} images."
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(permissions=["change"], description="Regenerate thumbnails")
    def regenerate_thumbnails(self, request, queryset):
        images = list(queryset)
        done, failed = thumbnails.images_regenerate_thumbnails(images)
        for image in images:
            if image.file.name in done:
                self.log_change(request, image, "Regenerated the thumbnail.")
        if failed:
            self.message_user(
                request,
                f"Regenerated {len(done)} thumbnail(s); could not read {len(failed)} image(s): "
                + ", ".join(failed),
                messages.WARNING,
            )
        else:
            self.message_user(request, f"Regenerated {len(done)} thumbnail(s).", messages.SUCCESS)

    @admin.action(permissions=["delete"], description="Delete all images (not only the selected)")
    def delete_all(self, request, queryset):
        everything = Image.objects.all()
        if request.POST.get("post") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Delete all images?",
                "count": everything.count(),
                "queryset": queryset,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(
                request, "admin/uploads/image/delete_all_confirmation.html", context
            )
        self.log_deletions(request, everything)
        deleted = services.images_delete_all(user=request.user)
        self.message_user(
            request, f"Deleted all {deleted} image(s) and their files.", messages.SUCCESS
        )


def _preview(image: Image, present: bool | None, *, width: int):
    """A thumbnail, or a placeholder when the file is known to be missing: never broken."""
    from django.templatetags.static import static

    thumb_width, thumb_height = image.thumbnail_size
    height = round(width * thumb_height / thumb_width) if thumb_width else width
    if present is False or not image.thumbnail:
        return format_html(
            '<img src="{}" width="{}" height="{}" alt="File missing" loading="lazy">',
            static(PLACEHOLDER),
            width,
            height,
        )
    return format_html(
        '<img src="{}" width="{}" height="{}" alt="{}" loading="lazy" decoding="async">',
        image.thumbnail.url,
        width,
        height,
        image.alt_text,
    )
