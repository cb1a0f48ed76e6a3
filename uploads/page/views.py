"""HTTP for the public page and its forms: thin views over the shelf's services."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection
from django.http import HttpResponsePermanentRedirect, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django_ratelimit.decorators import ratelimit

from uploads.media import storage
from uploads.models import Image
from uploads.page import shared
from uploads.page.forms import UploadForm
from uploads.page.shelf import shelf
from uploads.shelf import deletion, permissions, services
from uploads.shelf.audit import audit, username
from uploads.shelf.permissions import UploadAccess
from uploads.web import throttling
from uploads.web.error_views import allow_only

logger = logging.getLogger(__name__)
RATE_LIMITED = gettext_lazy(
    "You have added many images in a short time. Please wait a while, then try again."
)


@allow_only("GET", "HEAD")
def index(request):
    """The hero, the newest images and, for those allowed, the upload form."""
    if _same_for_everyone(request):
        return shared.response(request, lambda: _render_index(request, shared=True).content)
    # Staff, and anyone with a form or a message: their own page, never reused, so they see
    # what they have just done whichever worker answers.
    form = UploadForm() if permissions.upload_access(request.user) != UploadAccess.REFUSED else None
    return _render_index(request, form=form)


def _same_for_everyone(request) -> bool:
    """The page carries nothing of this visitor's: no user, no message, no form (its CSRF
    token is the visitor's own). Without a session cookie there is no user, and without
    the messages cookie no messages: most visitors, answered without looking further
    (asking the user and the messages costs a tenth of the page's CPU: bench/page.py)."""
    if permissions.public_uploads():
        return False
    cookies = request.COOKIES
    if settings.SESSION_COOKIE_NAME not in cookies and CookieStorage.cookie_name not in cookies:
        return True
    return not (request.user.is_authenticated or messages.get_messages(request))


def _render_index(request, *, form=None, status: int = 200, shared: bool = False):
    images, unavailable = shelf()
    can_delete = permissions.may(request.user, permissions.DELETE)
    # The shared page has no message: reading the storage would mark it used, and its
    # answer would carry a Set-Cookie that deletes a cookie nobody sent.
    waiting = [] if shared else list(messages.get_messages(request))
    context = {
        # A refusal that came as a message (a body refused unread) goes first, as form errors do.
        "refusals": [message for message in waiting if message.level == messages.ERROR],
        "notes": [message for message in waiting if message.level != messages.ERROR],
        "images": images,
        "unavailable": unavailable,
        "form": form,
        "moderated": permissions.upload_access(request.user) == UploadAccess.QUEUE,
        "can_delete": can_delete,
        # "Delete all" deletes the images waiting for approval too.
        "delete_count": Image.objects.count() if can_delete and images else 0,
    }
    response = render(request, "uploads/index.html", context, status=status)
    if not shared:
        add_never_cache_headers(response)
    if status == 503:  # storage did not answer: worth trying again, as every 503 says
        response["Retry-After"] = "30"
    return response


@allow_only("POST")
@ratelimit(key="ip", rate=throttling.upload_rate, block=False)  # "ip": throttling.client_ip
def image_upload(request):
    """Store one image through services.image_ingest; 400 with the reason when refused."""
    access = permissions.upload_access(request.user)
    if access == UploadAccess.REFUSED:
        raise PermissionDenied(_("You may not add images."))
    form = UploadForm(request.POST, request.FILES)
    status = 400
    if request.limited:
        audit("upload.refused", user=username(request.user), reason="rate_limited")
        form.add_error(None, RATE_LIMITED)
        status = 429
    elif form.is_valid():
        pending = access == UploadAccess.QUEUE
        try:
            image = services.image_ingest(
                form.cleaned_data["image"],
                user=request.user,
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                pending=pending,
            )
        except services.UploadRejected as rejection:
            form.add_error("image" if rejection.code != "queue_full" else None, rejection)
            status = {"queue_full": 429, "too_large": 413}.get(rejection.code, 400)
        except storage.StorageUnavailable:
            form.add_error(None, storage.UNAVAILABLE)
            status = 503
        else:
            message = _("Added “%(title)s” to the shelf.")
            if pending:
                message = _("Thank you: “%(title)s” will appear once staff approve it.")
            messages.success(request, f"{message % {'title': image}} {image.changes_note}".strip())
            return HttpResponseRedirect(reverse("uploads:index"), status=303)
    return _render_index(request, form=form, status=status)


@allow_only("POST")
def images_delete_all(request):
    """For those who may delete; asks for confirmation unless the form already carried it."""
    if not permissions.may(request.user, permissions.DELETE):
        raise PermissionDenied(_("You may not delete images."))
    if request.POST.get("confirm") != "yes":
        return render(request, "uploads/delete_all_confirm.html", {"count": Image.objects.count()})
    deleted = len(deletion.images_delete_all(user=request.user))
    done = ngettext("Deleted %(count)s image.", "Deleted %(count)s images.", deleted)
    messages.success(request, done % {"count": deleted})
    return HttpResponseRedirect(reverse("uploads:index"), status=303)


@allow_only("GET", "HEAD")
def favicon(request):
    return HttpResponsePermanentRedirect(static("favicon.ico"))


@never_cache
@allow_only("GET", "HEAD")
def healthz(request):
    """Database and storage reachability as JSON; 503 when either fails."""
    health = {"database": "ok", "storage": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.exception("health check: database unavailable")
        health["database"] = "unavailable"
    try:
        storage.check_reachable()
    except storage.StorageUnavailable:
        logger.exception("health check: storage unavailable")
        health["storage"] = "unavailable"
    return JsonResponse(health, status=503 if "unavailable" in health.values() else 200)
