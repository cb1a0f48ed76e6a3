"""Import/export of image metadata (django-import-export). Files never travel this way."""

from __future__ import annotations

from django.utils.safestring import mark_safe
from import_export import fields, resources
from import_export.formats.base_formats import CSV, JSON, XLSX
from import_export.resources import Diff

from uploads.media import storage
from uploads.models import Image

UNKNOWN = "unknown"  # a file's presence when storage cannot be listed
# Facts about the stored file: exported, never imported.
FACTS = ("width", "height", "size_bytes", "sha256", "uploaded_at")
# What makes a spreadsheet read a cell as a formula (OWASP's list for CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert_cell(value):
    """A text cell a spreadsheet would take for a formula, prefixed with ' to stay text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class _InertCells:
    """Export formats whose cells never execute. Replaces django-import-export's escaping
    (IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT), which only strips one leading "="."""

    def _escape_formulae(self, dataset) -> None:
        for index in range(len(dataset)):
            dataset[index] = [inert_cell(cell) for cell in dataset[index]]


class InertCSV(_InertCells, CSV):
    pass


class InertXLSX(_InertCells, XLSX):
    pass


class PlainJSON(JSON):
    """JSON is data, never a formula: titles are exported as they are."""

    def _escape_formulae(self, dataset) -> None:
        pass


class PlainDiff(Diff):
    """The import preview's changes without the inline styles that diff-match-patch writes
    and our Content-Security-Policy blocks; admin-site/imageshelf.css colours them."""

    INLINE = {
        '<ins style="background:#e6ffe6;">': "<ins>",
        '<del style="background:#ffe6e6;">': "<del>",
    }

    def as_html(self) -> list[str]:
        cells = []
        for html in super().as_html():
            for styled, plain in self.INLINE.items():
                html = html.replace(styled, plain)
            cells.append(mark_safe(html))  # diff-match-patch escaped the text itself
        return cells


class ImageResource(resources.ModelResource):
    """Exports what staff want to audit; imports change titles of existing images only."""

    file_name = fields.Field(attribute="file__name", column_name="file", readonly=True)
    thumbnail_name = fields.Field(attribute="preview_name", column_name="thumbnail", readonly=True)
    uploader = fields.Field(
        attribute="uploaded_by__username", column_name="uploaded_by", readonly=True
    )
    file_present = fields.Field(column_name="file_present", readonly=True)
    # Not named "format": the admin's export form has a field of that name already.
    image_format = fields.Field(attribute="format", column_name="format", readonly=True)

    class Meta:
        model = Image
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
        export_order = fields
        import_id_fields = ("id",)
        skip_unchanged = True
        report_skipped = True

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._present: set[str] | str | None = None
        for name in FACTS:
            self.fields[name].readonly = True

    @classmethod
    def get_diff_class(cls):
        return PlainDiff

    def get_import_fields(self):
        """What an import can change (the title) and how rows are found (the id): what the
        import page lists and its preview compares."""
        return [field for field in super().get_import_fields() if not field.readonly]

    def get_queryset(self):
        return super().get_queryset().select_related("uploaded_by")

    def dehydrate_file_present(self, image: Image) -> bool | str:
        """Whether the file is in storage, or "unknown" when storage cannot be listed."""
        if self._present is None:  # one storage listing for the whole export
            try:
                self._present = {stored.name for stored in storage.list_files("images/")}
            except storage.StorageUnavailable:
                self._present = UNKNOWN
        return UNKNOWN if self._present == UNKNOWN else image.file.name in self._present

    def init_instance(self, row=None):
        """Imports never create images: an unknown id is an error for that row."""
        raise ValueError(
            f"There is no image with id {row.get('id') if row else '?'}; "
            "imports only change the titles of images already on the shelf."
        )
