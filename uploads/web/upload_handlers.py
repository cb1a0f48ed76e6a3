"""How uploads are received: a file past MAX_UPLOAD_MB is counted but not kept, so that the
refusal can say how large it was, and a large one is spooled to a file that cannot outlive
the process that holds it."""

from __future__ import annotations

import io
import tempfile

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, TemporaryFileUploadHandler

from uploads.shelf.services import max_upload_bytes


class OversizedUpload(UploadedFile):
    """A file that passed the limit: its name and its whole size, and no content."""


class SizeLimitUploadHandler(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS. Past MAX_UPLOAD_MB a file's bytes are counted and
    dropped, never handed on to memory or a temporary file; the file arrives as an
    OversizedUpload, which image_ingest refuses with its size, as it does every file over
    the limit."""

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        # None: the next handlers get nothing of this chunk, nor of any after it.
        return raw_data if start + len(raw_data) <= max_upload_bytes() else None

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if file_size <= max_upload_bytes():
            return None  # the next handler builds the file
        # What the next handlers took in before the limit goes now, not with the request.
        for handler in self.request.upload_handlers if self.request else ():
            if hasattr(handler, "file"):
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


class UnnamedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Last in FILE_UPLOAD_HANDLERS: Django's TemporaryFileUploadHandler, which writes and
    completes the file, but with an unnamed one; Django's named files stay in /tmp for good
    when a worker is killed mid-upload."""

    def new_file(self, *args, **kwargs) -> None:
        # The base class's, not the parent's: that one opens a named file.
        FileUploadHandler.new_file(self, *args, **kwargs)
        self.file = UnnamedTemporaryUploadedFile(
            self.file_name, self.content_type, 0, self.charset, self.content_type_extra
        )
        # Closed when the request ends, however it ends (upload_gate.py).
        getattr(self.request, "spooled_uploads", []).append(self.file)

    def upload_interrupted(self) -> None:
        # The body ended mid-file: close it (the parent's would look for its name to remove).
        if hasattr(self, "file"):
            self.file.close()
