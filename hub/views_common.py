"""Helpers every blueprint shares: the acting account, service refusals shown on forms,
safe redirect targets. Shell code: it reads the request, so services never call it."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request
from flask_login import current_user

from hub.accounts.models import Account
from hub.errors import HubError


def me() -> Account:
    """The logged-in account itself, not Flask-Login's proxy: services compare accounts by
    identity, and a proxy is never the account it stands for."""
    return current_user._get_current_object()


def form_error(form, exc: HubError) -> None:
    """Show a service's refusal next to its field, or at the top of the form."""
    field = getattr(form, exc.field, None) if exc.field else None
    if field is not None:
        field.errors = [*field.errors, exc.message]
    else:
        form.form_errors.append(exc.message)


def is_local_path(target: str) -> bool:
    """True for a path on this site, safe to redirect to.

    Browsers drop tabs and newlines from URLs and read a backslash as "/", so "/<TAB>/evil"
    and "/<BACKSLASH>evil" both lead to another host: refuse any control character, blank
    or backslash, then anything with a scheme or a host.
    """
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    if any(ord(char) <= 0x20 or ord(char) == 0x7F for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(default: str) -> str:
    """The ``next`` query argument when it stays on this site, else ``default``."""
    target = request.args.get("next", "")
    return target if is_local_path(target) else default


def current_locale_code() -> str:
    from flask_babel import get_locale

    return str(get_locale())
