"""The image list's shelf-wide buttons, "Delete all" and "Enforce the limit now": each asks
on a page of its own, then acts on a POST. Their log entries are written in the locked
transaction that makes the change, so they name exactly the images deleted."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from uploads.models import Image
from uploads.shelf import services


def urls(model_admin) -> list:
    """The buttons' pages, under the image list's URL."""
    view = model_admin.admin_site.admin_view
    return [
        path(
            "delete-all/",
            view(partial(delete_all, model_admin)),
            name="uploads_image_delete_all",
        ),
        path(
            "enforce-limit/",
            view(partial(enforce_limit, model_admin)),
            name="uploads_image_enforce_limit",
        ),
    ]


def delete_all(model_admin, request):
    """Every image, pending or not, and every file."""

    def act() -> str:
        model_admin.log_deletions(request, list(Image.objects.all()))
        deleted = services.images_delete_all(user=request.user)
        return f"Deleted all {deleted} image(s) and their files."

    count = Image.objects.count()
    return _confirmed(
        model_admin,
        request,
        act,
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

    def act() -> str:
        model_admin.log_deletions(request, list(services.images_beyond_limit(limit)))
        deleted = services.images_enforce_limit(limit=limit, user=request.user)
        if not deleted:
            return f"Nothing to do: the shelf holds no more than {limit} images."
        return f"Deleted {deleted} image(s) beyond the limit of {limit}."

    beyond = services.images_beyond_limit(limit).count()
    return _confirmed(
        model_admin,
        request,
        act,
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


def _confirmed(model_admin, request, act: Callable[[], str], **page):
    """The confirmation page; on a POST, act() in one locked transaction, then the list."""
    if not model_admin.has_delete_permission(request):
        raise PermissionDenied
    if request.method != "POST":
        context = {**model_admin.admin_site.each_context(request), "opts": model_admin.opts}
        return TemplateResponse(
            request, "admin/uploads/image/shelf_confirmation.html", {**context, **page}
        )
    with transaction.atomic():
        services.lock_shelf()  # until commit: the images logged are the images deleted
        message = act()
    model_admin.message_user(request, message, messages.SUCCESS)
    return HttpResponseRedirect(reverse("admin:uploads_image_changelist"))
