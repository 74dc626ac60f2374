"""Text members write, turned into clean HTML with theme links and mentions.

Shell around ``hub.sanitize.render_text``: it knows this instance's URLs and handles.
Every content service renders through ``render_content`` so #themes and @mentions work
the same in posts, resources, discussions, comments and events.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from hub.accounts.handles import canonical_handle
from hub.accounts.models import Account, Handle
from hub.content.themes import theme_slug
from hub.extensions import db
from hub.sanitize import Rendered, render_text
from hub.urls import local_path


def local_host() -> str:
    return urlsplit(current_app.config["HUB_BASE_URL"]).netloc


def render_content(source: str) -> Rendered:
    """Markdown to clean HTML; ``tags`` and ``mentions`` list what the text names.

    A mention links to the profile only when the handle exists here (an account or an
    organisation) or names this instance's domain; remote mentions stay text until
    federation resolves them.
    """
    host = local_host()

    def tag_url(tag: str) -> str:
        return local_path("themes.theme", slug=theme_slug(tag))

    def mention_url(handle: str, domain: str | None) -> str | None:
        if domain and domain.lower() != host.lower().split(":")[0] and domain.lower() != host:
            return None
        key = canonical_handle(handle)
        if db.session.get(Handle, key) is None:
            return None
        return local_path("main.actor", handle=handle)

    return render_text(source, local_host=host, tag_url=tag_url, mention_url=mention_url)


def mentioned_accounts(rendered: Rendered) -> list[Account]:
    """Local, active accounts named in the text (organisations are not notified)."""
    host = local_host().lower()
    keys = {canonical_handle(handle) for handle, domain in rendered.mentions
            if not domain or domain.lower() in (host, host.split(":")[0])}
    if not keys:
        return []
    return list(db.session.scalars(select(Account).where(
        Account.handle_key.in_(keys), Account.status == "active")))
