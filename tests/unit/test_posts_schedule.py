"""Scheduling times and list cursors of news posts: pure helpers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from hub.content.posts.queries import decode_cursor, encode_cursor
from hub.content.posts.schedule import (
    is_valid_timezone,
    local_to_utc,
    timezone_names,
    utc_to_local,
)


@pytest.mark.parametrize("day, clock, zone, expected", [
    (date(2025, 1, 15), time(10, 0), "Europe/Paris", datetime(2025, 1, 15, 9, 0, tzinfo=UTC)),
    (date(2025, 7, 15), time(10, 0), "Europe/Paris", datetime(2025, 7, 15, 8, 0, tzinfo=UTC)),
    (date(2025, 1, 15), time(0, 30), "Europe/Paris", datetime(2025, 1, 14, 23, 30, tzinfo=UTC)),
    (date(2025, 1, 15), time(10, 0), "America/Montreal",
     datetime(2025, 1, 15, 15, 0, tzinfo=UTC)),
    (date(2025, 1, 15), time(10, 0), "Pacific/Noumea", datetime(2025, 1, 14, 23, 0, tzinfo=UTC)),
    (date(2025, 1, 15), time(10, 0), "UTC", datetime(2025, 1, 15, 10, 0, tzinfo=UTC)),
])
def test_local_to_utc(day, clock, zone, expected):
    assert local_to_utc(day, clock, zone) == expected


def test_a_time_skipped_in_spring_lands_just_after_the_gap():
    # 30 March 2025: Paris clocks jump from 02:00 to 03:00.
    moment = local_to_utc(date(2025, 3, 30), time(2, 30), "Europe/Paris")

    assert moment == datetime(2025, 3, 30, 1, 30, tzinfo=UTC)
    assert utc_to_local(moment, "Europe/Paris").time() == time(3, 30)


def test_a_time_repeated_in_autumn_means_its_first_occurrence():
    # 26 October 2025: Paris clocks go back from 03:00 to 02:00.
    assert local_to_utc(date(2025, 10, 26), time(2, 30), "Europe/Paris") == datetime(
        2025, 10, 26, 0, 30, tzinfo=UTC)


def test_utc_to_local_round_trips():
    moment = local_to_utc(date(2025, 1, 15), time(10, 0), "Europe/Paris")

    local = utc_to_local(moment, "Europe/Paris")

    assert (local.date(), local.time()) == (date(2025, 1, 15), time(10, 0))
    with pytest.raises(ValueError):
        utc_to_local(datetime(2025, 1, 1), "Europe/Paris")


def test_time_zone_names():
    assert "Europe/Paris" in timezone_names()
    assert list(timezone_names()) == sorted(timezone_names())
    assert is_valid_timezone("America/Montreal")
    assert not is_valid_timezone("Mars/Olympus")
    assert not is_valid_timezone("")


def test_cursor_round_trip():
    moment = datetime(2025, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)

    assert decode_cursor(encode_cursor(moment, 42)) == (moment, 42)


@pytest.mark.parametrize("bad", ["", "nonsense", "20250301123005123456", "2025-42",
                                 "99999999999999999999-1", "20250301123005123456-x",
                                 "20250301123005123456-1 OR 1=1"])
def test_a_bad_cursor_is_none(bad):
    assert decode_cursor(bad) is None
