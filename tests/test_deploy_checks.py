"""`manage.py check --deploy` with production settings, as the release phase runs it on a dyno."""

from __future__ import annotations

import pytest

from tests.processes import manage, production_env

S3_CONFIG = {
    "AWS_STORAGE_BUCKET_NAME": "imageshelf-media",
    "AWS_S3_ENDPOINT_URL": "https://s3.example.com",
    "AWS_S3_REGION_NAME": "auto",
    "AWS_ACCESS_KEY_ID": "key-id",
    "AWS_SECRET_ACCESS_KEY": "secret-access-key",
}
DATABASE = "postgres://user:password@db.example.com:5432/imageshelf"


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """A production STATIC_ROOT after collectstatic, as Heroku's build leaves it."""
    tmp_path = tmp_path_factory.mktemp("deploy-checks")
    result = manage(production_env(tmp_path), "collectstatic", "--noinput")
    assert result.returncode == 0, result.stderr
    return tmp_path


def test_on_a_dyno_with_local_media_check_deploy_warns_and_passes(collected):
    env = production_env(collected, DATABASE_URL=DATABASE, DYNO="release.7")

    result = manage(env, "check", "--deploy")

    assert result.returncode == 0, result.stderr
    assert "imageshelf.W001" in result.stderr
    assert "files vanish on every restart" in result.stderr
    assert "AWS_STORAGE_BUCKET_NAME" in result.stderr


def test_on_a_dyno_with_s3_media_check_deploy_has_no_issues(collected):
    env = production_env(collected, DATABASE_URL=DATABASE, DYNO="release.7", **S3_CONFIG)

    result = manage(env, "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_without_collectstatic_check_deploy_fails_and_says_run_collectstatic(tmp_path):
    env = production_env(tmp_path, DATABASE_URL=DATABASE)

    result = manage(env, "check", "--deploy")

    assert result.returncode == 1
    assert "imageshelf.E001" in result.stderr
    assert str(tmp_path / "staticfiles" / "staticfiles.json") in result.stderr
    assert "collectstatic --noinput" in result.stderr
