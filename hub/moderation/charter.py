"""The charter: its versions, what changed between two, and who accepted which.

The instance charter is written by instance admins; each organisation may add articles for
its own spaces (its discussions, the comments under its content), written by its admins.
Saving publishes a new version: the articles are copied whole, never edited in place.

Taking part — posting, commenting, reporting — needs the current instance version accepted
(``refusal_to_write``); commenting in an organisation's space for the first time needs its
articles accepted too (``org_refusal``). With no charter published yet there is nothing to
accept. Services flush; the view commits.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from hub.errors import PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.models_base import utcnow
from hub.moderation.models import CharterAcceptance, CharterArticle, CharterVersion
from hub.sanitize import render_markdown

MAX_ARTICLES = 50
MAX_TITLE = 200
MAX_BODY = 10_000


@dataclass(frozen=True)
class ArticleDraft:
    title: str
    body: str


# -- reading -----------------------------------------------------------------------------


def current_version(org_id: int | None = None) -> CharterVersion | None:
    """The latest version of the instance charter (``org_id`` None) or of an
    organisation's articles."""
    return db.session.scalar(
        select(CharterVersion).where(CharterVersion.org_id.is_(None) if org_id is None
                                     else CharterVersion.org_id == org_id)
        .order_by(CharterVersion.number.desc()).limit(1))


def get_version(number: int, org_id: int | None = None) -> CharterVersion | None:
    return db.session.scalar(select(CharterVersion).where(
        CharterVersion.number == number,
        CharterVersion.org_id.is_(None) if org_id is None else CharterVersion.org_id == org_id))


def list_versions(org_id: int | None = None) -> list[CharterVersion]:
    return list(db.session.scalars(
        select(CharterVersion).where(CharterVersion.org_id.is_(None) if org_id is None
                                     else CharterVersion.org_id == org_id)
        .order_by(CharterVersion.number.desc())))


def has_accepted(account: Any, version: CharterVersion) -> bool:
    return db.session.scalar(select(CharterAcceptance.id).where(
        CharterAcceptance.account_id == account.id,
        CharterAcceptance.version_id == version.id)) is not None


def pending_version(account: Any) -> CharterVersion | None:
    """The instance charter version this person still has to accept, or None."""
    if account is None or not getattr(account, "is_authenticated", False):
        return None
    version = current_version()
    if version is None or has_accepted(account, version):
        return None
    return version


def last_accepted(account: Any) -> CharterVersion | None:
    """The newest instance version this person accepted (for "what changed since")."""
    return db.session.scalar(
        select(CharterVersion).join(CharterAcceptance,
                                    CharterAcceptance.version_id == CharterVersion.id)
        .where(CharterAcceptance.account_id == account.id, CharterVersion.org_id.is_(None))
        .order_by(CharterVersion.number.desc()).limit(1))


def refusal_to_write(account: Any) -> str | None:
    """Why ``account`` may not post, comment or report until it accepts the charter."""
    version = pending_version(account)
    if version is None:
        return None
    return _("The charter changed (version %(n)d): read it and accept it before taking part.",
             n=version.number)


def require_charter(account: Any) -> None:
    """Raise PermissionDenied while the current instance charter is not accepted."""
    refusal = refusal_to_write(account)
    if refusal:
        raise PermissionDenied(refusal)


def org_refusal(account: Any, org_id: int) -> str | None:
    """Why ``account`` may not comment in this organisation's space yet: its own articles
    (current version) not accepted."""
    version = current_version(org_id)
    if version is None or account is None or has_accepted(account, version):
        return None
    return _("This organisation has its own rules for its spaces: read and accept them "
             "before commenting here.")


# -- differences ------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleChange:
    position: int
    title: str
    #: "added", "removed", "changed" or "same".
    kind: str
    #: Lines of a unified diff of the text (for "changed").
    lines: tuple[str, ...] = ()


def _text(article: CharterArticle) -> str:
    return f"{article.title}\n\n{article.body_source}"


