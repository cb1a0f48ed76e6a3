"""The admin's upload forms (add one, bulk upload); files are judged by services.image_ingest."""

from __future__ import annotations

from django import forms
from django.conf import settings

from uploads.ingest import imaging
from uploads.media import storage
from uploads.models import Image
from uploads.page.forms import ACCEPT
from uploads.shelf import services


def accepted_files() -> str:
    """What the admin's upload forms take, with today's size limit."""
    return f"{imaging.ACCEPTED}, up to {settings.MAX_UPLOAD_MB} MB"


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
        label="Image", allow_empty_file=True, widget=forms.FileInput(attrs={"accept": ACCEPT})
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
        except storage.StorageUnavailable:
            self.add_error(None, storage.UNAVAILABLE)
        return cleaned
