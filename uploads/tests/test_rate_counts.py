"""Rate-limit counts in the database: atomic, shared, and gone once their window ends."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.db import connection
from django.utils import timezone

from uploads.models import RateCount

pytestmark = pytest.mark.django_db


@pytest.fixture
def counts():
    return caches["rate_counts"]


def test_a_count_is_started_once_then_incremented(counts):
    first, second = counts.add("upload:192.0.2.1", 1, 60), counts.add("upload:192.0.2.1", 1, 60)

    assert (first, second) == (True, False)
    assert counts.incr("upload:192.0.2.1") == 2
    assert counts.get("upload:192.0.2.1") == 2


def test_a_count_whose_window_ended_starts_again(counts):
    counts.add("upload:192.0.2.1", 1, 60)
    counts.incr("upload:192.0.2.1")
    RateCount.objects.update(expires=timezone.now() - timedelta(seconds=1))

    restarted = counts.add("upload:192.0.2.1", 1, 60)

    assert restarted is True
    assert counts.get("upload:192.0.2.1") == 1


def test_an_ended_count_is_neither_read_nor_incremented(counts):
    counts.add("upload:192.0.2.1", 1, 60)
    RateCount.objects.update(expires=timezone.now() - timedelta(seconds=1))

    assert counts.get("upload:192.0.2.1", "none") == "none"
    with pytest.raises(ValueError):
        counts.incr("upload:192.0.2.1")


def test_a_new_window_sweeps_the_counts_of_ended_ones(counts):
    counts.add("upload:192.0.2.1", 1, 60)
    RateCount.objects.update(expires=timezone.now() - timedelta(seconds=1))

    counts.add("upload:192.0.2.2", 1, 60)

    assert list(RateCount.objects.values_list("value", flat=True)) == [1]
    assert counts.get("upload:192.0.2.1") is None


@pytest.mark.django_db(transaction=True)
def test_increments_from_many_threads_at_once_are_never_lost(counts):
    counts.add("upload:192.0.2.1", 1, 60)
    start = threading.Barrier(8)
    results: list[int] = []

    def hit() -> None:
        start.wait()
        try:
            results.extend(counts.incr("upload:192.0.2.1") for _ in range(10))
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(results) == list(range(2, 82))  # every count seen exactly once
    assert counts.get("upload:192.0.2.1") == 81
