"""Deployments sharing one bucket: without a prefix only the one whose marker the bucket
carries writes or deletes there; with a prefix (AWS_LOCATION) each works on its own."""

from __future__ import annotations

import shutil

import pytest

from tests.deployment import Deployment
from tests.processes import S3_ACCESS_KEY, S3_REGION, S3_SECRET_KEY
from uploads.shelf import ownership

pytestmark = pytest.mark.s3


def on_bucket(directory, bucket, **variables) -> Deployment:
    return Deployment(
        directory,
        AWS_STORAGE_BUCKET_NAME=bucket.name,
        AWS_S3_ENDPOINT_URL=bucket.server.endpoint,
        AWS_ACCESS_KEY_ID=S3_ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=S3_SECRET_KEY,
        AWS_S3_REGION_NAME=S3_REGION,
        AWS_S3_ADDRESSING_STYLE="path",
        **variables,
    )


def test_without_a_prefix_only_the_owner_deletes(tmp_path, bare_bucket):
    bucket = bare_bucket
    a = on_bucket(tmp_path / "a", bucket)
    a.run("migrate")
    assert a.run("upload", "3", "1") == {"stored": 3}
    b = on_bucket(tmp_path / "b", bucket)  # a copy of A's database, with its own identity
    shutil.copy(a.database, b.database)
    b.run("media_owner", "--new-identity")
    empty = on_bucket(tmp_path / "c", bucket)
    empty.run("migrate")
    keys = bucket.names(marker=True)
    assert ownership.MARKER in keys  # A's first upload marked the new bucket

    assert "belongs to deployment" in b.run("upload", "1", "10")["refused"]
    assert b.run("admin-delete-oldest")["status"] == 403
    assert "belongs to deployment" in b.run("limit", "1")["refused"]
    for deployment in (b, empty):
        for args in (["--dry-run"], ["--orphan-grace", "0"]):
            assert deployment.run("reconcile_media", *args)["status"] == 2
    assert bucket.names(marker=True) == keys

    assert a.run("admin-delete-oldest")["status"] == 302
    assert a.run("reconcile_media", "--orphan-grace", "0") == {"status": 0}
    assert sorted([*a.run("state")["files"], ownership.MARKER]) == bucket.names(marker=True)


def test_with_a_prefix_each_deployment_works_on_its_own(tmp_path, bare_bucket):
    bucket = bare_bucket
    a = on_bucket(tmp_path / "a", bucket, AWS_LOCATION="production")
    b = on_bucket(tmp_path / "b", bucket, AWS_LOCATION="staging")
    for seed, deployment in enumerate((a, b)):
        deployment.run("migrate")
        assert deployment.run("upload", "4", str(seed * 10)) == {"stored": 4}  # 3 kept
        assert deployment.run("admin-delete-oldest")["status"] == 302
        assert deployment.run("limit", "1") == {"deleted": 1}
        assert deployment.run("reconcile_media", "--orphan-grace", "0") == {"status": 0}
    for prefix, deployment in (("production/", a), ("staging/", b)):
        files = deployment.run("state")["files"]
        expected = sorted(prefix + name for name in [*files, ownership.MARKER])
        assert bucket.names(prefix, marker=True) == expected


@pytest.mark.django_db
def test_new_storage_is_marked_only_where_no_marker_is(bare_bucket):
    """The first upload's marking is a conditional PUT: a marker another deployment wrote a
    moment before stays, and this deployment then reads it and is refused."""
    bare_bucket.put(ownership.MARKER, b"another-deployment\n")

    ownership.write_marker(replace=False)

    assert ownership.marker() == "another-deployment"
    ownership.write_marker()  # what `media_owner --claim` does
    assert ownership.marker() == ownership.identity()
