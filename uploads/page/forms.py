"""The page's upload form; the file is judged by services.image_ingest, as at every door."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from uploads.ingest import formats
from uploads.models import Image, validate_visible

# Extensions too: browsers often give HEIC and AVIF files no type, and Chrome does not
# match image/heic to image/*. What is accepted is decided by content (formats.sniff_format).
ACCEPT = (
    "image/jpeg,image/png,image/webp,image/gif,image/heic,image/heif,image/avif,.heic,.heif,.avif"
)


def description_field(**options) -> forms.CharField:
    """The description's form field for every door: the model field's, which checks its
    length and NUL characters, and validate_visible, which only the model field runs (and
    ingest must not start before it)."""
    return Image.description.field.formfield(validators=[validate_visible], **options)


class UploadForm(forms.Form):
    # The model field's: its length, and its help text ("Shown under the image.").
    title = Image.title.field.formfield(label=_("Title (optional)"))
    description = description_field(
        label=_("Description (optional)"),
        help_text=_("What the image shows, for people who cannot see it."),
    )
    # Empty files are allowed here so that ingest refuses them with its own message.
    image = forms.FileField(
        label=_("Image"),
        allow_empty_file=True,
        help_text=format_lazy("{}.", formats.ACCEPTED),
        widget=forms.FileInput(attrs={"accept": ACCEPT}),
        error_messages={"required": _("Choose an image to upload.")},
    )
