"""The image list's own pages: bulk upload, the shelf's archive, and "Delete all", which
asks on a page of its own, then acts on a POST.

Bulk upload without JavaScript sends every file in one request, at most
BULK_UPLOAD_MAX_FILES of them, so that the request stays well inside the router's 30 s.
With it (static/admin-site/bulk-upload.js), each file is a request of its own with its own
progress bar, and the answer is JSON: the same results, and which images are still on the
shelf.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from itertools import chain, repeat

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, JsonResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _

from uploads.admin.forms import BulkUploadForm
from uploads.models import Image
from uploads.shelf import archive, deletion, services
from uploads.web.error_views import allow_only


class ImagePagesMixin:
    """The pages, for the image list's ModelAdmin (as django-import-export adds its own)."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("bulk-upload/", view(self.bulk_upload_view), name="uploads_image_bulk_upload"),
            path("delete-all/", view(self.delete_all_view), name="uploads_image_delete_all"),
            path("archive/", view(self.archive_view), name="uploads_image_archive"),
            *super().get_urls(),
        ]

    def _render(self, request, template: str, **context) -> TemplateResponse:
        """One of these pages, in the admin's frame."""
        context = {**self.admin_site.each_context(request), "opts": self.opts, **context}
        return TemplateResponse(request, f"admin/uploads/image/{template}", context)

    @method_decorator(allow_only("GET", "HEAD", "POST"))
    def bulk_upload_view(self, request):
        """The page, and what it does with the files it is sent."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        preferred = request.get_preferred_type(["text/html", "application/json"])
        wants_json = preferred == "application/json"
        posted = request.method == "POST"
        # Bound whenever it is posted: an empty post is "nothing chosen", a form error.
        form = BulkUploadForm(request.POST, request.FILES) if posted else BulkUploadForm()
        results = []
        if posted and form.is_valid():
            # Every chosen file, those over MAX_UPLOAD_MB too (an OversizedUpload: refused here).
            descriptions = chain(form.cleaned_data["descriptions"], repeat(""))
            uploads = zip(form.cleaned_data["images"], descriptions, strict=False)
            outcomes = services.images_ingest_many(uploads, user=request.user)
            stored = [outcome.image for outcome in outcomes if outcome.image]
            for image in stored:
                self.log_addition(request, image, [{"added": {}}])
            on_shelf = set(Image.objects.values_list("pk", flat=True))
            results = [_result(outcome, on_shelf) for outcome in outcomes]
            if wants_json:
                return JsonResponse({"results": results, "on_shelf": sorted(on_shelf)})
            level = messages.SUCCESS if len(stored) == len(outcomes) else messages.WARNING
            counts = {"stored": len(stored), "total": len(outcomes)}
            self.message_user(request, _("Stored %(stored)s of %(total)s files.") % counts, level)
        elif wants_json and posted:
            error = " ".join(chain.from_iterable(form.errors.values())) or _("Try again.")
            return JsonResponse({"error": error}, status=400)
        return self._render(
            request,
            "bulk_upload.html",
            title=_("Bulk upload"),
            form=form,
            results=results,
            image_count=Image.objects.count(),
            max_files=settings.BULK_UPLOAD_MAX_FILES,
        )

    @method_decorator(allow_only("GET", "HEAD"))
    def archive_view(self, request):
        """The shelf as one zip archive, for `manage.py import_shelf`: streamed as storage hands
        each file over, so it starts at once and never holds the shelf in memory."""
        if not self.has_export_permission(request):
            raise PermissionDenied
        chunks = archive.archive_chunks(Counter(), progress=lambda line: None)
        # Storage is first asked for here: unreachable, it is the 503 page, not a broken file.
        first = next(chunks)
        response = StreamingHttpResponse(chain([first], chunks), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="shelf-{date.today()}.zip"'
        return response

    @method_decorator(allow_only("GET", "HEAD", "POST"))
    def delete_all_view(self, request):
        """Every image, pending or not, and every file: a confirmation page saying how many,
        then, on a POST, the deletion, an admin log entry for each, and back to the list."""
        if not self.has_delete_permission(request):
            raise PermissionDenied
        if request.method != "POST":
            return self._render(
                request,
                "delete_all_confirmation.html",
                title=_("Delete all images?"),
                count=Image.objects.count(),
            )
        deleted = deletion.images_delete_all(user=request.user)
        self.log_deletions(request, deleted)
        done = _("Deleted all %(deleted)s image(s) and their files.") % {"deleted": len(deleted)}
        self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:uploads_image_changelist"))


def _result(outcome: services.IngestOutcome, on_shelf: set[int]) -> dict:
    """One file's line: stored (a link to the image while it is on the shelf), stored and
    already replaced by a newer one (no link: its page is gone), or refused and why."""
    if outcome.image is None:
        return {"filename": outcome.filename, "image": None, "url": "",
                "message": _("Refused: %s") % outcome.error}  # fmt: skip
    image = outcome.image
    replaced = _(
        "Stored as “%(title)s”, then replaced by a newer image: the shelf keeps the newest "
        "%(limit)s."
    ) % {"title": image, "limit": settings.IMAGE_LIMIT}
    present = image.pk in on_shelf
    return {
        "filename": outcome.filename,
        "image": image.pk,
        "title": str(image),
        "url": reverse("admin:uploads_image_change", args=[image.pk]) if present else "",
        "message": "" if present else replaced,
        "note": image.changes_note,  # how the stored image differs from the file, if it does
        "replaced": replaced,  # what the page says once a later file pushes it off
    }
