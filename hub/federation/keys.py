"""Key pairs of local actors: made once, on first use; parsed keys kept per process.

Parsing a PEM private key costs ~30 ms (shared/BENCH.md), so the parsed key objects are
kept in a small per-process cache keyed by the row id; a key never changes once made.
Two requests that make the same actor's first key at once are settled by the unique
constraint: the loser reads the winner's row.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hub.extensions import db
from hub.federation.models import OWNER_TYPES, ActorKey

KEY_SIZE = 2048
#: The instance's own actor has no row of its own elsewhere.
INSTANCE_OWNER_ID = 0


@dataclass(frozen=True)
class KeyPair:
    id: int
    public_pem: str
    private_pem: str

    @property
    def private_key(self) -> RSAPrivateKey:
        return _parsed(self.id, self.private_pem)


@lru_cache(maxsize=4096)
def _parsed(key_id: int, private_pem: str) -> RSAPrivateKey:
    key = serialization.load_pem_private_key(private_pem.encode("ascii"), password=None)
    assert isinstance(key, RSAPrivateKey)
    return key


def generate_pem_pair() -> tuple[str, str]:
    """A fresh RSA-2048 pair as (public PEM, private PKCS#8 PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode("ascii")
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")
    return public, private


def _find(owner_type: str, owner_id: int) -> ActorKey | None:
    return db.session.scalar(select(ActorKey).where(ActorKey.owner_type == owner_type,
                                                    ActorKey.owner_id == owner_id))


def key_pair(owner_type: str, owner_id: int, *, commit: bool = True) -> KeyPair:
    """The actor's key pair, made the first time.

    A new key is committed at once (``commit``): a GET serving an actor document must not
    hand out a public key that a rollback would forget. Services that make keys inside a
    larger change pass ``commit=False`` and commit with it.
    """
    if owner_type not in OWNER_TYPES:
        raise ValueError(f"unknown owner type {owner_type!r}")
    row = _find(owner_type, owner_id)
    if row is None:
        public, private = generate_pem_pair()
        try:
            with db.session.begin_nested():
                row = ActorKey(owner_type=owner_type, owner_id=owner_id, public_pem=public,
                               private_pem=private)
                db.session.add(row)
                db.session.flush()
        except IntegrityError:  # another request made it first: theirs is the key
            row = _find(owner_type, owner_id)
            assert row is not None
        else:
            if commit:
                db.session.commit()
    return KeyPair(id=row.id, public_pem=row.public_pem, private_pem=row.private_pem)


def instance_key_pair() -> KeyPair:
    return key_pair("instance", INSTANCE_OWNER_ID)
