"""The shelf's data: images, the QuerySet that says which are on the shelf, the
rate-limit counts every process shares, and this deployment's identity."""

from __future__ import annotations

import unicodedata
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from uploads.ingest import variants

# Letters and signs Unicode counts as printable that draw nothing: the Hangul fillers and
# the blank Braille pattern.
BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def is_visible(text: str) -> bool:
    """Whether `text` shows something: a printable character that is not a space, not one
    of BLANK, and not a mark that only modifies the character before it."""
    return any(
        char.isprintable()
        and not char.isspace()
        and char not in BLANK
        and not unicodedata.category(char).startswith("M")
        for char in text
    )


def validate_visible(text: str) -> None:
    """A description is read aloud: one that shows nothing (only zero-width or other
    invisible characters) would pass for written while saying nothing."""
    if text and not is_visible(text):
        raise ValidationError(_("This description has no visible characters."), code="invisible")


class ImageQuerySet(models.QuerySet):
    """The one definition of the shelf: its images, their order, and what the limit removes."""

    def on_shelf(self) -> ImageQuerySet:
        """Images on the shelf, newest first (a visitor's upload awaiting approval is not)."""
        return self.filter(pending=False).order_by("-uploaded_at", "-id")

    def beyond_limit(self, limit: int) -> ImageQuerySet:
        """The images on the shelf older than its newest `limit`: what the limit deletes."""
        return self.on_shelf()[limit:]


class Image(models.Model):
    """One image on the shelf: a normalised file, its thumbnails and their metadata."""

    # Help texts are HTML to Django's forms and admin: escaped, or "<uuid4>" is taken for a tag.
    file = models.ImageField(
        _("file"),
        upload_to="images/",
        max_length=255,
        help_text=escape(_("The normalised image, stored as images/<uuid4>.<ext>.")),
    )
    thumbnails = models.JSONField(
        _("thumbnails"),
        default=dict,
        blank=True,
        help_text=escape(
            _('Stored thumbnails by format and width, e.g. {"webp-480": "thumbs/<uuid4>.webp"}.')
        ),
    )
    title = models.CharField(
        _("title"),
        max_length=200,
        blank=True,
        help_text=_("Shown under the image."),
        validators=[ProhibitNullCharactersValidator()],  # as a form's (Postgres stores none)
    )
    description = models.CharField(
        _("description"),
        max_length=500,
        blank=True,
        help_text=_("What the image shows, for people who cannot see it: its alt text."),
        validators=[ProhibitNullCharactersValidator(), validate_visible],
    )
    width = models.PositiveIntegerField(help_text="Width of the stored image, in pixels.")
    height = models.PositiveIntegerField(help_text="Height of the stored image, in pixels.")
    size_bytes = models.PositiveBigIntegerField("size", help_text="Size of the stored file.")
    format = models.CharField(_("format"), max_length=4, choices={"JPEG": "JPEG", "PNG": "PNG"})
    sha256 = models.CharField(
        "SHA-256",
        max_length=64,
        unique=True,
        help_text=_("Digest of the stored bytes; the same image cannot be shelved twice."),
    )
    uploaded_at = models.DateTimeField(
        _("uploaded at"),
        default=timezone.now,
        db_index=True,
        help_text=_("When the image joined the shelf (a visitor's upload: when approved)."),
    )
    pending = models.BooleanField(
        _("pending"),
        default=False,
        help_text=_("A visitor's upload awaiting staff approval: off the page and the limit."),
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="shelf_images",
    )

    objects = ImageQuerySet.as_manager()

    class Meta:
        verbose_name, verbose_name_plural = _("image"), _("images")
        permissions = [
            ("import_image", "Can import image metadata"),
            ("export_image", "Can export image metadata"),
        ]

    def __str__(self) -> str:
        return self.title or self.file.name

    @property
    def alt_text(self) -> str:
        """The description; never the title, which is often the file's name."""
        return self.description or str(_("Not yet described"))

    @property
    def preview_name(self) -> str:
        """The smallest WebP thumbnail's name ("" when it has none): the admin's preview."""
        return self.thumbnails.get(variants.key("WEBP", variants.WIDTHS[0]), "")

    @property
    def preview_size(self) -> tuple[int, int]:
        """Pixel size of that thumbnail, derived from the image without opening a file."""
        return variants.sizes((self.width, self.height))[variants.WIDTHS[0]]

    def stored_names(self) -> list[str]:
        """Every file the row references: the image, then its thumbnails."""
        return [self.file.name, *self.thumbnails.values()]


class RateCount(models.Model):
    """One rate-limit window's count for one client (uploads/web/rate_counts.py): a table
    every worker and dyno shares, when there is no Redis."""

    key = models.CharField(max_length=250, primary_key=True)
    value = models.BigIntegerField()
    expires = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = "rate-limit count"

    def __str__(self) -> str:
        return f"{self.key}: {self.value}"


class Deployment(models.Model):
    """This deployment's identity: one row, made by migration 0007
    (or, in a database emptied since, when next needed). Its media
    storage must carry a marker naming it before any file there is written or deleted
    (uploads/shelf/ownership.py). Kept in the database, never derived from DATABASE_URL
    (Heroku changes it); a database copied into another app gets a new one with
    `manage.py media_owner --new-identity`."""

    identity = models.UUIDField(default=uuid.uuid4)

    def __str__(self) -> str:
        return str(self.identity)
