"""What the public transparency page counts: moderation cases and actions per month and per
charter article, and the domains this instance moderates with their public reasons.

Only public facts leave this module: numbers, article numbers and titles, domains, severities
and public reasons. Never who reported, what a report said, notes, or a policy's private note.
Months are grouped by portable SQL (``extract``, which SQLAlchemy renders for SQLite and
PostgreSQL alike); articles are stored as JSON lists, so they are counted in Python.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import extract, func, select

from hub.admin.models import AdminAction
from hub.extensions import db
from hub.moderation.models import DomainPolicy, ModerationCase, Report

MONTHS = 12
#: The audit-log actions that are moderation decisions (appeal outcomes included).
MODERATION_PREFIX = "moderation."


@dataclass(frozen=True)
class MonthCount:
    month: date  # the first day of the month (UTC)
    cases: int
    actions: int


@dataclass(frozen=True)
class ArticleCount:
    number: int
    cases: int
    actions: int


@dataclass(frozen=True)
class PublicPolicy:
    """A domain policy as the public sees it: no private note, no author."""

    domain: str
    severity: str
    reject_media: bool
    public_reason: str


def month_starts(now: datetime, months: int = MONTHS) -> list[date]:
    """The first days of the last ``months`` months, oldest first, the current one last."""
    year, month = now.year, now.month
    starts = []
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _since(now: datetime, months: int) -> datetime:
    first = month_starts(now, months)[0]
    return datetime(first.year, first.month, 1, tzinfo=UTC)


def _per_month(column: Any, since: datetime, *where: Any) -> Counter[tuple[int, int]]:
    year, month = extract("year", column), extract("month", column)
    rows = db.session.execute(select(year, month, func.count()).where(column >= since, *where)
                              .group_by(year, month))
    return Counter({(int(y), int(m)): n for y, m, n in rows})


def count_by_month(now: datetime, months: int = MONTHS) -> list[MonthCount]:
    """Cases opened and moderation actions taken in each of the last ``months`` months."""
    since = _since(now, months)
    cases = _per_month(ModerationCase.created_at, since)
    actions = _per_month(AdminAction.created_at, since,
                         AdminAction.action.like(f"{MODERATION_PREFIX}%"))
    return [MonthCount(start, cases[(start.year, start.month)],
                       actions[(start.year, start.month)])
            for start in month_starts(now, months)]


def count_by_article(now: datetime, months: int = MONTHS) -> list[ArticleCount]:
    """For each charter article cited in the period: the cases whose reports cite it and the
    actions that cite it, by article number."""
    since = _since(now, months)
    cases: dict[int, set[int]] = {}
    for case_id, articles in db.session.execute(
            select(Report.case_id, Report.articles).where(Report.created_at >= since)):
        for number in _numbers(articles):
            cases.setdefault(number, set()).add(case_id)
    actions: Counter[int] = Counter()
    for (details,) in db.session.execute(
            select(AdminAction.details).where(
                AdminAction.created_at >= since,
                AdminAction.action.like(f"{MODERATION_PREFIX}%"))):
        actions.update(set(_numbers((details or {}).get("articles")
                                    if isinstance(details, dict) else None)))
    numbers = sorted(set(cases) | set(actions))
    return [ArticleCount(n, len(cases.get(n, ())), actions[n]) for n in numbers]


def _numbers(value: Any) -> list[int]:
    if not isinstance(value, list):
        return []
    return [n for n in value if isinstance(n, int) and not isinstance(n, bool) and n > 0]


def count_actions_by_kind(now: datetime, months: int = MONTHS) -> list[tuple[str, int]]:
    """Moderation actions of the period by kind ("moderation.hide", …), most frequent first."""
    rows = db.session.execute(
        select(AdminAction.action, func.count()).where(
            AdminAction.created_at >= _since(now, months),
            AdminAction.action.like(f"{MODERATION_PREFIX}%"))
        .group_by(AdminAction.action))
    return sorted(((name, n) for name, n in rows), key=lambda item: (-item[1], item[0]))


def list_moderated_domains() -> list[PublicPolicy]:
    """Domains this instance restricts (blocks, limits, media rejections), by domain; the
    allow-list's entries are not restrictions and are not listed."""
    rows = db.session.execute(
        select(DomainPolicy.domain, DomainPolicy.severity, DomainPolicy.reject_media,
               DomainPolicy.public_reason)
        .where(DomainPolicy.severity != "allow").order_by(DomainPolicy.domain))
    return [PublicPolicy(*row) for row in rows]
