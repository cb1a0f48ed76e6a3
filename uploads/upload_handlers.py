"""Stop taking in an uploaded file once it passes MAX_UPLOAD_MB, but count it to the end,
so that the refusal can say how large it was."""

from __future__ import annotations

import io

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler


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
        if start + len(raw_data) > settings.MAX_UPLOAD_MB * 1024 * 1024:
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
