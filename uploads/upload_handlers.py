"""Stop reading an uploaded file once it passes MAX_UPLOAD_MB, before it is spooled to disk."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


class SizeLimitUploadHandler(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: an oversized file is skipped, and the request says so.

    The rest of that file's bytes are read from the network and dropped; they never reach
    memory or a temporary file. Views look at `request.oversized_uploads`.
    """

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > settings.MAX_UPLOAD_MB * 1024 * 1024:
            if self.request is not None:
                oversized = getattr(self.request, "oversized_uploads", set())
                oversized.add(self.field_name)
                self.request.oversized_uploads = oversized
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler builds the file
