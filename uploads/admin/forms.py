"""The admin's upload forms (add one, bulk upload); files are judged by services.image_ingest."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from uploads.ingest import formats
from uploads.media import storage
from uploads.models import Image
from uploads.page.forms import ACCEPT, description_field
from uploads.shelf import services


def _accepted_files(template: str) -> str:
    facts = {"formats": formats.ACCEPTED, "mb": settings.MAX_UPLOAD_MB}
    return template % {"files": _("%(formats)s, up to %(mb)s MB") % facts}


# A help text naming what the admin's upload forms take, in the language and with the size
# limit of the moment it is shown rather than of the moment this module was imported.
accepted_files = lazy(_accepted_files, str)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name (the widget gives a list); each is judged later by
    services.image_ingest."""

    widget = MultipleFileInput(attrs={"accept": ACCEPT})

    def clean(self, data, initial=None):
        files = [super(MultipleFileField, self).clean(file, initial) for file in data if file]
        if self.required and not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return files


class BulkUploadForm(forms.Form):
    images = MultipleFileField(
        label=_("Images"),
        allow_empty_file=True,
        help_text=accepted_files(_("Choose several files at once: %(files)s each.")),
        error_messages={"required": _("Choose at least one image to upload.")},
    )

    def clean(self):
        """Each file's description (the nth is the nth file's: the script sends one of each),
        checked as the add form checks one."""
        clean = description_field().clean
        self.cleaned_data["descriptions"] = [*map(clean, self.data.getlist("description"))]
        return self.cleaned_data


class ImageAddForm(forms.ModelForm):
    """The add page: the file goes through services.image_ingest, like every upload."""

    image = forms.FileField(
        label=_("Image"),
        allow_empty_file=True,
        widget=forms.FileInput(attrs={"accept": ACCEPT}),
        help_text=accepted_files(_("%(files)s. It is checked, cleaned and thumbnailed on upload.")),
    )
    description = description_field()

    class Meta:
        model = Image
        fields = ["title", "description"]

    user = None  # set by ImageAdmin.get_form

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.instance = services.image_ingest(
                cleaned["image"],
                user=self.user,
                title=cleaned["title"],
                description=cleaned["description"],
            )
            # The title ingest gave it (from the file name, when none was typed): the form
            # copies cleaned data onto the instance, and the admin's message names it.
            cleaned["title"] = self.instance.title
        except services.UploadRejected as rejection:
            self.add_error("image", rejection)
        except storage.StorageUnavailable:
            self.add_error(None, storage.UNAVAILABLE)
        return cleaned
