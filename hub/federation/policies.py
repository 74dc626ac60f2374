"""Domain policies, as federation applies them: on the way in (the inbox, fetches, what is
kept) and on the way out (deliveries, follows, replies).

A policy names a domain and covers its subdomains ("example.org" covers
"social.example.org"); a host with a port is matched without it too. "block" refuses
everything both ways; "limit" keeps what the domain sends but lists none of it (its
objects are unlisted, so only its followers here reach them, by following); a policy may
also reject media (no file or image link of it is kept). Adding a block removes what the
domain had here: follows both ways, its objects, its pending deliveries; its replies stay as
placeholders.

In allow-list mode (``instance_settings.federation_allowlist``) a domain federates only when
an "allow" policy covers it: every other domain is refused as if blocked, by the same
``refuses_domain`` the inbox, fetches and deliveries already ask, so it holds both ways.
Turning the mode on severs nothing (turning it off again resumes federation); what is not
allowed simply stops being exchanged.

Policies are few and read on every inbound request: the table (and the allow-list switch)
is cached per process for a few seconds, and a change here clears that cache.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from hub.errors import PermissionDenied, ValidationFailed
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

    return current_app.extensions.setdefault("domain_policies",
                                             {"at": None, "rules": {}, "allowlist": False})


def _fresh_cache() -> dict[str, Any]:
    from hub.admin.models import InstanceSettings

    cache = _cache()
    now = time.monotonic()
    if cache["at"] is None or now - cache["at"] > CACHE_SECONDS:
        cache["rules"] = {row.domain: Rule(row.domain, row.severity, row.reject_media)
                          for row in db.session.scalars(select(DomainPolicy))}
        cache["allowlist"] = bool(db.session.scalar(
            select(InstanceSettings.federation_allowlist).where(InstanceSettings.id == 1)))
        cache["at"] = now
    return cache


def _rules() -> dict[str, Rule]:
    return _fresh_cache()["rules"]


def allowlist_mode() -> bool:
    """Whether only allow-listed domains federate (cached like the policies)."""
    return bool(_fresh_cache()["allowlist"])


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
    """Whether nothing may be exchanged with ``host``: a block covers it, or the allow-list
    mode is on and no "allow" policy covers it. Every way in and out asks this."""
    rule = rule_for(host)
    if rule is not None and rule.severity == "block":
        return True
    return allowlist_mode() and (rule is None or rule.severity != "allow")


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
               public_reason: str = "", private_note: str | None = "") -> DomainPolicy:
    """Create or change the policy of a domain (instance admins; the view checks).
    ``private_note=None`` keeps the note already written (an imported list has none)."""
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
    if private_note is not None or row.private_note is None:
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


def set_allowlist(admin: Any, enabled: bool) -> bool:
    """Turn the allow-list mode on or off (instance admins); recorded in the audit log.
    Returns whether it changed. The cache is cleared so this process sees it at once;
    other processes within ``CACHE_SECONDS``."""
    from hub.admin.services import ensure_settings, record_action

    if admin is None or not admin.is_admin:
        raise PermissionDenied(_("Only instance administrators may do this."))
    settings = ensure_settings()
    if bool(settings.federation_allowlist) == enabled:
        return False
    settings.federation_allowlist = enabled
    record_action(admin, "domain.allowlist", "instance", 1, enabled=enabled)
    db.session.flush()
    forget_cache()
    return True


@dataclass
class ImportReport:
    """What an import did: policies created and changed, rows refused (line, message)."""

    created: int = 0
    updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


def import_policies(admin: Any, data: bytes) -> ImportReport:
    """Apply a shared block list (Mastodon's CSV or one domain a line): valid rows create or
    update policies, each recorded in the audit log; invalid rows are reported with their
    line and change nothing. A file that cannot be read at all raises ValidationFailed."""
    from hub.admin.services import record_action
    from hub.federation.policy_csv import parse_policy_file

    if admin is None or not admin.is_admin:
        raise PermissionDenied(_("Only instance administrators may do this."))
    parsed = parse_policy_file(data)
    report = ImportReport(errors=list(parsed.errors))
    existing = {row.domain for row in db.session.scalars(select(DomainPolicy))}
    for row in parsed.rows:
        policy = set_policy(admin, row.domain, row.severity, reject_media=row.reject_media,
                            public_reason=row.public_reason, private_note=None)
        if row.domain in existing:
            report.updated += 1
        else:
            report.created += 1
        record_action(admin, "domain.policy", "domain", policy.id, domain=policy.domain,
                      severity=policy.severity, reject_media=policy.reject_media,
                      reason=policy.public_reason, imported=True)
    db.session.flush()
    return report


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
