"""Signed, expiring links (e-mail confirmation, password reset).

A token carries the purpose, the account id and the account's security stamp: once the
stamp changes (password or e-mail changed), every older link dies, which makes reset links
single-use.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class TokenInvalid(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "expired" or "invalid"


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"hub.{purpose}")


def make_token(purpose: str, payload: dict[str, Any]) -> str:
    return _serializer(purpose).dumps(payload)


def read_token(purpose: str, token: str, max_age: int | None = None) -> dict[str, Any]:
    """The payload of ``token``; ``max_age`` in seconds (default: the setting's hours)."""
    if max_age is None:
        max_age = current_app.config["HUB_TOKEN_MAX_AGE_HOURS"] * 3600
    try:
        data = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenInvalid("expired") from None
    except BadSignature:
        raise TokenInvalid("invalid") from None
    if not isinstance(data, dict):
        raise TokenInvalid("invalid")
    return data
