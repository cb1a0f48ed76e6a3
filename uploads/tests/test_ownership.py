"""Deployments that share media storage: each deletes and writes only in storage whose
marker names it (uploads/shelf/ownership.py), whatever path the deletion takes."""

from __future__ import annotations

import os
import shutil
import time

import pytest
from django.core.checks import run_checks

from tests.deployment import Deployment
from uploads.media.storage import StorageUnavailable
from uploads.models import Deployment as DeploymentRow
from uploads.models import Image
from uploads.shelf import ownership
from uploads.tests.commands import command
from uploads.tests.factories import png, stored_files, upload_file

OLD = time.time() - 7200  # older than any orphan grace


def age(media, names) -> None:
    for name in names:
        os.utime(media / name, (OLD, OLD))


@pytest.fixture
def shared(tmp_path):
    """Deployment A, which made the media directory its own by uploading first, and B, a
    copy of A's database given an identity of its own (staging restored from production's
    backup), both pointed at one MEDIA_ROOT."""
    media = tmp_path / "media"
    a = Deployment(tmp_path / "a", MEDIA_ROOT=str(media))
    a.run("migrate")
    assert a.run("upload", "3", "1") == {"stored": 3}
    b = Deployment(tmp_path / "b", MEDIA_ROOT=str(media))
    shutil.copy(a.database, b.database)
    assert b.run("media_owner", "--new-identity") == {"status": 0}
    age(media, stored_files(media))
    return media, a, b


@pytest.mark.deployments
def test_a_deployment_never_deletes_files_in_storage_marked_as_anothers(shared):
    media, a, b = shared
    files = stored_files(media)
    a_files = a.run("state")["files"]
    per_image = len(a_files) // 3  # the image and its thumbnails
    assert per_image > 1 and len(a_files) == 3 * per_image

    refused = b.run("upload", "1", "10")
    assert "belongs to deployment" in refused["refused"]
    assert "media_owner --claim" in refused["refused"]
    deleted = b.run("admin-delete-oldest")
    assert deleted["status"] == 403
    assert "no file was written or deleted" in deleted["body"]
    assert "belongs to deployment" in deleted["body"]
    assert "belongs to deployment" in b.run("limit", "1")["refused"]
    for args in (["--dry-run"], [], ["--orphan-grace", "0"]):
        result = b.run("reconcile_media", *args)
        assert result["status"] == 2
        assert "belongs to deployment" in result["error"]
    assert b.run("state")["files"] == a_files  # B's rows are untouched too
    assert stored_files(media) == files  # not one file lost

    # A, whose storage it is, works normally, and still has every file it references.
    assert a.run("upload", "2", "20") == {"stored": 2}
    assert a.run("admin-delete-oldest")["status"] == 302
    assert a.run("limit", "1") == {"deleted": 1}  # 5 uploaded, 3 kept, 1 deleted by hand
    assert a.run("reconcile_media", "--orphan-grace", "0") == {"status": 0}
    kept = a.run("state")["files"]
    assert len(kept) == per_image
    assert stored_files(media) == sorted(kept)


@pytest.mark.deployments
def test_an_empty_database_deletes_nothing_from_anothers_storage(shared):
    media, a, b = shared
    files = stored_files(media)
    empty = Deployment(media.parent / "c", MEDIA_ROOT=str(media))
    empty.run("migrate")
    for args in (["--dry-run"], ["--orphan-grace", "0"]):
        assert empty.run("reconcile_media", *args)["status"] == 2
    assert stored_files(media) == files


@pytest.mark.deployments
def test_after_delete_all_reconcile_still_sweeps_its_own_orphans(tmp_path):
    media = tmp_path / "media"
    a = Deployment(tmp_path / "a", MEDIA_ROOT=str(media))
    a.run("migrate")
    a.run("upload", "2", "1")
    a.run("limit", "0")  # every image gone: the table is empty
    (media / "images" / "left-behind.png").write_bytes(b"an orphan")
    age(media, ["images/left-behind.png"])
    assert a.run("reconcile_media", "--orphan-grace", "0") == {"status": 0}
    assert stored_files(media) == []
    assert (media / ownership.MARKER).exists()


