"""One Redis shared by two apps (Heroku lets one Key-Value Store serve several): each app's
keys carry its own prefix, so neither reads, counts or shows what the other wrote."""

from __future__ import annotations

import contextlib
import re

import pytest
from django.core.cache import cache

from tests.load.support import Client
from tests.processes import (
    S3_ACCESS_KEY,
    S3_REGION,
    S3_SECRET_KEY,
    free_port,
    gunicorn,
    manage,
    moto_server,
    production_env,
    s3_client,
    stop,
)
from tests.redis import use_redis
from tests.redis.conftest import REDIS_URL
from uploads.models import Image
from uploads.tests.factories import distinct_png, upload_file

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


def test_cache_keys_carry_the_apps_prefix(settings, redis_client):
    use_redis(settings, REDIS_URL)

    cache.set("probe", "here")

    assert redis_client.keys("*") == [f"{settings.CACHE_KEY_PREFIX}:1:probe".encode()]


def upload(client: Client, index: int) -> int:
    """An anonymous upload from the page's own form, as a visitor sends it."""
    client.get("/")  # the form, and the CSRF cookie that goes with it
    return client.upload(distinct_png(index), f"photo-{index}.png", f"photo {index}").status


def titles(port: int) -> set[str]:
    html = Client(port).get("/").body.decode()
    return set(re.findall(r'class="shelf__title">([^<]+)<', html))


def test_two_apps_on_one_redis_never_count_show_or_cache_each_others_work(tmp_path, redis_client):
    """Each with its own database and bucket, as staging and production would be: their
    pages cache what their buckets hold in the one Redis, under keys of their own."""
    static = tmp_path / "static"
    manage(production_env(tmp_path, STATIC_ROOT=str(static)), "collectstatic", "--noinput")
    port = free_port()
    moto = moto_server(port, tmp_path / "moto.log")
    endpoint = f"http://127.0.0.1:{port}"
    apps = {}
    try:
        with contextlib.ExitStack() as stack:
            for name in ("production", "staging"):
                s3_client(endpoint).create_bucket(Bucket=f"shelf-{name}")
                env = production_env(
                    tmp_path / name,
                    STATIC_ROOT=str(static),
                    REDIS_URL=REDIS_URL,
                    PUBLIC_UPLOADS="open",
                    PUBLIC_UPLOAD_RATE="2/h",
                    PAGE_CACHE_SECONDS="0",
                    AWS_STORAGE_BUCKET_NAME=f"shelf-{name}",
                    AWS_S3_ENDPOINT_URL=endpoint,
                    AWS_S3_REGION_NAME=S3_REGION,
                    AWS_S3_ADDRESSING_STYLE="path",
                    AWS_ACCESS_KEY_ID=S3_ACCESS_KEY,
                    AWS_SECRET_ACCESS_KEY=S3_SECRET_KEY,
                )
                (tmp_path / name).mkdir()
                manage(env, "migrate", "--noinput", check=True)
                server = gunicorn(env, "--workers", "1", log=tmp_path / f"{name}.log")
                apps[name] = stack.enter_context(server)
            production, staging = apps["production"].port, apps["staging"].port

            first = [upload(Client(production), index) for index in (1, 2, 3)]
            # The same visitor (the same address), on the other app: a count of its own.
            second = [upload(Client(staging), index) for index in (4, 5)]

            assert first == [303, 303, 429]
            assert second == [303, 303]
            assert titles(production) == {"photo 1", "photo 2"}
            assert titles(staging) == {"photo 4", "photo 5"}
    finally:
        stop(moto)
    # Both pages cached their bucket's listing, each under its own prefix.
    prefixes = {key.split(b":")[0] for key in redis_client.keys("*")}
    assert len(prefixes) == 2


def test_with_redis_away_visitors_uploads_go_on(settings, client, files):
    """Rate counts live in the database: an unreachable Redis takes nothing away."""
    use_redis(settings, f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    settings.PUBLIC_UPLOADS = "open"

    response = client.post("/images/", {"image": upload_file(distinct_png(1))})

    assert response.status_code == 303
    assert files() == sorted(Image.objects.get().stored_names())
