"""Who is asking, for rate limits and login lockouts, without trusting what clients claim."""

from __future__ import annotations

import contextlib
import functools
import ipaddress

from django.conf import settings
from django.shortcuts import render
from django_ratelimit.core import is_ratelimited

from uploads.shelf import permissions


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the entry our own proxies added to X-Forwarded-For.

    Proxies append, so the right-most TRUSTED_PROXY_COUNT entries were written by proxies
    we trust (Heroku's router); anything further left came from the client and is ignored.
    An entry that is not an IP address is ignored too: django-axes stores the answer in an
    inet column and django-ratelimit parses it, and both fail on anything else.
    """
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    entries = [entry.strip() for entry in forwarded.split(",") if entry.strip()]
    if hops and len(entries) >= hops:
        with contextlib.suppress(ValueError):  # not an address: REMOTE_ADDR instead
            ipaddress.ip_address(entries[-hops])
            return entries[-hops]
    return request.META.get("REMOTE_ADDR", "")


def upload_rate(group: str, request) -> str | None:
    """Visitors' uploads (PUBLIC_UPLOADS) are rate-limited per address; staff who may add
    images are not."""
    limited = permissions.public_uploads() and not permissions.may(request.user, permissions.ADD)
    return settings.PUBLIC_UPLOAD_RATE if limited else None


def limit_sign_ins(login):
    """The admin's sign-in view, refusing (429) an address that tries more than SIGN_IN_RATE
    sign-ins, whatever user names it tries."""

    @functools.wraps(login)
    def view(request, *args, **kwargs):
        if request.method == "POST" and is_ratelimited(
            request, group="sign-in", key="ip", rate=settings.SIGN_IN_RATE, increment=True
        ):
            return render(request, "lockout.html", {"per_address": True}, status=429)
        return login(request, *args, **kwargs)

    return view
