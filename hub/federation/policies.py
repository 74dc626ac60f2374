"""Domain policies, as federation applies them: on the way in (the inbox, fetches, what is
kept) and on the way out (deliveries, follows, replies).

A policy names a domain and covers its subdomains ("example.org" covers
"social.example.org"); a host with a port is matched without it too. "block" refuses
everything both ways; "limit" keeps what the domain sends but lists none of it (its
objects are unlisted, so only its followers here reach them, by following); a policy may
also reject media (no file or image link of it is kept). Adding a block removes what the
domain had here: follows both ways, its objects, its pending deliveries; its replies stay as
placeholders.

Policies are few and read on every inbound request: the table is cached per process for a
few seconds, and a change here clears that cache.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from hub.errors import ValidationFailed
from hub.extensions import db
from hub.federation.models import Delivery, Follow, RemoteActor
from hub.models_base import utcnow
from hub.moderation.models import POLICY_SEVERITIES, DomainPolicy

CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Rule:
    domain: str
    severity: str
    reject_media: bool


def _cache() -> dict[str, Any]:
    """One cache per application (per process in production)."""
    from flask import current_app

    return current_app.extensions.setdefault("domain_policies", {"at": None, "rules": {}})


def _rules() -> dict[str, Rule]:
    cache = _cache()
    now = time.monotonic()
    if cache["at"] is None or now - cache["at"] > CACHE_SECONDS:
        cache["rules"] = {row.domain: Rule(row.domain, row.severity, row.reject_media)
                          for row in db.session.scalars(select(DomainPolicy))}
        cache["at"] = now
    return cache["rules"]


def forget_cache() -> None:
    _cache()["at"] = None


def _candidates(host: str) -> list[str]:
    host = (host or "").lower().strip().rstrip(".")
    names = [host]
    bare = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if bare != host:
        names.append(bare)
    parts = bare.split(".")
    names.extend(".".join(parts[i:]) for i in range(1, len(parts) - 1))
    return names


def rule_for(host: str) -> Rule | None:
    """The policy covering ``host`` (the most specific one), or None."""
    rules = _rules()
    if not rules:
        return None
    for name in _candidates(host):
        if name in rules:
            return rules[name]
    return None


def refuses_domain(host: str) -> bool:
    rule = rule_for(host)
    return rule is not None and rule.severity == "block"


def limits_domain(host: str) -> bool:
    rule = rule_for(host)
    return rule is not None and rule.severity == "limit"


def rejects_media(host: str) -> bool:
    rule = rule_for(host)
    return rule is not None and (rule.reject_media or rule.severity == "reject_media")


# -- managing --------------------------------------------------------------------------------


def normalise_domain(text: str) -> str:
    domain = (text or "").strip().lower().removeprefix("https://").removeprefix("http://")
    domain = domain.split("/")[0].strip().rstrip(".")
    if not domain or len(domain) > 255 or " " in domain or "." not in domain \
            and ":" not in domain and domain != "localhost":
        raise ValidationFailed(_("Give a domain name, such as example.org."), field="domain")
    return domain


def set_policy(admin: Any, domain: str, severity: str, *, reject_media: bool = False,
               public_reason: str = "", private_note: str = "") -> DomainPolicy:
    """Create or change the policy of a domain (instance admins; the view checks)."""
    domain = normalise_domain(domain)
    if severity not in POLICY_SEVERITIES:
        raise ValidationFailed(_("Choose what the policy does."), field="severity")
    row = db.session.scalar(select(DomainPolicy).where(DomainPolicy.domain == domain))
    if row is None:
        row = DomainPolicy(domain=domain, created_by_id=getattr(admin, "id", None),
                           created_at=utcnow())
        db.session.add(row)
    row.severity = severity
    row.reject_media = reject_media or severity == "reject_media"
    row.public_reason = (public_reason or "").strip()[:500]
    row.private_note = (private_note or "").strip()[:5000]
    db.session.flush()
    forget_cache()
    if severity == "block":
        _sever(domain)
    return row


def remove_policy(domain: str) -> bool:
    done = db.session.execute(delete(DomainPolicy).where(DomainPolicy.domain == domain))
    forget_cache()
    return bool(done.rowcount)


def list_policies() -> list[DomainPolicy]:
    return list(db.session.scalars(select(DomainPolicy).order_by(DomainPolicy.domain)))


def _covered(column: Any, domain: str) -> Any:
    return (column == domain) | column.like(f"%.{domain}") | column.like(f"{domain}:%")


def _sever(domain: str) -> None:
    """What a block ends: follows both ways, kept objects, replies (placeholders), and the
    deliveries not sent yet."""
    from hub.federation.remote_content import forget_actor

    actors = list(db.session.scalars(select(RemoteActor).where(
        _covered(RemoteActor.domain, domain))))
    ids = [actor.id for actor in actors]
    if ids:
        db.session.execute(delete(Follow).where(
            ((Follow.follower_type == "remote") & Follow.follower_id.in_(ids))
            | ((Follow.followed_type == "remote") & Follow.followed_id.in_(ids))))
        for actor in actors:
            forget_actor(actor)
    db.session.execute(
        update(Delivery).where(Delivery.status == "pending", _covered(Delivery.host, domain))
        .values(status="cancelled", last_error="domain blocked", done_at=utcnow())
        .execution_options(synchronize_session=False))
