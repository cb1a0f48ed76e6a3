"""Import/export of image metadata (django-import-export). Files never travel this way."""

from __future__ import annotations

import re
from functools import cached_property

from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from import_export import fields, resources
from import_export.formats.base_formats import CSV, XLSX
from import_export.resources import Diff

from uploads.admin.listing import stored_images
from uploads.models import Image

UNKNOWN = "unknown"  # a file's presence when storage cannot be listed
# What makes a spreadsheet read a cell as a formula (OWASP's list for CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert_cell(value):
    """A text cell a spreadsheet would take for a formula, prefixed with ' to stay text."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


class _InertCells:
    """Export formats whose cells never execute. Instead of django-import-export's escaping
    (IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT, left off), which only strips one leading "="
    and would change JSON too, where nothing is ever a formula."""

    def export_data(self, dataset, **kwargs):
        for index in range(len(dataset)):
            dataset[index] = [inert_cell(cell) for cell in dataset[index]]
        return super().export_data(dataset, **kwargs)


class InertCSV(_InertCells, CSV):
    """CSV whose cells never run as formulae."""


class InertXLSX(_InertCells, XLSX):
    """XLSX whose cells never run as formulae."""


class PlainDiff(Diff):
    """The import preview's changes without the inline styles that diff-match-patch writes
    (<ins style="background:#e6ffe6;">) and our Content-Security-Policy blocks;
    admin-site/imageshelf.css colours them."""

    STYLED = re.compile(r'<(ins|del) style="[^"]*">')

    def as_html(self) -> list[str]:
        # diff-match-patch escaped the text itself, so a title cannot match STYLED.
        return [mark_safe(self.STYLED.sub(r"<\1>", html)) for html in super().as_html()]


class ImageResource(resources.ModelResource):
    """Exports what staff want to audit; imports change titles of existing images only
    (get_import_fields): every other column is exported, never imported."""

    file_name = fields.Field(attribute="file__name", column_name="file")
    thumbnail_name = fields.Field(attribute="preview_name", column_name="thumbnail")
    uploader = fields.Field(attribute="uploaded_by__username", column_name="uploaded_by")
    file_present = fields.Field(column_name="file_present")
    # Not named "format": the admin's export form has a field of that name already.
    image_format = fields.Field(attribute="format", column_name="format")

    class Meta:
        model = Image
        # Also the export's column order (django-import-export follows `fields`).
        fields = (
            "id",
            "title",
            "file_name",
            "thumbnail_name",
            "width",
            "height",
            "size_bytes",
            "image_format",
            "sha256",
            "uploaded_at",
            "uploader",
            "file_present",
        )
        skip_unchanged = True
        clean_model_instances = True  # a title is checked as the change form checks it

    def get_diff_class(self):
        return PlainDiff

    def get_import_fields(self):
        """What an import can change (the title) and how rows are found (the id): what the
        import page lists and its preview compares."""
        return [self.fields["id"], self.fields["title"]]

    @cached_property
    def _present(self) -> set[str] | None:
        return stored_images()  # one storage listing for the whole export

    def dehydrate_file_present(self, image: Image) -> bool | str:
        """Whether the file is in storage, or "unknown" when storage cannot be listed."""
        return UNKNOWN if self._present is None else image.file.name in self._present

    def init_instance(self, row=None):
        """Imports never create images: an unknown id is an error for that row."""
        message = _(
            "There is no image with id %s; imports only change the titles of images "
            "already on the shelf."
        )
        raise ValueError(message % row.get("id"))
