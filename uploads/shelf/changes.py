"""What every door's success message adds when the stored image differs from the file
sent: what normalising it (uploads/ingest) changed that the sender would want to know."""

from __future__ import annotations

from django.utils.translation import gettext, gettext_lazy

# By the codes of ingest.imaging.ProcessedImage.changes, in the order they are told.
PHRASES = {
    "first_frame": gettext_lazy("only the first frame of the animation was kept"),
    "8_bit": gettext_lazy("16 bits per channel became 8"),
    "scaled_down": gettext_lazy("it was scaled down to %(width)s × %(height)s pixels"),
}


def note(changes: frozenset[str], image) -> str:
    """One sentence saying how the stored `image` differs from the file sent ("" if not)."""
    size = {"width": image.width, "height": image.height}
    found = [str(phrase) % size for code, phrase in PHRASES.items() if code in changes]
    if not found:
        return ""
    return gettext("Stored with changes: %(changes)s.") % {"changes": "; ".join(found)}
