"""The audit trail: one structured line per event on stdout (Heroku logs), LogEntry for admin."""

from __future__ import annotations

import logging

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.core.management import call_command

from uploads.models import Image
from uploads.shelf import deletion, services
from uploads.tests.factories import TEXT, distinct_png, upload_file

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def audit_lines(caplog):
    caplog.set_level(logging.INFO, logger="uploads.audit")
    return lambda: [
        record.getMessage() for record in caplog.records if record.name == "uploads.audit"
    ]


def test_an_upload_writes_who_what_and_which_file(staff_user, audit_lines):
    image = services.image_ingest(upload_file(distinct_png(1), "My photo.png"), user=staff_user)

    assert (
        f"event=upload.stored user=curator image={image.pk} file={image.file.name} "
        'filename="My photo.png"'
    ) in audit_lines()


def test_a_refusal_writes_who_why_and_which_file(audit_lines):
    with pytest.raises(services.UploadRejected):
        services.image_ingest(upload_file(TEXT, "notes.jpg"), user=None)

    assert "event=upload.refused user=system reason=unsupported filename=notes.jpg" in (
        audit_lines()
    )


def test_a_duplicate_that_races_past_the_check_is_audited_as_a_refusal(audit_lines, monkeypatch):
    services.image_ingest(upload_file(distinct_png(3), "first.png"), user=None)
    monkeypatch.setattr(services, "_duplicate_message", lambda sha256: None)

    with pytest.raises(services.UploadRejected):
        services.image_ingest(upload_file(distinct_png(3), "again.png"), user=None)

    assert "event=upload.refused user=system reason=duplicate filename=again.png" in audit_lines()


def test_the_limit_writes_each_deletion_and_a_summary(settings, audit_lines):
    settings.IMAGE_LIMIT = 1
    first = services.image_ingest(upload_file(distinct_png(1)), user=None)
    services.image_ingest(upload_file(distinct_png(2)), user=None)

    lines = audit_lines()

    assert (
        f"event=image.deleted user=system reason=limit image={first.pk} file={first.file.name}"
        in lines
    )
    assert "event=limit.enforced user=system limit=1 deleted=1" in lines


def test_delete_all_and_reconcile_are_written(staff_user, audit_lines):
    services.image_ingest(upload_file(distinct_png(1)), user=None)

    deletion.images_delete_all(user=staff_user)
    call_command("reconcile_media", verbosity=0)

    lines = audit_lines()
    assert "event=shelf.emptied user=curator deleted=1" in lines
    assert (
        "event=reconcile dry_run=False missing_image=0 thumbnails_regenerated=0 "
        "orphans_deleted=0 beyond_limit=0 import_previews_deleted=0 errors=0"
    ) in lines


def test_bulk_upload_in_the_admin_creates_log_entries(admin_client, admin_user):
    admin_client.post(
        "/admin/uploads/image/bulk-upload/",
        {"images": [upload_file(distinct_png(1), "a.png"), upload_file(distinct_png(2), "b.png")]},
    )

    entries = LogEntry.objects.filter(user=admin_user, action_flag=ADDITION)
    assert sorted(int(entry.object_id) for entry in entries) == sorted(
        Image.objects.values_list("pk", flat=True)
    )
