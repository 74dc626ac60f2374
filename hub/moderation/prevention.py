"""Prevention: word filters and pre-moderation, applied where contributions are written.

Word filters are watched words or regular expressions with an effect: *refuse* (the form
says the admin's message and nothing is saved), *hold* (stored hidden, queued for
approval) or *flag* (published, with a case in the queue for review). Matching ignores
case and accents on both sides, so "ÉCOLO" is caught by "ecolo" and the reverse.

Pre-moderation holds the first N contributions of new accounts (an instance setting) and
every comment in an organisation that asks for it (outsiders only: its own members are
not held in their own space). Instance moderators and admins are never filtered or held.

Both register as holding rules (``hub.moderation.holding``), so every content service that
already calls ``hold_if_needed`` gets them; ``screen_edit`` does the same for edits.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from hub.content.search.text import fold  # the search's folding: one rule for "no accents"
from hub.errors import NotFound, PermissionDenied, ValidationFailed
from hub.extensions import db
from hub.moderation.models import WordFilter

EFFECTS = ("refuse", "hold", "flag")
MAX_PATTERN = 300
MAX_MESSAGE = 300
#: Text fields screened per kind of contribution.
TEXT_FIELDS = {
    "post": ("title", "summary", "body_source"),
    "resource": ("title", "authors", "publisher", "abstract_source", "body_source"),
    "discussion": ("title", "body_source"),
    "event": ("title", "description_source", "place_name"),
    "comment": ("body_source",),
}
#: How long a process keeps the compiled filters (admins' changes clear it at once here).
CACHE_SECONDS = 5.0


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def compile_pattern(pattern: str, is_regex: bool) -> re.Pattern[str]:
    """The compiled form of a filter. A plain word matches whole words (and phrases); a
    regular expression is matched as written, without case or accents."""
    if is_regex:
        # Case is left to IGNORECASE: folding the pattern would turn ``\D`` into ``\d``.
        return re.compile(_strip_accents(pattern), re.IGNORECASE)
    words = fold(pattern).split()
    return re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)")


@dataclass(frozen=True)
class Match:
    filter_id: int
    pattern: str
    effect: str
    message: str


_cache: tuple[float, int, list[tuple[Match, re.Pattern[str]]]] | None = None


def _compiled() -> list[tuple[Match, re.Pattern[str]]]:
    global _cache
    now = time.monotonic()
    from flask import current_app

    app_key = id(current_app._get_current_object())
    if _cache is not None and _cache[1] == app_key and now - _cache[0] < CACHE_SECONDS:
        return _cache[2]
    rows = []
    for row in db.session.scalars(select(WordFilter).order_by(WordFilter.id)):
        try:
            rows.append((Match(row.id, row.pattern, row.effect, row.message),
                         compile_pattern(row.pattern, row.is_regex)))
        except re.error:
            continue  # refused when saved; an old bad row must not break writing
    _cache = (now, app_key, rows)
    return rows


def forget_cache() -> None:
    global _cache
    _cache = None


def matches(texts: Iterable[str]) -> list[Match]:
    """The filters that ``texts`` trip, in the order admins made them."""
    folded = "\n".join(fold(t) for t in texts if t)  # lower case, no accents
    if not folded:
        return []
    return [match for match, compiled in _compiled() if compiled.search(folded)]


def texts_of(kind: str, obj: Any) -> list[str]:
    texts = [getattr(obj, name, "") or "" for name in TEXT_FIELDS.get(kind, ())]
    if kind == "comment" and not obj.body_source and obj.body_html:
        from hub.sanitize import plain_text

        texts.append(plain_text(obj.body_html))  # a reply from another server: HTML only
    return texts


def _exempt(actor: Any) -> bool:
    return bool(getattr(actor, "is_moderator", False))


def refuse_if_filtered(actor: Any, kind: str, obj: Any) -> list[Match]:
    """Raise with the admin's message when a "refuse" filter matches; the other matches
    are returned for holding and flagging."""
    if _exempt(actor):
        return []
    found = matches(texts_of(kind, obj))
    for match in found:
        if match.effect == "refuse":
            raise ValidationFailed(match.message or _(
                "This text contains words this instance does not accept. Please rewrite it."))
    return found


# -- holding rules --------------------------------------------------------------------------


def _word_rule(actor: Any, kind: str, obj: Any) -> str | None:
    found = refuse_if_filtered(actor, kind, obj)
    if any(m.effect == "hold" for m in found):
        return "word filter"
    if any(m.effect == "flag" for m in found):
        _flag(kind, obj, found)
    return None


def _flag(kind: str, obj: Any, found: list[Match]) -> None:
    """Published, but a case asks moderators to look at it; a note says which filter."""
    from hub.models_base import utcnow
    from hub.moderation.cases import open_case
    from hub.moderation.models import CaseNote

    db.session.flush()
    case = open_case(kind, obj, "flagged")
    patterns = ", ".join(f"« {m.pattern} »" for m in found if m.effect == "flag")
    db.session.add(CaseNote(case_id=case.id, author_id=None, created_at=utcnow(),
                            body=_("Flagged by the word filter: %(patterns)s",
                                   patterns=patterns)))


def contributions_of(account_id: int, but: tuple[str, int] | None = None) -> int:
    """Visible contributions (not held, hidden or deleted) an account has made."""
    from hub.content.models import Comment, Discussion, Event, Post, Resource

    total = 0
    for kind, model in (("post", Post), ("resource", Resource), ("discussion", Discussion),
                        ("event", Event), ("comment", Comment)):
        stmt = select(func.count()).select_from(model).where(
            model.author_id == account_id, model.hidden_at.is_(None),
            model.deleted_at.is_(None))
        if but is not None and but[0] == kind:
            stmt = stmt.where(model.id != but[1])
        if model is Post:
            stmt = stmt.where(Post.status != "draft")
        total += db.session.scalar(stmt) or 0
    return total


def _new_account_rule(actor: Any, kind: str, obj: Any) -> str | None:
    from hub.admin.queries import instance_settings

    needed = int(getattr(instance_settings(), "new_account_holds", 0) or 0)
    if needed <= 0 or _exempt(actor) or getattr(obj, "author_id", None) is None:
        return None  # replies from other servers have no local account to count
    if kind == "post" and obj.status == "draft":
        return None  # held when it is published, not while only its author sees it
    if contributions_of(obj.author_id, but=(kind, obj.id)) < needed:
        return "new account"
    return None


def _org_comments_rule(actor: Any, kind: str, obj: Any) -> str | None:
    if kind != "comment" or _exempt(actor) or obj.org_id is None:
        return None
    from hub.orgs.models import Membership, Organisation

    org = db.session.get(Organisation, obj.org_id)
    if org is None or not org.holds_comments:
        return None
    if obj.author_id is None:
        return "organisation holds comments"  # a reply from another server
    member = db.session.scalar(select(Membership.id).where(
        Membership.org_id == org.id, Membership.account_id == obj.author_id))
    return None if member else "organisation holds comments"


def screen_edit(actor: Any, kind: str, obj: Any) -> bool:
    """Word filters on an edit: refuse raises, hold hides the item again for approval,
    flag opens a case. True when the edit is held."""
    from hub.moderation.holding import hold

    found = refuse_if_filtered(actor, kind, obj)
    if any(m.effect == "hold" for m in found) and obj.hidden_at is None:
        hold(kind, obj)
        return True
    if any(m.effect == "flag" for m in found):
        _flag(kind, obj, found)
    return False


def install() -> None:
    from hub.moderation.holding import add_rule

    add_rule(_word_rule)
    add_rule(_new_account_rule)
    add_rule(_org_comments_rule)


def set_holds_comments(actor: Any, org: Any, value: bool) -> None:
    """The organisation setting: outsiders' comments in its spaces wait for approval."""
    from hub.admin.services import record_action
    from hub.orgs.access import may

    if not may("edit_rules", actor, org):
        raise PermissionDenied(_("Only admins of %(name)s may change this.", name=org.name))
    if bool(org.holds_comments) == bool(value):
        return
    org.holds_comments = bool(value)
    row = record_action(actor, "org.holds_comments", "organisation", org.id,
                        holds_comments=bool(value))
    row.org_id = org.id
    db.session.flush()


