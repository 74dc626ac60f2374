"""Event dates, places and links. Pure: no Flask, database or network.

Organisers type a local date and time in a time zone; the database keeps UTC and the
zone, and pages show the time back in that zone in the reader's language.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.dates import format_date, format_time

#: An online link must be https with a host; "http://" and "javascript:" are refused.
HTTPS_URL_RE = re.compile(r"^https://[^\s/?#@]+(?:[/?#]\S*)?$", re.IGNORECASE)


@lru_cache(maxsize=1)
def time_zones() -> tuple[str, ...]:
    """IANA zones offered in forms, sorted (legacy aliases without "/" left out)."""
    return tuple(sorted(name for name in available_timezones()
                        if "/" in name and not name.startswith(("Etc/", "SystemV/"))))


def zone(name: str) -> ZoneInfo | None:
    """The zone called ``name``, or None when it is not a known IANA zone."""
    if not name or name != name.strip() or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def to_utc(day: date, at: time, zone_name: str) -> datetime:
    """The UTC instant of a wall-clock time in a zone (the first one when clocks go back,
    and for a time skipped when clocks go forward, the same offset as just before)."""
    tz = zone(zone_name)
    if tz is None:
        raise ValueError(f"unknown time zone {zone_name!r}")
    return datetime.combine(day, at).replace(tzinfo=tz, fold=0).astimezone(UTC)


def local(instant: datetime, zone_name: str) -> datetime:
    """A stored UTC instant as wall-clock time in the event's zone."""
    return instant.astimezone(zone(zone_name) or UTC)


def valid_coordinates(latitude: float | None, longitude: float | None) -> str | None:
    """None when fine, else which rule breaks: "pair", "latitude" or "longitude"."""
    if (latitude is None) != (longitude is None):
        return "pair"
    if latitude is not None and not -90 <= latitude <= 90:
        return "latitude"
    if longitude is not None and not -180 <= longitude <= 180:
        return "longitude"
    return None


def is_https_url(url: str) -> bool:
    return bool(HTTPS_URL_RE.match(url)) and len(url) <= 2000


def osm_url(latitude: float, longitude: float) -> str:
    """A plain link to the place on OpenStreetMap (no tiles embedded in our pages)."""
    lat, lon = f"{latitude:.5f}", f"{longitude:.5f}"
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=16/{lat}/{lon}"


def _moment(instant: datetime, tz: ZoneInfo | Any, locale: str, day_format: str) -> str:
    day = format_date(instant.astimezone(tz).date(), format=day_format, locale=locale)
    return f"{day}, {format_time(instant, format='short', tzinfo=tz, locale=locale)}"


def format_span(starts_at: datetime, ends_at: datetime, zone_name: str, locale: str) -> str:
    """"Saturday, June 14, 2025, 10:00 AM – 5:00 PM" in the reader's language and the event's
    zone; both dates when it spans several days."""
    tz = zone(zone_name) or UTC
    if starts_at.astimezone(tz).date() == ends_at.astimezone(tz).date():
        end = format_time(ends_at, format="short", tzinfo=tz, locale=locale)
        return f"{_moment(starts_at, tz, locale, 'full')} – {end}"
    return f"{_moment(starts_at, tz, locale, 'long')} – {_moment(ends_at, tz, locale, 'long')}"


def format_day(instant: datetime, zone_name: str, locale: str) -> str:
    """Short date and time for lists ("Jun 14, 2025, 10:00 AM")."""
    return _moment(instant, zone(zone_name) or UTC, locale, "medium")
