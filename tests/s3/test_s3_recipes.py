"""docs/deploy.md's recipe per provider, run as written: the settings built from its variables
store, read back, link and delete media. The local server stands in for the endpoint
(its address is an IP, so requests are path-style whatever the recipe's addressing)."""

from __future__ import annotations

import hashlib
import re
import shlex
import urllib.request

import pytest

from tests.processes import ROOT
from uploads.media import storage as storage_ops

from .test_s3 import ingest

pytestmark = [pytest.mark.s3, pytest.mark.django_db(transaction=True)]


def deploy_recipes() -> dict[str, dict[str, str]]:
    """Each `#### Provider` of docs/deploy.md's S3 section: the variables its block sets."""
    guide = (ROOT / "docs" / "deploy.md").read_text()
    section = guide.split("### Media that survives restarts", 1)[1].split("\n### ", 1)[0]
    recipes = {}
    for part in section.split("\n#### ")[1:]:
        provider, _, text = part.partition("\n")
        block = re.search(r"```sh\n(.*?)```", text, re.S)
        if block is None:
            continue  # prose, not a recipe
        words = shlex.split(block[1].replace("\\\n", " "), comments=True)
        assert words[:2] == ["heroku", "config:set"], f"{provider}: {block[1]}"
        recipes[provider] = dict(word.split("=", 1) for word in words[2:])
    return recipes


RECIPES = deploy_recipes()


def test_the_deploy_guide_has_a_recipe_for_every_provider_it_names():
    assert sorted(RECIPES) == [
        "Amazon S3",
        "Backblaze B2",
        "Cloudflare R2",
        "DigitalOcean Spaces",
        "MinIO",
    ]


@pytest.mark.parametrize("s3_variables", RECIPES.values(), ids=RECIPES.keys())
def test_a_recipe_stores_reads_links_and_deletes_media(s3_variables, bucket):
    storage = storage_ops.media_storage()

    image = ingest(1)
    with storage.open(image.file.name, "rb") as stored:
        data = stored.read()
    link = storage.url(image.preview_name)
    domain = s3_variables.get("AWS_S3_CUSTOM_DOMAIN")
    linked = None if domain else urllib.request.urlopen(link, timeout=5).read()
    failed = storage_ops.delete_files(image.stored_names())

    assert hashlib.sha256(data).hexdigest() == image.sha256
    if domain:  # public objects, served by that domain
        assert link == f"https://{domain}/{image.preview_name}"
    else:  # a signed link that the server answers with the thumbnail
        assert "X-Amz-Signature=" in link
        assert linked[8:12] == b"WEBP"
    assert (failed, bucket.names()) == ([], [])
