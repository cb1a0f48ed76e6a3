"""The shelf's data: images, a version that tells every process when the shelf changed, and
the rate-limit counts every process shares."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.html import escape

from uploads.ingest import variants


def _thumbnail_field(kind: str, width: int) -> models.FileField:
    return models.FileField(
        upload_to="thumbs/",
        max_length=255,
        blank=True,
        help_text=f"{kind} thumbnail, {width} px wide (the image's width when narrower), "
        "under thumbs/; empty when a narrower one already holds the whole image.",
    )


class Image(models.Model):
    """One image on the shelf: a normalised file, its thumbnails and their metadata."""

    class Format(models.TextChoices):
        JPEG = "JPEG", "JPEG"
        PNG = "PNG", "PNG"

    # Help texts are HTML to Django's forms and admin: escaped, or "<uuid4>" is taken for a tag.
    file = models.ImageField(
        upload_to="images/",
        max_length=255,
        help_text=escape("The normalised image, stored as images/<uuid4>.<ext>."),
    )
    thumbnail = models.ImageField(
        upload_to="thumbs/",
        max_length=255,
        blank=True,
        help_text=escape("WebP preview, stored as thumbs/<uuid4>.webp."),
    )
    title = models.CharField(
        max_length=200, blank=True, help_text="Describes the image; used as its alt text."
    )
    width = models.PositiveIntegerField(help_text="Width of the stored image, in pixels.")
    height = models.PositiveIntegerField(help_text="Height of the stored image, in pixels.")
    size_bytes = models.PositiveBigIntegerField("size", help_text="Size of the stored file.")
    format = models.CharField(max_length=4, choices=Format.choices)
    # The other thumbnails (`thumbnail` is the WebP 480 px wide): see THUMBNAIL_FIELDS.
    webp_720 = _thumbnail_field("WebP", 720)
    webp_1080 = _thumbnail_field("WebP", 1080)
    avif_480 = _thumbnail_field("AVIF", 480)
    avif_720 = _thumbnail_field("AVIF", 720)
    avif_1080 = _thumbnail_field("AVIF", 1080)
    sha256 = models.CharField(
        "SHA-256",
        max_length=64,
        unique=True,
        help_text="Digest of the stored bytes; the same image cannot be shelved twice.",
    )
    uploaded_at = models.DateTimeField(
        default=timezone.now,
        db_index=True,
        help_text="When the image joined the shelf (for a visitor's upload: when it was approved).",
    )
    pending = models.BooleanField(
        default=False,
        help_text="A visitor's upload waiting for staff approval: not on the page, and not "
        "counted by the image limit.",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="shelf_images",
    )

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        get_latest_by = ["uploaded_at", "id"]
        permissions = [
            ("import_image", "Can import image metadata"),
            ("export_image", "Can export image metadata"),
        ]

    def __str__(self) -> str:
        return self.title or self.file.name

    @property
    def alt_text(self) -> str:
        return self.title or f"Image uploaded {self.uploaded_at:%Y-%m-%d %H:%M} UTC"

    @property
    def thumbnail_size(self) -> tuple[int, int]:
        """Pixel size of the thumbnail, derived from the image without opening a file."""
        return variants.sizes((self.width, self.height))[variants.WIDTHS[0]]

    def thumbnail_names(self) -> dict[tuple[str, int], str]:
        """The stored name of each thumbnail the row has, by (format, width)."""
        names = {key: getattr(self, field).name for key, field in THUMBNAIL_FIELDS.items()}
        return {key: name for key, name in names.items() if name}

    def stored_names(self) -> list[str]:
        """Every file the row references: the image, then its thumbnails."""
        return [self.file.name, *self.thumbnail_names().values()]


# The field that holds each thumbnail, by (format, width): every (variants.FORMATS,
# variants.WIDTHS) pair has one. Reconcile, the page and the admin read names through
# Image.thumbnail_names() and Image.stored_names(), never these fields one by one.
THUMBNAIL_FIELDS = {
    ("WEBP", 480): "thumbnail",
    ("WEBP", 720): "webp_720",
    ("WEBP", 1080): "webp_1080",
    ("AVIF", 480): "avif_480",
    ("AVIF", 720): "avif_720",
    ("AVIF", 1080): "avif_1080",
}


class ShelfVersion(models.Model):
    """One row (created by a migration) that every change to the shelf bumps, in the same
    transaction: the public page's validators (ETag, Last-Modified) come from it."""

    ROW = 1

    version = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(
        default=timezone.now,
        help_text="Moves forward by at least a second with every change, so that "
        "Last-Modified (whole seconds) changes with every change.",
    )

    class Meta:
        verbose_name = "shelf version"

    def __str__(self) -> str:
        return f"shelf version {self.version}"


class RateCount(models.Model):
    """One rate-limit window's count for one client (uploads/rate_counts.py): a table every
    worker and dyno shares, when there is no Redis."""

    key = models.CharField(max_length=250, primary_key=True)
    value = models.BigIntegerField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "rate-limit count"

    def __str__(self) -> str:
        return f"{self.key}: {self.value}"
