"""Time zones and times for scheduled posts. Pure: no Flask, database or network.

Authors give a date and a time on their wall clock; the database keeps UTC. These helpers
are the only place where one becomes the other.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

DEFAULT_TIMEZONE = "Europe/Paris"


@cache
def timezone_names() -> tuple[str, ...]:
    """IANA zone names known to this system, sorted (for select boxes and validation)."""
    return tuple(sorted(available_timezones()))


def is_valid_timezone(name: str) -> bool:
    return name in _timezone_set()


@cache
def _timezone_set() -> frozenset[str]:
    return frozenset(timezone_names())


def local_to_utc(day: date, at: time, tz_name: str) -> datetime:
    """The UTC instant of a wall-clock time in ``tz_name``.

    Around daylight-saving changes zoneinfo's ``fold=0`` rules apply: a time repeated in
    autumn means its first occurrence; a time skipped in spring is read with the offset
    before the change, so it lands just after the gap (02:30 in Paris → 03:30 summer time).
    """
    zone = ZoneInfo(tz_name)
    local = datetime.combine(day, at.replace(tzinfo=None, fold=0)).replace(tzinfo=zone)
    return local.astimezone(UTC)


def utc_to_local(moment: datetime, tz_name: str) -> datetime:
    """An aware UTC instant seen on the wall clock of ``tz_name`` (aware result)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime given to utc_to_local")
    return moment.astimezone(ZoneInfo(tz_name))
