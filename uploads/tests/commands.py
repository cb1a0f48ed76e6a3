"""Management commands run as manage.py runs them, for tests of their output and exit status."""

from __future__ import annotations


def reconcile(*args: str, capsys) -> tuple[int, str, str]:
    """Run reconcile_media as manage.py would; returns (exit status, stdout, stderr)."""
    from uploads.management.commands.reconcile_media import Command

    try:
        Command().run_from_argv(["manage.py", "reconcile_media", *args])
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    out, err = capsys.readouterr()
    return status, out, err


def command(name: str, *args: str, capsys) -> tuple[int, str, str]:
    """Run one of the app's commands as manage.py would; returns (exit status, stdout, stderr)."""
    from django.core.management import load_command_class

    try:
        load_command_class("uploads", name).run_from_argv(["manage.py", name, *args])
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    out, err = capsys.readouterr()
    return status, out, err
