"""Handle rules shared by accounts and organisations. Pure: no Flask, database or network."""

from __future__ import annotations

import re
import unicodedata

HANDLE_RE = re.compile(r"^[a-z0-9_]{2,30}$")

#: Words that would shadow a route, a well-known path or an authority.
RESERVED = frozenset({
    "about", "account", "accounts", "activity", "actor", "admin", "administrator", "api",
    "app", "assets", "auth", "charter", "contact", "directory", "events", "explore", "feed",
    "feeds", "followers", "following", "healthz", "help", "hub", "inbox", "instance", "invite",
    "invitations", "locale", "login", "logout", "maillage", "media", "moderation", "moderator",
    "nodeinfo", "oauth", "org", "orgs", "outbox", "postmaster", "register", "resources",
    "root", "search", "settings", "signup", "static", "support", "system", "tags", "themes",
    "user", "users", "webfinger", "well_known", "wellknown", "www", "abuse", "security",
    "noreply", "no_reply", "hostmaster", "webmaster", "staff", "team", "official",
})


def display_handle(raw: str) -> str:
    """The handle as it is stored and shown: NFKC (fullwidth → ASCII), trimmed, case kept.

    A leading "@" is dropped so people can type "@name".
    """
    return unicodedata.normalize("NFKC", raw).strip().lstrip("@")


def canonical_handle(raw: str) -> str:
    """The form two handles are compared in: the display form, case-folded."""
    return display_handle(raw).casefold()


def handle_problem(raw: str) -> str | None:
    """Why this handle cannot be used, or None. Messages are keys the caller translates."""
    shown = display_handle(raw)
    key = shown.casefold()
    if len(key) < 2:
        return "too_short"
    if len(key) > 30:
        return "too_long"
    # The alphabet is checked before case folding too: casefold() turns "ß" into "ss",
    # which would let "Straße" through under a handle that is not a–z.
    if not HANDLE_RE.match(key) or not HANDLE_RE.match(shown.lower()):
        return "alphabet"
    if key.strip("_") != key or "__" in key:
        return "underscores"
    if key in RESERVED or key.replace("_", "") in RESERVED:
        return "reserved"
    return None
