"""How uploads are received: an oversized file is dropped as it arrives, and a large one is
spooled to a file that cannot outlive the process that holds it."""

from __future__ import annotations

import tempfile

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile


class SizeLimitUploadHandler(FileUploadHandler):
    """First in FILE_UPLOAD_HANDLERS: an oversized file is skipped, and the request says so.

    The rest of that file's bytes are read from the network and dropped; they never reach
    memory or a temporary file. Views look at `request.oversized_uploads`: for each field,
    the names of the files dropped.
    """

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > settings.MAX_UPLOAD_MB * 1024 * 1024:
            if self.request is not None:
                oversized = getattr(self.request, "oversized_uploads", {})
                oversized.setdefault(self.field_name, []).append(self.file_name)
                self.request.oversized_uploads = oversized
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler builds the file


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
