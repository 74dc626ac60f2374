"""A real browser signs in with the association's identity provider (the oidc-provider peer):
"Sign in with …", the provider's login and consent pages, a handle, the charter, home."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import start_live_server
from tests.plugins.app import free_port
from tests.plugins.oidc_peer import CLIENT_ID, CLIENT_SECRET, OidcPeer

pytestmark = pytest.mark.e2e


@pytest.fixture
def hub_with_provider(make_app, database_url, tmp_path):
    port = free_port()
    peer = OidcPeer(free_port(), (f"http://127.0.0.1:{port}/auth/callback",))
    peer.start()
    config = tmp_path / "providers.toml"
    config.write_text(f'''[[providers]]
slug = "asso"
label = "Asso SSO"
discovery_url = "{peer.discovery_url}"
client_id = "{CLIENT_ID}"
client_secret = "{CLIENT_SECRET}"
trust_email = true
''')
    try:
        # requests-oauthlib refuses plain http unless told: the loopback provider needs it.
        with start_live_server(make_app, database_url, tmp_path, port=port,
                               OAUTHLIB_INSECURE_TRANSPORT="1",
                               HUB_OIDC_PROVIDERS=str(config)) as server:
            yield server
    finally:
        peer.stop()


def test_sign_in_with_the_provider_creates_an_account_and_lands_logged_in(
        browser, hub_with_provider):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(hub_with_provider.url + "/login")
    page.get_by_role("link", name="Sign in with Asso SSO").click()
    # The provider's own pages.
    page.locator("input[name=login]").fill("alice")
    page.locator("input[name=password]").fill("alice-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Allow").click()
    # Back on the hub: choose a handle (proposed from the claims), accept the charter.
    page.wait_for_url("**/auth/welcome")
    handle = page.get_by_label("Handle")
    assert handle.input_value() == "alice"
    page.get_by_label("I accept the instance charter").check()
    page.get_by_role("button", name="Create my account").click()
    page.wait_for_url("**/me")
    assert "Welcome, Alice! Your account is ready." in page.content()
    assert page.get_by_role("link", name="@alice").is_visible()
    context.close()
