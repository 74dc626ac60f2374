"""Helpers shared by the test_admin_* files and test_registration_modes."""

from __future__ import annotations

from tests.plugins.factories import PASSWORD

#: A complete, valid post of the instance settings form.
SETTINGS_FORM = {
    "name": "Réseau Coredem",
    "description": "Un réseau de centres de documentation.",
    "contact_email": "contact@coredem.example",
    "default_locale": "fr",
    "registration_mode": "approval",
    "org_creation": "admins",
}


def log_in(client, account, password: str = PASSWORD):
    """Log ``account`` in on ``client`` (any test client of the app) through the real form."""
    response = client.post("/login", data={"login": account.handle, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client
