"""Who a post or comment mentions, as ``Mention`` tags for what federation sends.

``@handle`` names an account or organisation here; ``@user@domain`` a remote actor this
instance already knows (one it follows, that follows it, or that wrote here). An address
never seen stays plain text: resolving it would mean a WebFinger request while someone
waits for their post to be saved. Mentioned remote actors are addressed (``cc``) and their
inboxes get the activity, as Mastodon does.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from hub.extensions import db
from hub.federation.models import RemoteActor
from hub.sanitize import MENTION_RE, plain_text

MAX_MENTIONS = 20


@dataclass(frozen=True)
class Mentioned:
    href: str
    name: str
    #: For a remote actor: where to deliver (shared inbox first); "" for a local one.
    inbox: str = ""


def mentions_in(html: str) -> list[Mentioned]:
    """The known actors a text mentions, in order, each once."""
    from hub.accounts.queries import find_account_by_handle
    from hub.federation.parsers import host_of
    from hub.federation.snapshots import actor_id, base_url
    from hub.orgs.queries import find_organisation

    local_host = host_of(base_url())
    found: dict[str, Mentioned] = {}
    for match in MENTION_RE.finditer(plain_text(html or "")):
        if len(found) >= MAX_MENTIONS:
            break
        handle, domain = match.group(1), (match.group(2) or "").lower()
        if not domain or domain == local_host:
            local = find_organisation(handle) or find_account_by_handle(handle)
            if local is not None and getattr(local, "status", "active") == "active":
                href = actor_id(local.handle)
                found.setdefault(href, Mentioned(href, f"@{local.handle}@{local_host}"))
            continue
        remote = db.session.scalar(select(RemoteActor).where(
            func.lower(RemoteActor.handle) == handle.lower(), RemoteActor.domain == domain,
            RemoteActor.deleted_at.is_(None)).limit(1))
        if remote is not None:
            found.setdefault(remote.uri, Mentioned(remote.uri, f"@{remote.handle}@{domain}",
                                                   remote.shared_inbox or remote.inbox))
    return list(found.values())
