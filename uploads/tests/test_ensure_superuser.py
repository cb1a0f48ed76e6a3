"""manage.py ensure_superuser: the first admin from config vars, once, password never shown."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from uploads.tests.commands import command

pytestmark = pytest.mark.django_db

PASSWORD = "Shelf-keeper-7-quiet-lanterns"


@pytest.fixture
def admin_vars(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "keeper")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "keeper@example.com")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)


def run() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("ensure_superuser", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_creates_a_superuser_from_the_config_vars(admin_vars):
    out, err = run()

    [user] = get_user_model().objects.all()
    assert (user.username, user.email) == ("keeper", "keeper@example.com")
    assert user.is_superuser and user.is_staff and user.is_active
    assert user.check_password(PASSWORD)
    assert "Created superuser 'keeper'" in out
    assert err == ""


def test_a_second_run_changes_nothing_and_says_so(admin_vars, monkeypatch):
    run()
    before = get_user_model().objects.values().get()
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "A-different-password-42")
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "other@example.com")

    out, _ = run()

    assert out == "User 'keeper' already exists; nothing changed.\n"
    assert get_user_model().objects.values().get() == before
    assert get_user_model().objects.get().check_password(PASSWORD)


def test_an_existing_non_admin_with_that_name_is_left_alone(admin_vars, django_user_model):
    django_user_model.objects.create_user(username="keeper", password="their-own-password-1")

    out, _ = run()

    user = django_user_model.objects.get()
    assert "already exists; nothing changed" in out
    assert not user.is_superuser
    assert user.check_password("their-own-password-1")


@pytest.mark.parametrize(
    ("unset", "named"),
    [
        (["DJANGO_SUPERUSER_USERNAME"], "Set DJANGO_SUPERUSER_USERNAME to create"),
        (["DJANGO_SUPERUSER_PASSWORD"], "Set DJANGO_SUPERUSER_PASSWORD to create"),
        (
            ["DJANGO_SUPERUSER_USERNAME", "DJANGO_SUPERUSER_PASSWORD"],
            "Set DJANGO_SUPERUSER_USERNAME and DJANGO_SUPERUSER_PASSWORD to create",
        ),
    ],
)
def test_missing_variables_are_named_and_nothing_is_created(admin_vars, monkeypatch, unset, named):
    for name in unset:
        monkeypatch.delenv(name)

    with pytest.raises(CommandError) as failure:
        run()

    assert named in str(failure.value)
    assert not get_user_model().objects.exists()


def test_a_blank_variable_counts_as_missing(admin_vars, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "  ")

    with pytest.raises(CommandError, match="Set DJANGO_SUPERUSER_USERNAME"):
        run()


def test_the_email_is_optional(admin_vars, monkeypatch):
    monkeypatch.delenv("DJANGO_SUPERUSER_EMAIL")

    run()

    assert get_user_model().objects.get().email == ""


@pytest.mark.parametrize("weak", ["qwertyuiop", "keeper123", "98765432109", "Ab1!x"])
def test_a_weak_password_is_refused_without_being_shown(admin_vars, monkeypatch, weak):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", weak)

    with pytest.raises(CommandError) as failure:
        run()

    assert str(failure.value).startswith("The first admin was not created: ")
    assert weak not in str(failure.value)
    assert not get_user_model().objects.exists()


def test_an_invalid_username_is_refused(admin_vars, monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_USERNAME", "keeper of the shelf!")

    with pytest.raises(CommandError, match="Enter a valid username"):
        run()

    assert not get_user_model().objects.exists()


def test_the_password_never_appears_in_any_output(admin_vars, capsys, caplog):
    first = run()
    second = run()

    captured = capsys.readouterr()
    everything = "".join([*first, *second, captured.out, captured.err, caplog.text])
    assert "Created superuser" in everything
    assert PASSWORD not in everything


def test_an_unknown_option_exits_1_like_every_shelf_command(admin_vars, capsys):
    status, _, err = command("ensure_superuser", "--no-such-option", capsys=capsys)

    assert status == 1
    assert "unrecognized arguments: --no-such-option" in err
    assert not get_user_model().objects.exists()
