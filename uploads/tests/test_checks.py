"""Deploy checks: media on a dyno's disk warns, a missing static manifest stops the release."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from uploads.checks import check_media_survives_restarts, check_static_manifest_exists

LOCAL = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
S3 = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {"bucket_name": "shelf"}}
MANIFEST = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
PLAIN_STATIC = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}


@pytest.fixture
def on_a_dyno(monkeypatch):
    monkeypatch.setenv("DYNO", "web.1")


@pytest.fixture
def off_a_dyno(monkeypatch):
    monkeypatch.delenv("DYNO", raising=False)


def use_storages(settings, *, default=LOCAL, staticfiles=PLAIN_STATIC) -> None:
    settings.STORAGES = {"default": default, "staticfiles": staticfiles}


def deploy_check_output() -> str:
    """`manage.py check --deploy` as the release phase runs it; warnings go to stderr."""
    out, err = StringIO(), StringIO()
    call_command("check", deploy=True, stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


# --- imageshelf.W001: media on the dyno's disk ------------------------------


def test_local_media_on_a_dyno_is_a_warning_that_names_the_fix(settings, on_a_dyno):
    use_storages(settings, default=LOCAL)

    [warning] = check_media_survives_restarts()

    assert warning.id == "imageshelf.W001"
    assert warning.is_serious() is False
    assert "files vanish on every restart" in warning.msg
    assert "Set AWS_STORAGE_BUCKET_NAME" in warning.hint


def test_local_media_off_a_dyno_is_not_a_warning(settings, off_a_dyno):
    use_storages(settings, default=LOCAL)

    assert check_media_survives_restarts() == []


def test_s3_media_on_a_dyno_is_not_a_warning(settings, on_a_dyno):
    use_storages(settings, default=S3)

    assert check_media_survives_restarts() == []


@pytest.mark.django_db  # the storage-owner check reads the identity
def test_check_deploy_on_a_dyno_with_local_media_shows_the_warning(settings, on_a_dyno):
    use_storages(settings, default=LOCAL)

    output = deploy_check_output()

    assert "imageshelf.W001" in output
    assert "files vanish on every restart" in output


@pytest.mark.django_db  # the storage-owner check reads the identity
def test_check_deploy_on_a_dyno_with_s3_media_does_not(settings, on_a_dyno):
    use_storages(settings, default=S3)

    output = deploy_check_output()

    assert "imageshelf.W001" not in output


# --- imageshelf.E001: no static manifest ------------------------------------


def test_a_missing_manifest_is_an_error_that_says_run_collectstatic(settings, tmp_path):
    settings.STATIC_ROOT = str(tmp_path / "staticfiles")
    use_storages(settings, staticfiles=MANIFEST)

    [error] = check_static_manifest_exists()

    assert error.id == "imageshelf.E001"
    assert error.is_serious()
    assert str(tmp_path / "staticfiles" / "staticfiles.json") in error.msg
    assert "collectstatic" in error.hint


def test_a_manifest_in_static_root_is_not_an_error(settings, tmp_path):
    (tmp_path / "staticfiles.json").write_text(json.dumps({"paths": {}, "version": "1.1"}))
    settings.STATIC_ROOT = str(tmp_path)
    use_storages(settings, staticfiles=MANIFEST)

    assert check_static_manifest_exists() == []


def test_django_s_own_manifest_storage_is_checked_too(settings, tmp_path):
    settings.STATIC_ROOT = str(tmp_path)
    use_storages(
        settings,
        staticfiles={"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    )

    assert [error.id for error in check_static_manifest_exists()] == ["imageshelf.E001"]


def test_storage_without_a_manifest_needs_none(settings, tmp_path):
    settings.STATIC_ROOT = str(tmp_path)
    use_storages(settings, staticfiles=PLAIN_STATIC)

    assert check_static_manifest_exists() == []


@pytest.mark.django_db  # the storage-owner check reads the identity
def test_check_deploy_fails_on_a_missing_manifest(settings, tmp_path, off_a_dyno):
    settings.STATIC_ROOT = str(tmp_path)
    use_storages(settings, staticfiles=MANIFEST)

    with pytest.raises(SystemCheckError) as failure:
        call_command("check", deploy=True, stdout=StringIO(), stderr=StringIO())

    assert "imageshelf.E001" in str(failure.value)
    assert "collectstatic" in str(failure.value)
