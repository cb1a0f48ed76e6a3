"""make run's first admin: created once, in development only, its password shown once."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db


@pytest.fixture
def development(settings):
    settings.DEBUG = True
    settings.SETTINGS_MODULE = "config.settings.development"


def run() -> str:
    out = io.StringIO()
    call_command("dev_superuser", stdout=out)
    return out.getvalue()


def test_creates_a_superuser_and_prints_its_password_once(development):
    output = run()

    user = get_user_model().objects.get()
    password = output.split("with password '")[1].split("'")[0]
    assert user.username == "admin" and user.is_superuser and user.is_staff
    assert user.check_password(password)
    assert len(password) >= 16


def test_a_second_run_changes_nothing_and_shows_no_password(development):
    run()
    before = get_user_model().objects.get().password

    output = run()

    assert output.strip() == "A superuser already exists; sign in at /admin/ with it."
    assert get_user_model().objects.get().password == before


def test_refuses_outside_development_settings(settings):
    settings.DEBUG = False
    settings.SETTINGS_MODULE = "config.settings.production"

    with pytest.raises(CommandError, match="only runs with development settings"):
        run()

    assert get_user_model().objects.count() == 0
