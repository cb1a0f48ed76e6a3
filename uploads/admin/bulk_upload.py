"""The admin's bulk upload: several files, each through image_ingest, each with its outcome.

Without JavaScript the form sends every file in one request, at most BULK_UPLOAD_MAX_FILES
of them, so that the request stays well inside the router's 30 s. With it
(static/admin-site/bulk-upload.js), each file is a request of its own with its own progress
bar, and the answer is JSON: the same results, and which images are still on the shelf.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from uploads.models import Image
from uploads.page.forms import BulkUploadForm
from uploads.shelf import services

FIELD = "images"


def bulk_upload(model_admin, request):
    """The page, and what it does with the files it is sent."""
    if not model_admin.has_add_permission(request):
        raise PermissionDenied
    wants_json = request.get_preferred_type(["text/html", "application/json"]) == (
        "application/json"
    )
    posted = request.method == "POST"
    # Bound whenever it is posted: an empty post is "nothing chosen", a form error.
    form = BulkUploadForm(request.POST, request.FILES) if posted else BulkUploadForm()
    results = []
    if posted and form.is_valid():
        # Every chosen file, those over MAX_UPLOAD_MB too (an OversizedUpload: refused here).
        outcomes = services.images_ingest_many(form.cleaned_data[FIELD], user=request.user)
        stored = [outcome.image for outcome in outcomes if outcome.image]
        for image in stored:
            model_admin.log_addition(request, image, [{"added": {}}])
        on_shelf = set(Image.objects.values_list("pk", flat=True))
        results = [_result(outcome, on_shelf) for outcome in outcomes]
        if wants_json:
            return JsonResponse({"results": results, "on_shelf": sorted(on_shelf)})
        level = messages.SUCCESS if len(stored) == len(outcomes) else messages.WARNING
        model_admin.message_user(
            request, f"Stored {len(stored)} of {len(outcomes)} files.", level=level
        )
    elif wants_json and posted:
        return JsonResponse({"error": " ".join(form.errors.get(FIELD, ["Try again."]))}, status=400)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": "Bulk upload",
        "form": form,
        "results": results,
        "image_count": Image.objects.count(),
        "max_files": settings.BULK_UPLOAD_MAX_FILES,
    }
    return TemplateResponse(request, "admin/uploads/image/bulk_upload.html", context)


def _result(outcome: services.IngestOutcome, on_shelf: set[int]) -> dict:
    """One file's line: stored (a link to the image while it is on the shelf), stored and
    already replaced by a newer one (no link: its page is gone), or refused and why."""
    if outcome.image is None:
        return {"filename": outcome.filename, "image": None, "url": "",
                "message": f"Refused: {outcome.error}"}  # fmt: skip
    image = outcome.image
    replaced = (
        f"Stored as “{image}”, then replaced by a newer image: "
        f"the shelf keeps the newest {settings.IMAGE_LIMIT}."
    )
    present = image.pk in on_shelf
    return {
        "filename": outcome.filename,
        "image": image.pk,
        "title": str(image),
        "url": reverse("admin:uploads_image_change", args=[image.pk]) if present else "",
        "message": "" if present else replaced,
        "replaced": replaced,  # what the page says once a later file pushes it off
    }
