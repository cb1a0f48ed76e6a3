"""Rate-limit counts in the database, shared by every worker and dyno, for django-ratelimit.

django-ratelimit keeps the rates, the keys and the fixed windows; all it asks of its cache
(RATELIMIT_USE_CACHE) is an `add` and an `incr` that are atomic across processes. Redis
has both, but the app no longer uses Redis (REDIS_URL is retired). The default cache is
per process (each worker would count its own), and Django's database cache is not enough:
`migrate` does not create its table, and its `incr` is a read then a write, so parallel
uploads lose counts. So this is that small cache and nothing more: counts only, each
operation one SQL statement on the RateCount table (made by a migration), on Postgres and
SQLite alike. Keeping django-ratelimit is simpler than a counter of our own: the
decorator, the rate syntax and the key stay as they were.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.core.cache.backends.base import DEFAULT_TIMEOUT, BaseCache
from django.db import connection
from django.utils import timezone

from uploads.models import RateCount


class DatabaseCounts(BaseCache):
    """add, incr and get for integer counts with a timeout: all django-ratelimit calls."""

    def __init__(self, location: str, params: dict) -> None:
        super().__init__(params)  # no location: the table is RateCount's

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None) -> bool:
        """Start a count unless a live one exists: one upsert, so two callers never both start."""
        key = self.make_and_validate_key(key, version=version)
        now = timezone.now()
        # django-ratelimit always gives the window's length: get_backend_timeout() turns it
        # into a time.time() (None, no expiry, is never asked for).
        expires = datetime.fromtimestamp(self.get_backend_timeout(timeout), tz=UTC)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {_TABLE} ({_KEY}, {_VALUE}, {_EXPIRES}) VALUES (%s, %s, %s) "
                f"ON CONFLICT ({_KEY}) DO UPDATE SET {_VALUE} = excluded.{_VALUE}, "
                f"{_EXPIRES} = excluded.{_EXPIRES} WHERE {_TABLE}.{_EXPIRES} <= %s",
                [key, int(value), expires, now],
            )
            added = cursor.rowcount == 1
            if added:  # a new window began: forget the windows that have ended
                cursor.execute(f"DELETE FROM {_TABLE} WHERE {_EXPIRES} <= %s", [now])
        return added

    def incr(self, key, delta=1, version=None) -> int:
        """Count one more and return the new count, in one statement; ValueError if none."""
        key = self.make_and_validate_key(key, version=version)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {_TABLE} SET {_VALUE} = {_VALUE} + %s "
                f"WHERE {_KEY} = %s AND {_EXPIRES} > %s RETURNING {_VALUE}",
                [delta, key, timezone.now()],
            )
            row = cursor.fetchone()
        if row is None:
            raise ValueError(f"Key '{key}' not found.")
        return row[0]

    def get(self, key, default=None, version=None):
        key = self.make_and_validate_key(key, version=version)
        count = RateCount.objects.filter(key=key, expires__gt=timezone.now()).first()
        return default if count is None else count.value


_TABLE = connection.ops.quote_name(RateCount._meta.db_table)
_KEY, _VALUE, _EXPIRES = (
    connection.ops.quote_name(RateCount._meta.get_field(name).column)
    for name in ("key", "value", "expires")
)
