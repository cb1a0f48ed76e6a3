"""What an import file may be, judged before django-import-export parses it, and which
confirmation of an import it takes.

A preview costs a query and a diff per row (5,000 rows took 25 s, near the router's 30 s)
and an XLSX can unpack to far more than it weighs. Imports only change titles, and a shelf
holds a handful of images: a cap of 1,000 rows, and of 2 MB, is far above any real use.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from contextlib import closing
from itertools import islice

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from import_export.forms import ImportForm
from tablib import InvalidDimensions

from uploads.shelf.services import MB, megabytes

MAX_ROWS = 1_000
MAX_BYTES = 2 * MB
MAX_UNPACKED_BYTES = 20 * MB  # what an XLSX's parts may unpack to, all together


def too_large_message(size: int) -> str:
    facts = {"size": megabytes(size, over=MAX_BYTES // MB), "limit": MAX_BYTES // MB}
    return _("This import file is %(size)s; the limit is %(limit)s MB.") % facts


def check_import_file(file, format_name: str) -> None:
    """Refuse (ValidationError) a file over the byte cap or, by a count that parses
    nothing into a dataset, over the row cap."""
    if file.size > MAX_BYTES:
        raise ValidationError(too_large_message(file.size), code="too_large")
    data = b"".join(file.chunks())  # from its start, as django-import-export reads it
    # Rows besides the header, at most MAX_ROWS + 1 of them counted; None when the file
    # cannot be read that way (django-import-export then says what is wrong with it). Every
    # format ImageAdmin.import_formats offers has a counter.
    rows = ROW_COUNTERS[format_name.lower()](data)
    if rows is not None and rows > MAX_ROWS:
        facts = {"rows": number_format(MAX_ROWS, force_grouping=True)}
        message = _("This file has more than %(rows)s rows; an import may have at most %(rows)s.")
        raise ValidationError(message % facts, code="too_many_rows")


def _csv_rows(data: bytes) -> int:
    """Lines, not records, ended by CR, LF or CRLF as the csv module reads them: a title with
    a line break counts twice, which only errs towards refusing."""
    return len(data.splitlines()) - 1


def _json_rows(data: bytes) -> int | None:
    try:
        rows = json.loads(data)
    except RecursionError:  # django-import-export's own parse would fail the same way
        raise ValidationError(_("This JSON file is nested too deeply to be an import.")) from None
    except ValueError:
        return None
    return len(rows) if isinstance(rows, list) else None


def _xlsx_rows(data: bytes) -> int | None:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(part.file_size for part in archive.infolist())
        if unpacked > MAX_UNPACKED_BYTES:
            limit = MAX_UNPACKED_BYTES // MB
            facts = {"size": megabytes(unpacked, over=limit), "limit": limit}
            message = _("This spreadsheet unpacks to %(size)s; the limit is %(limit)s MB.") % facts
            raise ValidationError(message, code="too_large")
        # Streamed, as django-import-export reads it (read-only, the active sheet), and
        # only as far as the cap.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return None
    with closing(book):
        return len(list(islice(book.active.iter_rows(values_only=True), MAX_ROWS + 2))) - 1


NOT_OURS = _("This import confirmation is not one this site issued, so nothing was imported.")
CONFIRMED_OR_EXPIRED = _(
    "This import was already confirmed, or its preview has expired, so nothing was imported. "
    "Import the file again."
)
# django-import-export names each preview file uuid4().hex under django-import-export/.
PREVIEW_NAME = re.compile(r"[0-9a-f]{32}")


def confirmation_is_ours(name: str, chosen: str, formats: int) -> bool:
    """Whether an import's confirmation names a preview as this site issues them (never a
    path) and a format it offers. Whether that preview is still stored is found by
    django-import-export's read (ImageAdmin.process_import)."""
    return PREVIEW_NAME.fullmatch(name) is not None and chosen.isdecimal() and int(chosen) < formats


ROW_COUNTERS = {"csv": _csv_rows, "json": _json_rows, "xlsx": _xlsx_rows}


class ConfirmationMixin:
    """For the image list's ModelAdmin: an import's confirmation, refused (nothing imported,
    nothing deleted) unless it names a preview this site issued that is still waiting, in
    the format it was shown in."""

    def process_import(self, request, **kwargs):
        if not self.has_import_permission(request):  # before anything is looked up
            raise PermissionDenied
        name, chosen = request.POST.get("import_file_name", ""), request.POST.get("format", "")
        refusal = NOT_OURS
        if confirmation_is_ours(name, chosen, len(self.get_import_formats())):
            try:
                return super().process_import(request, **kwargs)
            except FileNotFoundError:  # the preview is gone: confirmed already, or expired
                refusal = CONFIRMED_OR_EXPIRED
            except (ValueError, zipfile.BadZipFile, InvalidDimensions):  # read as another format
                pass
        self.message_user(request, refusal, messages.ERROR)
        return redirect("admin:uploads_image_import")


class ImageImportForm(ImportForm):
    """django-import-export's import form, refusing a file beyond the caps before the
    preview parses it."""

    def clean(self):
        cleaned = super().clean()
        file, chosen = cleaned.get("import_file"), cleaned.get("format")
        if file is not None and chosen:
            try:
                # The chosen format's title ("csv"), as the form lists it.
                check_import_file(file, dict(self.fields["format"].choices)[chosen])
            except ValidationError as refusal:
                self.add_error("import_file", refusal)
        return cleaned
