"""Fixtures shared by every test: a fresh MEDIA_ROOT, an empty cache, users and uploads."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import translation

from uploads.tests.factories import stored_files, wait_for_background_deletes


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path) -> Path:
    """Every test stores its files in its own directory, so files can be counted."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def own_storage(db, media_root) -> None:
    """MEDIA_ROOT marked as this deployment's, as its first upload would have marked it:
    for tests that put files there by hand (uploads/shelf/ownership.py)."""
    from uploads.shelf import ownership

    ownership.write_marker()


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def no_language_left_over():
    """A test client's request leaves its language active in the thread (a server's next
    request sets its own): a command run by a later test would speak it."""
    yield
    translation.deactivate()


@pytest.fixture
def files(media_root):
    """Call it to list the files now stored under MEDIA_ROOT, once deletions in the
    background are done."""

    def listed() -> list[str]:
        wait_for_background_deletes()
        return stored_files(media_root)

    return listed


@pytest.fixture
def staff_user(django_user_model):
    """Staff who may view, add, change and delete images (not import or export them)."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user(
        username="curator", password="shelf-password-1", is_staff=True
    )
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label="uploads",
            codename__in=["view_image", "add_image", "change_image", "delete_image"],
        )
    )
    return user


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def exporting_client(client, staff_user):
    """Staff who may also export image metadata, signed in."""
    from django.contrib.auth.models import Permission

    staff_user.user_permissions.add(Permission.objects.get(codename="export_image"))
    client.force_login(staff_user)
    return client
