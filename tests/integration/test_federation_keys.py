"""Actor key pairs: made once on first use, stable, usable to sign and verify."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from sqlalchemy import func, select

from hub.extensions import db
from hub.federation.keys import instance_key_pair, key_pair
from hub.federation.models import ActorKey


def test_a_key_is_made_once_and_then_read_back(app):
    first = key_pair("organisation", 7)
    again = key_pair("organisation", 7)
    assert first == again
    assert first.public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert first.private_key.key_size == 2048
    other = key_pair("account", 7)
    assert other.public_pem != first.public_pem
    assert instance_key_pair().public_pem not in {first.public_pem, other.public_pem}
    db.session.rollback()  # committed at creation: a rollback keeps them
    assert db.session.scalar(select(func.count()).select_from(ActorKey)) == 3


def test_the_private_key_signs_what_the_public_key_verifies(app):
    pair = key_pair("account", 1)
    signature = pair.private_key.sign(b"message", padding.PKCS1v15(), hashes.SHA256())
    public = serialization.load_pem_public_key(pair.public_pem.encode())
    public.verify(signature, b"message", padding.PKCS1v15(), hashes.SHA256())


def test_an_unknown_owner_type_is_refused(app):
    import pytest

    with pytest.raises(ValueError):
        key_pair("remote", 1)
