"""The image list and its pages: declarations here; the work is done by the shelf's services."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import BadRequest
from django.db.models import F
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import CSV, JSON, XLSX

from uploads.admin import forms, import_limits, listing, resources, views
from uploads.admin.listing import DescriptionFilter, FileStatusFilter
from uploads.media import storage
from uploads.models import Image, is_visible
from uploads.shelf import deletion, moderation, ownership, services


@admin.register(Image)
class ImageAdmin(views.ImagePagesMixin, import_limits.ConfirmationMixin, ImportExportModelAdmin):
    resource_classes = [resources.ImageResource]
    import_form_class = import_limits.ImageImportForm
    import_formats = [CSV, XLSX, JSON]
    export_formats = [resources.InertCSV, resources.InertXLSX, JSON]  # JSON as it is
    # Instead of django-import-export's own: ours includes its buttons (see there).
    import_export_change_list_template = "admin/uploads/image/change_list.html"
    import_template_name = "admin/uploads/image/import.html"

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
    list_filter = ["pending", DescriptionFilter, FileStatusFilter, "format", "uploaded_at"]
    list_select_related = ["uploaded_by"]  # the export's too: it exports the list's QuerySet
    search_fields = ["title", "sha256"]
    date_hierarchy = "uploaded_at"
    ordering = ["-pending", "-uploaded_at", "-id"]  # what waits for approval comes first
    fields = [
        "large_preview",
        "title",
        "description",
        "file",
        "thumbnails",
        "dimensions",
        "size",
        "format",
        "sha256",
        "uploaded_at",
        "uploaded_by",
        "status",
    ]
    readonly_fields = [f for f in fields if f not in ("title", "description")]
    actions = ["approve_selected", "reject_selected", "verify_files", "regenerate_thumbnails"]
    actions += ["describe_with_title"]

    # Permissions are Django's own (has_add_permission and the rest: the model permission,
    # for active staff), which is the rule the page follows too (uploads/shelf/permissions).
    # django-import-export checks import_image and export_image (settings).

    # --- Pages ----------------------------------------------------------------

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:  # the add form: the file goes through image_ingest, by this user
            kwargs["form"] = type("ImageAddForm", (forms.ImageAddForm,), {"user": request.user})
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["title", "description", "image"] if obj is None else self.fields

    def save_model(self, request, obj, form, change):
        if change:  # new images were stored by image_ingest when the form was validated
            super().save_model(request, obj, form, change)
        else:  # the "added" message then says how the stored image differs from the file
            request.changes_note = obj.changes_note

    def message_user(self, request, message, *args, **kwargs):
        note = getattr(request, "changes_note", "")
        message = format_html("{} {}", message, note) if note else message
        super().message_user(request, message, *args, **kwargs)

    def delete_model(self, request, obj):
        deletion.images_delete(Image.objects.filter(pk=obj.pk), reason="admin", user=request.user)

    def delete_queryset(self, request, queryset):
        deletion.images_delete(queryset, reason="admin", user=request.user)

    def log_deletions(self, request, queryset):
        # Django's "Delete selected" logs before it deletes: a deletion the storage's owner
        # check will refuse (uploads/shelf/ownership.py) must not leave a log entry.
        ownership.require_own()
        return super().log_deletions(request, queryset)

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        extra_context["may_delete"] = self.has_delete_permission(request)
        extra_context["pending_count"] = Image.objects.filter(pending=True).count()
        return super().changelist_view(request, extra_context)

    def get_list_display(self, request):
        """The status column while visitors' uploads wait for approval."""
        pending = Image.objects.filter(pending=True).exists()
        return [*self.list_display, "status"] if pending else self.list_display

    def get_changelist_instance(self, request):
        """Look up the files of the page's rows once (one listing per prefix on S3)."""
        changelist = super().get_changelist_instance(request)
        if request.method in ("GET", "HEAD"):  # a POST runs an action: the list is not shown
            listing.note_files(changelist.result_list)
        return changelist

    def lookup_allowed(self, lookup, value, request=None):
        # Errors, not lists (and 500s: the export's list too): a pattern from the address,
        # which the database would compile, and a date part past datetime's (an int too
        # large overflows, and Django catches only ValueError there).
        date_part = lookup.endswith(("__year", "__month", "__day")) and len(str(value)) > 4
        refused = lookup.endswith("regex") or date_part
        return not refused and super().lookup_allowed(lookup, value, request)

    def response_action(self, request, queryset):
        # Django filters by the ids as sent: one that is not an id would be a 500.
        for pk in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME):
            if not (pk.isdecimal() and int(pk) < 2**63):
                raise BadRequest("A selected image is not an image id.")
        return super().response_action(request, queryset)

    # --- Columns ----------------------------------------------------------------

    @admin.display(description=_("Preview"))
    def preview(self, image: Image):
        return listing.image_preview(image, width=64)

    @admin.display(description=_("Preview"))
    def large_preview(self, image: Image):
        listing.note_files([image])
        return listing.image_preview(image, width=320, link=True)

    @admin.display(description=_("Dimensions"))
    def dimensions(self, image: Image) -> str:
        return f"{image.width} × {image.height}"

    @admin.display(description=_("Size"), ordering="size_bytes")
    def size(self, image: Image) -> str:
        return services.megabytes(image.size_bytes)

    @admin.display(description=_("File"), boolean=True)
    def file_status(self, image: Image) -> bool | None:
        return getattr(image, "file_present", None)

    @admin.display(description=_("Status"), ordering="pending")
    def status(self, image: Image) -> str:
        return _("Pending") if image.pending else _("On the shelf")

    # --- Actions ----------------------------------------------------------------

    @admin.action(permissions=["add"], description=_("Approve: put on the shelf as the newest"))
    def approve_selected(self, request, queryset):
        # The add permission: approving puts an image on the shelf, as an upload does.
        selected = list(queryset.values_list("pk", flat=True))
        approved = moderation.images_approve(selected, user=request.user)
        for image in approved:
            self.log_change(request, image, "Approved: joined the shelf.")
        message = _("Approved %s image(s): they joined the shelf as its newest.") % len(approved)
        made_way = len(approved) - Image.objects.filter(pk__in=[i.pk for i in approved]).count()
        if made_way:
            made_room = _("The shelf keeps %(limit)s, so %(count)s of them made way at once.")
            message += " " + made_room % {"limit": settings.IMAGE_LIMIT, "count": made_way}
        if skipped := len(selected) - len(approved):
            message += " " + _("%s selected image(s) were not pending.") % skipped
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(permissions=["delete"], description=_("Reject: delete with their files"))
    def reject_selected(self, request, queryset):
        selected = list(queryset.values_list("pk", flat=True))
        rejected = moderation.images_reject(selected, user=request.user)
        self.log_deletions(request, rejected)
        message = _("Rejected %s image(s) and deleted their files.") % len(rejected)
        if skipped := len(selected) - len(rejected):
            message += " " + _("%s selected image(s) were not pending: kept.") % skipped
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(
        permissions=["delete"],
        description=_("Verify files and remove entries whose file is missing"),
    )
    def verify_files(self, request, queryset):
        total = queryset.count()  # before the deletion
        try:
            removed = deletion.images_remove_missing(queryset, user=request.user)
        except storage.StorageUnavailable:
            return self.message_user(request, storage.UNAVAILABLE, messages.ERROR)
        except deletion.AllFilesMissing as refusal:  # it says where it looked
            return self.message_user(request, str(refusal), messages.ERROR)
        if not removed:
            present = _("All %s files are present.") % total
            return self.message_user(request, present, messages.SUCCESS)
        self.log_deletions(request, removed)
        names = ", ".join(image.file.name for image in removed)
        message = _("Removed %(count)s of %(total)s entries whose file was missing: %(names)s")
        message %= {"count": len(removed), "total": total, "names": names}
        self.message_user(request, message, messages.WARNING)

    @admin.action(permissions=["change"], description=_("Regenerate thumbnails"))
    def regenerate_thumbnails(self, request, queryset):
        images = list(queryset)
        done, failed = services.images_regenerate_thumbnails(images)
        for image in images:
            if image.file.name in done:
                self.log_change(request, image, "Regenerated the thumbnail.")
        if not failed:
            message = _("Regenerated %s thumbnail(s).") % len(done)
            return self.message_user(request, message, messages.SUCCESS)
        message = _("Regenerated %(count)s thumbnail(s); could not read %(failed)s image(s): ")
        message %= {"count": len(done), "failed": len(failed)}
        self.message_user(request, message + ", ".join(failed), messages.WARNING)

    @admin.action(permissions=["change"], description=_("Use the title as the description"))
    def describe_with_title(self, request, queryset):
        # An edit of each image, as on its change page; what already has one is left alone.
        # A title that shows nothing would not describe anything: left for a person.
        images = [i for i in queryset.filter(description="") if is_visible(i.title)]
        Image.objects.filter(pk__in=[image.pk for image in images]).update(description=F("title"))
        for image in images:
            # The field's name as the history shows it, in each reader's language.
            self.log_change(request, image, [{"changed": {"fields": ["description"]}}])
        message = _("Described %(count)d image(s) with their titles.")
        self.message_user(request, message % {"count": len(images)}, messages.SUCCESS)
