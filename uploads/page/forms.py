"""Upload forms for the public page and the admin; files are judged by services.image_ingest."""

from __future__ import annotations

from django import forms
from django.conf import settings

from uploads.ingest import imaging
from uploads.media.storage import StorageUnavailable
from uploads.models import Image
from uploads.shelf import services

# Extensions too: browsers often give HEIC and AVIF files no type, and Chrome does not
# match image/heic to image/*. What is accepted is decided by content (imaging.sniff_format).
ACCEPT = (
    "image/jpeg,image/png,image/webp,image/gif,image/heic,image/heif,image/avif,.heic,.heif,.avif"
)
FORMATS_HELP = f"{imaging.ACCEPTED}."


class UploadForm(forms.Form):
    title = forms.CharField(
        max_length=200,
        required=False,
        label="Title (optional)",
        help_text="Describes the image for people who cannot see it.",
    )
    # Empty files are allowed here so that ingest refuses them with its own message.
    image = forms.FileField(
        label="Image",
        allow_empty_file=True,
        help_text=FORMATS_HELP,
        widget=forms.FileInput(attrs={"accept": ACCEPT}),
        error_messages={"required": "Choose an image to upload."},
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; each is judged later by services.image_ingest."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": ACCEPT}))
        super().__init__(*args, allow_empty_file=True, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        files = [super(MultipleFileField, self).clean(file, initial) for file in files if file]
        if self.required and not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return files


def accepted_files() -> str:
    """What the admin's upload forms take, with today's size limit."""
    return f"{imaging.ACCEPTED}, up to {settings.MAX_UPLOAD_MB} MB"


class BulkUploadForm(forms.Form):
    images = MultipleFileField(
        label="Images", error_messages={"required": "Choose at least one image to upload."}
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["images"].help_text = f"Choose several files at once: {accepted_files()} each."


class ImageAddForm(forms.ModelForm):
    """The add page: the file goes through services.image_ingest, like every upload."""

    image = forms.FileField(
        label="Image",
        allow_empty_file=True,
        widget=forms.FileInput(attrs={"accept": ACCEPT}),
    )

    class Meta:
        model = Image
        fields = ["title"]

    user = None  # set by ImageAdmin.get_form

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields[
            "image"
        ].help_text = f"{accepted_files()}. It is checked, cleaned and thumbnailed on upload."

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.instance = services.image_ingest(
                cleaned["image"], user=self.user, title=cleaned.get("title", "")
            )
            # The title ingest gave it (from the file name, when none was typed): the form
            # copies cleaned data onto the instance, and the admin's message names it.
            cleaned["title"] = self.instance.title
        except services.UploadRejected as rejection:
            self.add_error("image", rejection)
        except StorageUnavailable:
            self.add_error(None, "Storage is unavailable, so the image was not stored. Try again.")
        return cleaned
