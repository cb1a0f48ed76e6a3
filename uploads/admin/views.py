"""The image list's own pages: bulk upload, and the shelf-wide buttons "Delete all" and
"Enforce the limit now", each of which asks on a page of its own, then acts on a POST.

Bulk upload without JavaScript sends every file in one request, at most
BULK_UPLOAD_MAX_FILES of them, so that the request stays well inside the router's 30 s.
With it (static/admin-site/bulk-upload.js), each file is a request of its own with its own
progress bar, and the answer is JSON: the same results, and which images are still on the
shelf.
"""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from uploads.admin.forms import BulkUploadForm
from uploads.models import Image
from uploads.shelf import deletion, services


def urls(model_admin) -> list:
    """The pages, under the image list's URL."""
    view = model_admin.admin_site.admin_view
    return [
        path(
            "bulk-upload/",
            view(partial(bulk_upload, model_admin)),
            name="uploads_image_bulk_upload",
        ),
        path(
            "delete-all/", view(partial(delete_all, model_admin)), name="uploads_image_delete_all"
        ),
        path(
            "enforce-limit/",
            view(partial(enforce_limit, model_admin)),
            name="uploads_image_enforce_limit",
        ),
    ]


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
        outcomes = services.images_ingest_many(form.cleaned_data["images"], user=request.user)
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
        error = " ".join(form.errors.get("images", ["Try again."]))
        return JsonResponse({"error": error}, status=400)
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


def delete_all(model_admin, request):
    """Every image, pending or not, and every file."""
    count = Image.objects.count()
    return _confirmed(
        model_admin,
        request,
        lambda: deletion.images_delete_all(user=request.user),
        done="Deleted all {} image(s) and their files.",
        title="Delete all images?",
        explanation=format_html(
            "This deletes <strong>all {} image{}</strong> and their files. It cannot be undone.",
            count,
            "" if count == 1 else "s",
        ),
        confirm="Yes, delete all images",
    )


def enforce_limit(model_admin, request):
    """The oldest images beyond IMAGE_LIMIT, now rather than after the next upload."""
    limit = settings.IMAGE_LIMIT
    beyond = Image.objects.beyond_limit(limit).count()
    return _confirmed(
        model_admin,
        request,
        lambda: deletion.images_enforce_limit(limit=limit, user=request.user),
        done=f"Deleted {{}} image(s) beyond the limit of {limit}.",
        nothing=f"Nothing to do: the shelf holds no more than {limit} images.",
        title="Enforce the image limit now?",
        explanation=format_html(
            "The shelf keeps the newest {}: this deletes <strong>{} older image{}</strong> "
            "and their files. It cannot be undone.",
            limit,
            beyond,
            "" if beyond == 1 else "s",
        ),
        confirm="Yes, enforce the limit",
    )


def _confirmed(model_admin, request, act, *, done: str, nothing: str = "", **page):
    """The confirmation page; on a POST, act() (which returns the images it deleted), an
    admin log entry for each, and back to the list."""
    if not model_admin.has_delete_permission(request):
        raise PermissionDenied
    if request.method != "POST":
        context = {**model_admin.admin_site.each_context(request), "opts": model_admin.opts}
        return TemplateResponse(
            request, "admin/uploads/image/shelf_confirmation.html", {**context, **page}
        )
    deleted = act()
    model_admin.log_deletions(request, deleted)
    message = done.format(len(deleted)) if deleted or not nothing else nothing
    model_admin.message_user(request, message, messages.SUCCESS)
    return HttpResponseRedirect(reverse("admin:uploads_image_changelist"))
