"""Moving a shelf: three images on local media, exported, then imported into a fresh
deployment whose media is in S3 (moto)."""

from __future__ import annotations

import hashlib
import zipfile
from datetime import UTC, datetime, timedelta

import pytest

from tests.processes import s3_storages
from tests.s3.conftest import Bucket
from uploads.models import Deployment, Image
from uploads.shelf import services
from uploads.tests.commands import command
from uploads.tests.factories import distinct_png, upload_file

pytestmark = [pytest.mark.s3, pytest.mark.django_db(transaction=True)]

WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def shelve(index: int) -> Image:
    """An image on local media, described and dated."""
    image = services.image_ingest(upload_file(distinct_png(index)))
    described = {
        "description": f"Photo {index}, described.",
        "uploaded_at": WHEN + timedelta(days=index),
    }
    Image.objects.filter(pk=image.pk).update(**described)
    return Image.objects.get(pk=image.pk)


@pytest.fixture
def fresh_s3_deployment(s3_server, settings):
    """Call it to become a new deployment (a database of its own) with media in a new bucket."""

    def become() -> Bucket:
        Image.objects.all().delete()  # rows only: the local files stay where they are
        Deployment.objects.all().delete()  # a new identity, made when next needed
        if not s3_server.running:
            s3_server.start()
        bucket = Bucket(s3_server)
        bucket.create()
        settings.STORAGES = s3_storages(bucket.name, s3_server.endpoint)
        return bucket

    return become


def test_a_shelf_moves_from_local_media_to_s3_whole_and_only_once(
    fresh_s3_deployment, media_root, tmp_path, capsys, client
):
    local = {image.sha256: image for image in map(shelve, (1, 2, 3))}
    archive = tmp_path / "shelf.zip"
    assert command("export_shelf", str(archive), capsys=capsys)[0] == 0
    bucket = fresh_s3_deployment()

    first = command("import_shelf", str(archive), capsys=capsys)
    keys_after_first = bucket.names()
    second = command("import_shelf", str(archive), capsys=capsys)
    page = client.get("/").content.decode()

    assert first[0] == 0 and "Stored 3 image(s)" in first[1], first
    assert second[0] == 0 and "Stored 0 image(s); 3 already here" in second[1], second
    restored = list(Image.objects.on_shelf())
    assert {image.sha256 for image in restored} == set(local)
    for image in restored:
        before = local[image.sha256]
        assert (image.description, image.uploaded_at) == (before.description, before.uploaded_at)
        assert set(image.stored_names()) <= set(bucket.names())
        assert bucket.read(image.file.name) == (media_root / before.file.name).read_bytes()
        assert image.file.name in page
    assert bucket.names() == keys_after_first


def test_a_shelf_in_s3_is_exported_as_stored(bucket, tmp_path, capsys):
    images = [shelve(1), shelve(2)]
    archive = tmp_path / "shelf.zip"

    status, out, _ = command("export_shelf", str(archive), capsys=capsys)

    assert status == 0 and "Exported 2 image(s)" in out
    with zipfile.ZipFile(archive) as zipped:
        for image in images:
            assert hashlib.sha256(zipped.read(image.file.name)).hexdigest() == image.sha256
