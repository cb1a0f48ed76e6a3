"""One Redis shared by two apps (Heroku lets one Key-Value Store serve several): each app's
keys carry its own prefix, so neither reads, counts or shows what the other wrote."""

from __future__ import annotations

import contextlib
import re

import pytest
from django.core.cache import cache

from tests.load.support import Client
from tests.processes import gunicorn, manage, production_env
from tests.redis import use_redis
from tests.redis.conftest import REDIS_URL
from uploads.tests.factories import distinct_png

pytestmark = pytest.mark.redis


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


def test_two_apps_on_one_redis_never_count_or_show_each_others_work(tmp_path, redis_client):
    static = tmp_path / "static"
    manage(production_env(tmp_path, STATIC_ROOT=str(static)), "collectstatic", "--noinput")
    apps = {}
    with contextlib.ExitStack() as stack:
        for name in ("production", "staging"):
            env = production_env(
                tmp_path / name,
                STATIC_ROOT=str(static),
                REDIS_URL=REDIS_URL,
                PUBLIC_UPLOADS="true",
                PUBLIC_UPLOAD_RATE="2/h",
                PAGE_CACHE_SECONDS="0",
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
    prefixes = {key.split(b":")[0] for key in redis_client.keys("*")}
    assert len(prefixes) == 2  # every key is one app's or the other's
