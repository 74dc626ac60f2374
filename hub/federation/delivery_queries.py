"""Reads for the administration's delivery dashboard: how outbound delivery is going."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from hub.extensions import db
from hub.federation.models import DELIVERY_STATUSES, Delivery, RemoteHost

HOSTS_LIMIT = 50
ERRORS_LIMIT = 20


@dataclass(frozen=True)
class DeliveryError:
    id: int
    inbox: str
    host: str
    status: str
    attempts: int
    last_error: str
    at: object


def count_deliveries_by_status() -> dict[str, int]:
    """Deliveries per status, every status present (0 when none)."""
    counts = dict.fromkeys(DELIVERY_STATUSES, 0)
    for status, count in db.session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)):
        counts[status] = count
    return counts


def list_failing_hosts(limit: int = HOSTS_LIMIT) -> list[RemoteHost]:
    """Hosts that failed lately, are behind an open circuit or are unavailable, worst
    first."""
    return list(db.session.scalars(
        select(RemoteHost)
        .where(or_(RemoteHost.failures > 0, RemoteHost.circuit_open_until.is_not(None),
                   RemoteHost.unavailable_since.is_not(None)))
        .order_by(RemoteHost.failures.desc(), RemoteHost.host).limit(limit)))


def list_recent_errors(limit: int = ERRORS_LIMIT) -> list[DeliveryError]:
    """The last deliveries that met an error (still retried, failed or cancelled)."""
    moment = func.coalesce(Delivery.done_at, Delivery.next_attempt_at)
    rows = db.session.execute(
        select(Delivery.id, Delivery.inbox, Delivery.host, Delivery.status,
               Delivery.attempts, Delivery.last_error, moment)
        .where(Delivery.last_error != "")
        .order_by(moment.desc(), Delivery.id.desc()).limit(limit))
    return [DeliveryError(*row) for row in rows]
