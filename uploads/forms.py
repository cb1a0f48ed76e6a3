"""The public page's upload form; the file itself is judged by services.image_ingest."""

from __future__ import annotations

from django import forms

ACCEPT = "image/jpeg,image/png,image/webp,image/gif"


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
        help_text="JPEG, PNG, WebP or GIF.",
        widget=forms.FileInput(attrs={"accept": ACCEPT}),
        error_messages={"required": "Choose an image to upload."},
    )
