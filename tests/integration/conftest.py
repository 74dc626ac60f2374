"""Fixtures shared by the integration tests of the inbox and of content: a stand-in
ActivityPub peer on loopback and the organisation they post to. A test module that
needs another organisation or peer defines its own fixture of the same name."""

from __future__ import annotations

import pytest

from tests.integration.inbox_support import serve_peer


@pytest.fixture
def peer():
    with serve_peer() as server:
        yield server


@pytest.fixture
def org(make_org, make_account):
    return make_org(owner=make_account("fondatrice"), handle="collectif", name="Collectif")