@pytest.mark.deployments
def test_claiming_shows_first_and_refuses_files_no_row_references(shared):
    media, a, b = shared
    empty = Deployment(media.parent / "c", MEDIA_ROOT=str(media))
    empty.run("migrate")
    refused = empty.run("media_owner", "--claim", "--dry-run")
    assert refused["status"] == 2
    assert refused["error"].startswith("Refused: files no row of this database references")
    assert b.run("media_owner", "--claim", "--dry-run") == {"status": 0}  # B's rows name them all
    assert b.run("reconcile_media", "--dry-run")["status"] == 2  # a dry run claimed nothing
    assert b.run("media_owner", "--claim") == {"status": 0}
    assert b.run("reconcile_media", "--dry-run") == {"status": 0}
    assert a.run("reconcile_media", "--dry-run")["status"] == 2  # A no longer owns it


@pytest.mark.django_db
def test_an_upload_to_anothers_storage_is_refused_with_the_reason(staff_client, media_root):
    (media_root / ownership.MARKER).write_text("another-deployment\n")

    response = staff_client.post("/images/", {"image": upload_file(png(), "a.png")})

    assert response.status_code == 403
    assert "belongs to deployment another-deployment" in response.content.decode()
    assert stored_files(media_root) == []
    assert not Image.objects.exists()


@pytest.mark.django_db
def test_of_two_deployments_marking_new_storage_at_once_only_one_may_use_it(
    staff_client, media_root, monkeypatch
):
    """Both found no marker; another deployment's marker lands between this one's look and
    its own marking. Marking never replaces it: this upload is refused, nothing written."""
    looked = ownership.marker
    monkeypatch.setattr(ownership, "marker", lambda: None)
    write = ownership.write_marker

    def another_came_first(**kwargs):
        (media_root / ownership.MARKER).write_text("another-deployment\n")
        monkeypatch.setattr(ownership, "marker", looked)
        write(**kwargs)

    monkeypatch.setattr(ownership, "write_marker", another_came_first)

    response = staff_client.post("/images/", {"image": upload_file(png(), "a.png")})

    assert response.status_code == 403
    assert (media_root / ownership.MARKER).read_text() == "another-deployment\n"
    assert stored_files(media_root) == [] and not Image.objects.exists()


@pytest.mark.django_db
def test_claiming_replaces_anothers_marker(media_root):
    (media_root / ownership.MARKER).write_text("another-deployment\n")

    ownership.write_marker()

    assert ownership.marker() == ownership.identity()
    assert sorted(path.name for path in media_root.iterdir()) == [ownership.MARKER]


@pytest.mark.django_db
def test_check_deploy_reports_storage_that_is_not_ours(media_root):
    (media_root / ownership.MARKER).write_text("another-deployment\n")

    warnings = [m for m in run_checks(include_deployment_checks=True) if m.id == "imageshelf.W002"]

    assert len(warnings) == 1
    assert "belongs to deployment another-deployment" in warnings[0].msg


@pytest.mark.django_db
def test_media_owner_says_when_storage_carries_no_marker(media_root, capsys):
    ours = ownership.identity()

    status, out, _ = command("media_owner", capsys=capsys)

    assert status == 0
    assert out == f"This deployment is {ours}; {media_root} carries no owner marker.\n"
    assert not (media_root / ownership.MARKER).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("option", ["--dry-run", "--allow-unreferenced"])
def test_media_owner_options_of_a_claim_without_it_exit_1(media_root, capsys, option):
    status, _, err = command("media_owner", option, capsys=capsys)

    assert status == 1
    assert "go with --claim" in err
    assert not (media_root / ownership.MARKER).exists()


@pytest.mark.django_db(transaction=True)  # the command closes the connection as it ends
def test_a_new_identity_waits_for_storage_to_answer(media_root, capsys, monkeypatch):
    ours = ownership.identity()

    def unavailable():
        raise StorageUnavailable("could not read the marker: connection refused")

    monkeypatch.setattr("uploads.shelf.ownership.marker", unavailable)

    status, _, err = command("media_owner", "--new-identity", capsys=capsys)

    assert status == 2
    assert "connection refused" in err
    assert str(DeploymentRow.objects.get().identity) == ours
