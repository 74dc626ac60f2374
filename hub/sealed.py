"""Secrets kept in the database (identity providers' client secrets) are sealed with a key
derived from HUB_SECRET_KEY, so a leaked database dump does not leak them.

Pure apart from the key, which the caller passes in. A value written before sealing
existed reads back as it is; a value sealed under another secret key reads back empty
(the admin types it again) rather than breaking the pages that list providers.
"""

from __future__ import annotations

import base64
import logging

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

log = logging.getLogger(__name__)

PREFIX = "sealed:v1:"


def _fernet(secret_key: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"maillage sealed database values").derive(secret_key.encode())
    return Fernet(base64.urlsafe_b64encode(key))


def seal(text: str, secret_key: str) -> str:
    if not text:
        return ""
    return PREFIX + _fernet(secret_key).encrypt(text.encode()).decode()


def unseal(value: str, secret_key: str) -> str:
    if not value.startswith(PREFIX):
        return value
    try:
        return _fernet(secret_key).decrypt(value[len(PREFIX):].encode()).decode()
    except InvalidToken:
        log.warning("a sealed value cannot be opened with the current HUB_SECRET_KEY")
        return ""
