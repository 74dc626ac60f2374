"""Event times, places and links (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from hub.content.events.timing import (
    format_span,
    is_https_url,
    osm_url,
    time_zones,
    to_utc,
    valid_coordinates,
    zone,
)


def test_local_times_are_stored_in_utc_across_summer_time():
    assert to_utc(date(2025, 1, 15), time(10, 0), "Europe/Paris") == datetime(
        2025, 1, 15, 9, 0, tzinfo=UTC)
    assert to_utc(date(2025, 7, 15), time(10, 0), "Europe/Paris") == datetime(
        2025, 7, 15, 8, 0, tzinfo=UTC)
    assert to_utc(date(2025, 7, 15), time(10, 0), "America/Montreal") == datetime(
        2025, 7, 15, 14, 0, tzinfo=UTC)


def test_unknown_zones_are_refused():
    assert zone("Mars/Olympus") is None and zone("../etc/passwd") is None and zone("") is None
    with pytest.raises(ValueError):
        to_utc(date(2025, 1, 1), time(10, 0), "Nowhere/Land")
    assert "Europe/Paris" in time_zones() and "America/Montreal" in time_zones()


@pytest.mark.parametrize("lat, lon, problem", [
    (None, None, None), (45.76, 4.83, None), (90, -180, None), (45.0, None, "pair"),
    (None, 4.0, "pair"), (91, 0, "latitude"), (-90.5, 0, "latitude"), (0, 180.1, "longitude"),
])
def test_coordinates_are_checked(lat, lon, problem):
    assert valid_coordinates(lat, lon) == problem


@pytest.mark.parametrize("url, ok", [
    ("https://visio.example.org/room/42", True), ("HTTPS://example.org", True),
    ("http://visio.example.org/room", False), ("javascript:alert(1)", False),
    ("https://", False), ("https://user@evil.example", False), ("ftp://x.org", False),
    ("https://exa mple.org", False),
])
def test_online_links_must_be_https(url, ok):
    assert is_https_url(url) is ok


def test_openstreetmap_link_is_a_plain_link():
    assert osm_url(45.7676, 4.8345) == (
        "https://www.openstreetmap.org/?mlat=45.76760&mlon=4.83450#map=16/45.76760/4.83450")


def test_spans_are_written_in_the_readers_language_and_the_events_zone():
    start = datetime(2025, 6, 14, 8, 0, tzinfo=UTC)  # 10:00 in Paris
    end = datetime(2025, 6, 14, 15, 30, tzinfo=UTC)

    french = format_span(start, end, "Europe/Paris", "fr")
    english = format_span(start, end, "Europe/Paris", "en")

    assert "samedi 14 juin 2025" in french and "10:00" in french and "17:30" in french
    assert "Saturday, June 14, 2025" in english and "10:00" in english
    assert "4:00" in format_span(start, end, "America/Montreal", "en")


def test_spans_over_several_days_give_both_dates():
    text = format_span(datetime(2025, 6, 14, 8, tzinfo=UTC), datetime(2025, 6, 15, 15, tzinfo=UTC),
                       "Europe/Paris", "fr")
    assert "14 juin 2025" in text and "15 juin 2025" in text
