"""How uploads are received: a file past MAX_UPLOAD_MB is counted but not kept, so that the
refusal can say how large it was, and a large one is spooled to a file that cannot outlive
the process that holds it."""

from __future__ import annotations

import io
import tempfile

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

from uploads.shelf.services import max_upload_bytes


class OversizedUpload(UploadedFile):
    """A file that passed the limit: its name and its whole size, and no content."""


class SizeLimitUploadHandler(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS. Past MAX_UPLOAD_MB a file's bytes are counted and
    dropped, never handed on to memory or a temporary file; the file arrives as an
    OversizedUpload, which image_ingest refuses with its size, as it does every file over
    the limit."""

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.oversized = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        if start + len(raw_data) > max_upload_bytes():
            self.oversized = True
        return None if self.oversized else raw_data

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if not self.oversized:
            return None  # the next handler builds the file
        # What the next handlers took in before the limit goes now, not with the request.
        for handler in self.request.upload_handlers if self.request else ():
            if handler is not self and getattr(handler, "file", None) is not None:
                handler.file.close()
        return OversizedUpload(
            io.BytesIO(), self.file_name, self.content_type, file_size, self.charset
        )


class UnnamedTemporaryUploadedFile(UploadedFile):
    """An upload spooled to a file with no name in the temporary directory (Linux's
    O_TMPFILE, or a name unlinked at once): its disk is freed when it is closed, or when
    the process ends in any way, SIGKILL included. Nothing is left behind to sweep."""

    def __init__(self, name, content_type, size, charset, content_type_extra=None) -> None:
        # Closed with the upload, as Django's own TemporaryUploadedFile is.
        file = tempfile.TemporaryFile(suffix=".upload", dir=settings.FILE_UPLOAD_TEMP_DIR)  # noqa: SIM115
        super().__init__(file, name, content_type, size, charset, content_type_extra)


class UnnamedTemporaryFileUploadHandler(FileUploadHandler):
    """Last in FILE_UPLOAD_HANDLERS, instead of Django's TemporaryFileUploadHandler, whose
    named files stay in /tmp for good when a worker is killed mid-upload."""

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.file = UnnamedTemporaryUploadedFile(
            self.file_name, self.content_type, 0, self.charset, self.content_type_extra
        )
        if self.request is not None:  # closed when the request ends (upload_gate.py)
            spooled = getattr(self.request, "spooled_uploads", [])
            self.request.spooled_uploads = [*spooled, self.file]

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        self.file.write(raw_data)

    def file_complete(self, file_size: int) -> UploadedFile:
        self.file.seek(0)
        self.file.size = file_size
        return self.file
