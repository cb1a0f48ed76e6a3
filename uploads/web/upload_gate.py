"""What a request's body may be, decided before anything reads it.

Every door that takes files says how many and how large; any other POST takes none. A
body larger than its door can need is refused from its Content-Length (413, with the
door's page showing why), and an upload from someone who may not send one is refused (403,
or the sign-in page in the admin), before the CSRF check, the first thing that reads a
body, spools a single byte. Files that are spooled go to unnamed temporary files
(upload_handlers.py), closed when the request ends.

Heroku's router passes bodies on as slowly as clients send them, and a body holds its
thread until it has arrived (read_deadline.py bounds how long); an upload then holds it
while it waits for its decode turn and writes to storage (INGEST_DEADLINE bounds that). So
bodies from clients who are not signed in, sign-in forms included, are read by at most
ANONYMOUS_READERS threads of a worker at once, and the rest stay free for pages, staff and
/healthz; one more gets 503 at once rather than a thread to wait in. A reader is taken
until the CSRF check has read the body (or refused it), and a visitor's upload keeps it
until its answer. Signed in means a session the database knows (request.user), never a
cookie's mere presence.
"""

from __future__ import annotations

import threading
import time
from typing import NamedTuple

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.deprecation import MiddlewareMixin
from django.utils.translation import gettext as _

from uploads.admin import import_limits
from uploads.ingest import decode_lock
from uploads.shelf import permissions, services
from uploads.shelf.audit import audit, username
from uploads.web.read_deadline import content_length


class Door(NamedTuple):
    """A form that takes files: who may use it, and how large its body may be."""

    # The admin's doors, whose pages send those not signed in as staff to sign in; the
    # page's own follows PUBLIC_UPLOADS too.
    permission: str = ""
    bulk: bool = False  # takes BULK_UPLOAD_MAX_FILES files in one body (without its script)
    importing: bool = False  # the import form: its own byte cap
    page: str = ""  # the URL name of the page that shows it, when not its own

    def may_send(self, request) -> bool:
        if self.permission:
            return permissions.may(request.user, self.permission)
        return permissions.upload_access(request.user) != permissions.UploadAccess.REFUSED

    def max_body(self) -> int:
        """Its files, and as much besides as Django lets a form without files carry
        (DATA_UPLOAD_MAX_MEMORY_SIZE, also the limit of a body where no door is)."""
        files = settings.BULK_UPLOAD_MAX_FILES if self.bulk else 1
        file_bytes = import_limits.MAX_BYTES if self.importing else services.max_upload_bytes()
        return files * file_bytes + settings.DATA_UPLOAD_MAX_MEMORY_SIZE

    def too_large(self, size: int, *, together: bool = False) -> str:
        """The refusal for a body of `size` bytes (`together`: several files in it)."""
        if self.importing:
            return import_limits.too_large_message(size)
        if together and self.bulk:
            files, limit = settings.BULK_UPLOAD_MAX_FILES, settings.MAX_UPLOAD_MB
            facts = {"size": services.megabytes(size, over=files * limit), "files": files}
            return _(
                "These files are %(size)s together; a bulk upload takes at most %(files)s files "
                "of %(limit)s MB each."
            ) % {**facts, "limit": limit}
        return services.too_large_message(size)


# The body's size stands for the file's: a door that takes one file (the script's bulk
# upload included) gets just that file, give or take a few hundred bytes of form.
DOORS = {
    "uploads:upload": Door(page="uploads:index"),
    "admin:uploads_image_add": Door(permissions.ADD),
    "admin:uploads_image_bulk_upload": Door(permissions.ADD, bulk=True),
    "admin:uploads_image_import": Door(permissions.IMPORT, importing=True),
}


# Per worker process (each has its own once forked): 2 of gunicorn.conf.py's 4 threads.
ANONYMOUS_READERS = threading.BoundedSemaphore(2)


class UploadGateMiddleware(MiddlewareMixin):
    """After authentication (it needs the user) and before any view middleware: the CSRF
    check reads the body in its process_view, which runs after every middleware's call."""

    def process_request(self, request):
        request.spooled_uploads = []  # the files upload_handlers.py spools for this request
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:  # Postgres stores no NUL: a lookup would be a 500
            raise BadRequest("A NUL character in the query string.")
        size = content_length(request.META)
        if not size:
            return None
        door = next((door for name, door in DOORS.items() if reverse(name) == request.path), None)
        if door is not None and not door.may_send(request):
            _audit_refusal(request, "not_allowed")
            if door.permission and not admin.site.has_permission(request):
                return redirect_to_login(request.get_full_path(), reverse("admin:login"))
            raise PermissionDenied(_("You may not upload files here."))
        if size <= (door.max_body() if door else settings.DATA_UPLOAD_MAX_MEMORY_SIZE):
            request.upload_door = door
            return _take_a_reader(request)
        if door is None:
            audit("request.refused", reason="too_large", path=request.path, bytes=size)
            return render(request, "413.html", status=413)
        _audit_refusal(request, "too_large", bytes=size)
        if request.get_preferred_type(["text/html", "application/json"]) == "application/json":
            return JsonResponse({"error": door.too_large(size)}, status=413)
        # The door's own page, as for a GET (which never writes), with the refusal.
        request.method = "GET"  # the body stays unread: a GET has none
        if door.page:
            request.path_info = reverse(door.page)
        messages.error(request, door.too_large(size, together=True))
        response = self.get_response(request)
        if response.status_code == 200:
            response.status_code = 413
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        """The CSRF check has read the body: free its reader unless it is an upload's, and
        start the request's INGEST_DEADLINE for its uploads (the router's 30 s run from here)."""
        if not getattr(request, "upload_door", None):
            _free_the_reader(request)
        if content_length(request.META):
            deadline = time.monotonic() + settings.INGEST_DEADLINE
            request.ingest_deadline = decode_lock.deadline.set(deadline)

    def process_response(self, request, response):
        _free_the_reader(request)  # an upload's; or the CSRF check refused it, or reading failed
        for spooled in getattr(request, "spooled_uploads", ()):
            spooled.close()  # an unnamed file: closing it frees its disk
        if hasattr(request, "ingest_deadline"):  # this thread's next request sets its own
            decode_lock.deadline.reset(request.ingest_deadline)
        return response


def _take_a_reader(request):
    """None when the body may be read now: the client is signed in, or one of the
    ANONYMOUS_READERS is free (and now taken); otherwise the 503 page."""
    if request.user.is_authenticated:
        return None
    request.anonymous_reader = ANONYMOUS_READERS.acquire(blocking=False)
    if request.anonymous_reader:
        return None
    audit("request.refused", reason="busy", path=request.path, bytes=content_length(request.META))
    response = render(request, "503.html", status=503)
    response["Retry-After"] = "5"
    return response


def _free_the_reader(request) -> None:
    if getattr(request, "anonymous_reader", False):
        request.anonymous_reader = False
        ANONYMOUS_READERS.release()


def _audit_refusal(request, reason: str, **fields) -> None:
    audit("upload.refused", user=username(request.user), reason=reason, path=request.path, **fields)
