"""The audit trail: one structured (logfmt) line per event, readable in `heroku logs`."""

from __future__ import annotations

import logging

logger = logging.getLogger("uploads.audit")


def audit(event: str, **fields: object) -> None:
    """Log one event with its fields, e.g. `event=image.deleted user=curator image=41`."""
    pairs = " ".join(f"{key}={_logfmt(value)}" for key, value in fields.items())
    logger.info("event=%s %s", event, pairs)


def username(user) -> str:
    """Who did it, as the trail names them: a user name, "anonymous" or "system"."""
    if user is None or not getattr(user, "is_authenticated", False):
        return "anonymous" if user is not None else "system"
    return user.get_username()


def _logfmt(value: object) -> str:
    text = str(value)
    if not text or any(ch in text for ch in ' ="\\'):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return text