def compare(older: CharterVersion | None, newer: CharterVersion) -> list[ArticleChange]:
    """What changed from ``older`` to ``newer``, article by article (matched by number)."""
    before = {a.position: a for a in (older.articles if older else [])}
    after = {a.position: a for a in newer.articles}
    changes: list[ArticleChange] = []
    for position in sorted(set(before) | set(after)):
        old, new = before.get(position), after.get(position)
        if old is None:
            assert new is not None
            changes.append(ArticleChange(position, new.title, "added"))
        elif new is None:
            changes.append(ArticleChange(position, old.title, "removed"))
        elif _text(old) == _text(new):
            changes.append(ArticleChange(position, new.title, "same"))
        else:
            diff = difflib.unified_diff(_text(old).splitlines(), _text(new).splitlines(),
                                        lineterm="", n=1)
            lines = tuple(line for line in diff if not line.startswith(("---", "+++")))
            changes.append(ArticleChange(position, new.title, "changed", lines))
    return changes


# -- writing -----------------------------------------------------------------------------


def _clean(drafts: list[ArticleDraft]) -> list[ArticleDraft]:
    kept = [ArticleDraft(d.title.strip(), d.body.strip()) for d in drafts
            if d.title.strip() or d.body.strip()]
    if not kept:
        raise ValidationFailed(_("A charter needs at least one article."), field="articles")
    if len(kept) > MAX_ARTICLES:
        raise ValidationFailed(_("A charter has %(n)d articles at most.", n=MAX_ARTICLES),
                               field="articles")
    for number, draft in enumerate(kept, start=1):
        if not draft.title:
            raise ValidationFailed(_("Article %(n)d needs a title.", n=number),
                                   field="articles")
        if len(draft.title) > MAX_TITLE or len(draft.body) > MAX_BODY:
            raise ValidationFailed(_("Article %(n)d is too long.", n=number), field="articles")
    return kept


def publish_version(actor: Any, drafts: list[ArticleDraft], note: str = "",
                    org: Any = None) -> CharterVersion:
    """Publish a new version of the instance charter (instance admins) or of ``org``'s
    articles (its admins). The editor accepts what they publish."""
    from hub.orgs.access import may

    if org is None:
        if actor is None or not getattr(actor, "is_admin", False):
            raise PermissionDenied(_("Only instance administrators may edit the charter."))
    elif not may("edit_rules", actor, org):
        raise PermissionDenied(_("Only admins of %(name)s may edit its rules.",
                                 name=org.name))
    articles = _clean(drafts)
    org_id = org.id if org is not None else None
    latest = current_version(org_id)
    if latest is not None and [(a.title, a.body_source) for a in latest.articles] == \
            [(d.title, d.body) for d in articles]:
        raise ValidationFailed(_("Nothing changed: no new version was published."),
                               field="articles")
    number = (db.session.scalar(select(func.max(CharterVersion.number)).where(
        CharterVersion.org_id.is_(None) if org_id is None
        else CharterVersion.org_id == org_id)) or 0) + 1
    version = CharterVersion(org_id=org_id, number=number, note=(note or "").strip()[:500],
                             published_at=utcnow(),
                             published_by_id=getattr(actor, "id", None))
    version.articles = [CharterArticle(position=n, title=d.title, body_source=d.body,
                                       body_html=render_markdown(d.body))
                        for n, d in enumerate(articles, start=1)]
    db.session.add(version)
    db.session.flush()
    if actor is not None:
        accept(actor, version)
    return version


def accept(account: Any, version: CharterVersion) -> CharterAcceptance:
    """Record that ``account`` accepted ``version`` (idempotent)."""
    existing = db.session.scalar(select(CharterAcceptance).where(
        CharterAcceptance.account_id == account.id,
        CharterAcceptance.version_id == version.id))
    if existing is not None:
        return existing
    row = CharterAcceptance(account_id=account.id, version_id=version.id,
                            accepted_at=utcnow())
    db.session.add(row)
    db.session.flush()
    return row


def accept_current(account: Any, org_id: int | None = None) -> CharterVersion | None:
    version = current_version(org_id)
    if version is not None:
        accept(account, version)
    return version
