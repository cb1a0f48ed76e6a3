"""Create the first admin from DJANGO_SUPERUSER_* config vars; run again, it changes nothing.

Django's `createsuperuser --noinput` reads the same variables but does not validate the
password, and fails when the user exists: this command does both the other way round.
"""

from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from uploads.management.base import ShelfCommand

USERNAME = "DJANGO_SUPERUSER_USERNAME"
EMAIL = "DJANGO_SUPERUSER_EMAIL"
PASSWORD = "DJANGO_SUPERUSER_PASSWORD"


class Command(ShelfCommand):
    help = (
        f"Create a superuser from {USERNAME}, {PASSWORD} and (optionally) {EMAIL} unless a "
        "user with that name exists; an existing user is never changed. The password is "
        "never printed. Heroku runs it once after the first deploy (app.json postdeploy)."
    )

    def handle(self, *args, **options) -> None:
        username = os.environ.get(USERNAME, "").strip()
        password = os.environ.get(PASSWORD, "")
        email = os.environ.get(EMAIL, "").strip()
        given = {USERNAME: username, PASSWORD: password}
        if missing := [name for name, value in given.items() if not value]:
            raise CommandError(
                f"Set {' and '.join(missing)} to create the first admin "
                f"(for example: heroku config:set {missing[0]}=...), then run this again."
            )
        users = get_user_model()
        if users._default_manager.filter(**{users.USERNAME_FIELD: username}).exists():
            self.stdout.write(f"User {username!r} already exists; nothing changed.")
            return
        user = users(**{users.USERNAME_FIELD: username, "email": email})
        try:
            user.full_clean(exclude=["password"])
            # Validators' messages describe the rule, never the password itself.
            validate_password(password, user)
        except ValidationError as error:
            reasons = " ".join(error.messages)
            raise CommandError(f"The first admin was not created: {reasons}") from None
        users._default_manager.create_superuser(username, email, password)
        created = (
            f"Created superuser {username!r}. Sign in at /admin/ with the password "
            f"from {PASSWORD}, then remove that config var."
        )
        self.stdout.write(self.style.SUCCESS(created))
