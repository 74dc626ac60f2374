"""Password hashing with argon2id (argon2-cffi's recommended parameters) and the strength
rules. Pure: no Flask, database or network."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

MIN_LENGTH = 10
MAX_LENGTH = 256
#: Fewer different characters than this ("aaaaaaaaaa", "ababababab") is too simple.
MIN_DISTINCT = 4

#: The most used passwords of ten characters or more (shorter ones fail the length rule),
#: from public breach lists, English and French.
COMMON = frozenset({
    "0123456789", "1234567890", "12345678910", "0987654321", "9876543210", "123456789a",
    "1234567890a", "a123456789", "abc1234567", "abcd123456", "1q2w3e4r5t", "1qaz2wsx3edc",
    "qwertyuiop", "qwerty1234", "qwerty12345", "qwertyuiop123", "azertyuiop", "azerty1234",
    "azerty12345", "azertyuiop123", "password12", "password123", "password1234",
    "password!!", "passw0rd12", "p@ssw0rd123", "motdepasse", "motdepasse1", "motdepasse12",
    "motdepasse123", "iloveyou12", "iloveyou123", "jetaime1234", "football12", "football123",
    "welcome123", "welcome1234", "letmein123", "changeme123", "administrator", "admin12345",
    "admin123456", "soleil1234", "bonjour123", "bonjour1234", "marseille13", "doudou1234",
    "superman123", "starwars123", "princess12", "sunshine12", "trustno1234", "abcdefghij",
    "abcdefghijk", "maillage123", "maillage2024",
})


def password_problem(password: str, *, handle: str = "", email: str = "") -> str | None:
    """Why this password is refused, or None. Keys the caller translates:
    ``too_short``, ``too_long``, ``common`` (well known or too simple), ``personal``
    (contains the handle or the e-mail's local part)."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if len(password) > MAX_LENGTH:
        return "too_long"
    lowered = password.lower()
    if lowered in COMMON or len(set(lowered)) < MIN_DISTINCT:
        return "common"
    local = email.split("@")[0].lower()
    name = handle.strip().lstrip("@").lower()
    if (len(name) >= 3 and name in lowered) or (len(local) > 3 and local in lowered):
        return "personal"
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash or len(password) > MAX_LENGTH:
        # Spend the same time as a real check, so timing tells nothing.
        _hasher.hash("timing-equaliser")
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
