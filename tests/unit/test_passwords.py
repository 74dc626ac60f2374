"""hub/accounts/passwords.py: argon2id hashing and the strength rules. Pure."""

from __future__ import annotations

import pytest

from hub.accounts import passwords
from hub.accounts.passwords import (
    MAX_LENGTH,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)

GOOD = "correct horse battery staple"


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_password(GOOD)


def test_hash_is_argon2id_and_salted(stored):
    assert stored.startswith("$argon2id$")
    assert hash_password(GOOD) != stored
    assert not needs_rehash(stored)


def test_right_password_verifies(stored):
    assert verify_password(stored, GOOD)


@pytest.mark.parametrize("attempt", ["", "correct horse battery stapl", GOOD.upper(), GOOD + " "])
def test_wrong_password_does_not_verify(stored, attempt):
    assert not verify_password(stored, attempt)


def test_no_hash_or_garbage_hash_never_verifies():
    assert not verify_password(None, GOOD)
    assert not verify_password("", GOOD)
    assert not verify_password("not-a-hash", GOOD)


def test_missing_hash_still_spends_a_hash(monkeypatch):
    """Unknown accounts must cost as much as known ones, or timing tells which exist."""
    calls = []
    real = passwords._hasher

    class Spy:
        def hash(self, password):
            calls.append(password)
            return real.hash(password)

    monkeypatch.setattr(passwords, "_hasher", Spy())
    verify_password(None, GOOD)
    assert calls


def test_over_long_password_is_refused_before_hashing(stored):
    assert not verify_password(stored, "x" * (MAX_LENGTH + 1))


@pytest.mark.parametrize(("password", "problem"), [
    ("short", "too_short"),
    ("nine-char", "too_short"),
    ("x" * (MAX_LENGTH + 1), "too_long"),
    ("1234567890", "common"),
    ("azertyuiop", "common"),
    ("Password123", "common"),
    ("MotDePasse123", "common"),
    ("aaaaaaaaaaaa", "common"),
    ("abababababab", "common"),
    ("alice-is-the-best", "personal"),
    ("my ALICE password", "personal"),
    ("jdupont-rules-ok", "personal"),
])
def test_weak_passwords_are_refused(password, problem):
    assert password_problem(password, handle="alice", email="jdupont@example.org") == problem


@pytest.mark.parametrize("password", [GOOD, "Tr0ub4dor&3-x", "ten chars!", "é" * 3 + "abcdefg"])
def test_reasonable_passwords_pass(password):
    assert password_problem(password, handle="alice", email="jdupont@example.org") is None


def test_short_handles_and_mailboxes_do_not_forbid_common_letters():
    assert password_problem("absolutely fine", handle="ab", email="abc@example.org") is None


def test_production_hashes_use_argon2_cffi_recommended_parameters():
    """The suite hashes cheaply (tests/plugins/factories.py); the module itself does not."""
    import importlib.util

    spec = importlib.util.find_spec("hub.accounts.passwords")
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    assert fresh._hasher.memory_cost >= 65536
    assert fresh._hasher.time_cost >= 3
    assert fresh.hash_password(GOOD).startswith("$argon2id$v=19$m=65536,t=3")
