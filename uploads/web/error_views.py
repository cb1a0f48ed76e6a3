"""Error pages that say what went wrong when a person can put it right."""

from __future__ import annotations

import functools
import logging
import sys

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent, TooManyFilesSent
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, HttpResponseNotAllowed
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt

from uploads.ingest.decode_lock import DeadlinePassed
from uploads.media.storage import StorageUnavailable
from uploads.web.read_deadline import BodyTooSlow

logger = logging.getLogger(__name__)
# Errors that pass once the database, storage or the dyno's other uploads let go: 503.
OUTAGES = OperationalError | InterfaceError | DeadlinePassed | StorageUnavailable


# handler403 and handler404: Django's own views without their CSRF check (requires_csrf_token),
# which reads the body, one the upload gate refused unread too (a trickle would hold the
# thread until its deadline) and one that does not parse (a 500 in place of the page).
# Their pages carry no form.
permission_denied = defaults.permission_denied.__wrapped__
page_not_found = defaults.page_not_found.__wrapped__


def _reason(exception) -> str:
    if isinstance(exception, TooManyFilesSent):
        return _(
            "That was more than %(most)s files at once. Choose at most %(most)s, then try again."
        ) % {"most": settings.DATA_UPLOAD_MAX_NUMBER_FILES}
    if isinstance(exception, BodyTooSlow):
        return _(
            "The form arrived too slowly, so it was cut off. Check the connection and try again."
        )
    if isinstance(exception, TooManyFieldsSent):
        return _("The form sent far more fields than it has. Reload the page and try again.")
    return ""


def server_error(request):
    """handler500. A lost database connection or unreachable storage, wherever in the request
    it was raised (a middleware, an admin action), or an upload's deadline passed (the dyno
    busy with others' uploads, or storage slow), is an outage to wait out: the 503 page.
    Anything else is a 500."""
    error = sys.exc_info()[1]  # Django calls handler500 while it handles the exception
    if not isinstance(error, OUTAGES):
        return HttpResponse(render_to_string("500.html"), status=500)
    logger.error("event=unavailable path=%s error=%r", request.path, str(error))
    headers = {"Retry-After": "30", "Cache-Control": "no-store"}
    return HttpResponse(render_to_string("503.html"), status=503, headers=headers)


def bad_request(request, exception):
    """handler400. Rendered without a request context: nothing here may fail in turn. The
    request may be refused before LocaleMiddleware (a host the HTTPS redirect refuses), and a
    thread keeps the language of the last request it served: the page takes its own."""
    translation.activate(translation.get_language_from_request(request))
    return HttpResponse(render_to_string("400.html", {"reason": _reason(exception)}), status=400)


def allow_only(*methods: str):
    """Like require_http_methods, with the 405 page rather than an empty 405: someone
    reloading the address a refused upload was shown at gets a way back to the shelf."""

    def decorator(view):
        @functools.wraps(view)
        def allowed(request, *args, **kwargs):
            if request.method not in methods:
                page = render_to_string("405.html", {"forms_only": methods == ("POST",)})
                return HttpResponseNotAllowed(methods, page)
            return view(request, *args, **kwargs)

        # A view that takes no POST writes nothing: a PUT there is a 405, not a CSRF 403.
        return allowed if "POST" in methods else csrf_exempt(allowed)

    return decorator