# -- managing filters --------------------------------------------------------------------------


def _require_admin(actor: Any) -> None:
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(_("Only instance administrators manage word filters."))


def add_filter(actor: Any, pattern: str, is_regex: bool, effect: str,
               message: str = "") -> WordFilter:
    from hub.models_base import utcnow

    _require_admin(actor)
    text = (pattern or "").strip()
    if not text:
        raise ValidationFailed(_("Give a word, a phrase or a regular expression."),
                               field="pattern")
    if len(text) > MAX_PATTERN:
        raise ValidationFailed(_("Use at most %(n)d characters.", n=MAX_PATTERN),
                               field="pattern")
    if effect not in EFFECTS:
        raise ValidationFailed(_("Unknown choice."), field="effect")
    if len(message or "") > MAX_MESSAGE:
        raise ValidationFailed(_("Use at most %(n)d characters.", n=MAX_MESSAGE),
                               field="message")
    try:
        compiled = compile_pattern(text, is_regex)
    except re.error as exc:
        raise ValidationFailed(_("This regular expression is not valid: %(error)s",
                                 error=str(exc)), field="pattern") from exc
    if compiled.search(""):
        raise ValidationFailed(_("This expression matches any text."), field="pattern")
    row = WordFilter(pattern=text, is_regex=bool(is_regex), effect=effect,
                     message=(message or "").strip(), created_at=utcnow(),
                     created_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    forget_cache()
    return row


def remove_filter(actor: Any, filter_id: int) -> WordFilter:
    _require_admin(actor)
    row = db.session.get(WordFilter, filter_id)
    if row is None:
        raise NotFound(_("This filter does not exist."))
    db.session.delete(row)
    db.session.flush()
    forget_cache()
    return row


def list_filters() -> list[WordFilter]:
    return list(db.session.scalars(select(WordFilter).order_by(WordFilter.id)))
