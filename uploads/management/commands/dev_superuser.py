"""Development only: create a first superuser and print its password once."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "In development, when no superuser exists, create one and print its password once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args, username: str, **options) -> None:
        if not settings.DEBUG or not settings.SETTINGS_MODULE.endswith(".development"):
            raise CommandError("dev_superuser only runs with development settings (DEBUG on).")
        users = get_user_model()
        if users.objects.filter(is_superuser=True).exists():
            self.stdout.write("A superuser already exists; sign in at /admin/ with it.")
            return
        password = secrets.token_urlsafe(12)
        users.objects.create_superuser(username=username, email="", password=password)
        self.stdout.write(
            self.style.SUCCESS(
                f"Created superuser {username!r} with password {password!r}. "
                "It is shown only this once: write it down, or change it in /admin/."
            )
        )
