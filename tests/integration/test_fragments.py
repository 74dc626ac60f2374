"""The visitor's site header is rendered once per language and settings, never stale."""

from __future__ import annotations

from hub.admin.services import ensure_settings
from hub.extensions import db


def _header(html: str) -> str:
    return html[html.index('<header class="site-header">'):html.index("</header>")]


def _page(client, language: str) -> str:
    # /search is never served from the page cache: each request shows the header as the
    # fragment cache gives it.
    return client.get("/search?q=x", headers={"Accept-Language": language}).get_data(
        as_text=True)


def test_the_visitor_header_follows_language_and_settings(app, client):
    settings = ensure_settings()
    settings.name = "Réseau des jardins"
    settings.registration_mode = "open"
    db.session.commit()
    french = _header(_page(client, "fr"))
    assert "Réseau des jardins" in french and "S'inscrire" in french
    english = _header(_page(client, "en"))
    assert "Sign up" in english and "inscrire" not in english

    settings = ensure_settings()
    settings.name = "Jardins en réseau"
    settings.registration_mode = "closed"
    db.session.commit()
    closed = _header(_page(client, "en"))
    assert "Jardins en réseau" in closed and "Sign up" not in closed


def test_members_get_their_own_header(app, client, make_account, login):
    account = make_account(handle="camille")
    _page(client, "en")  # a visitor's header first
    login(account)
    html = _header(_page(client, "en"))
    assert "@camille" in html and "Log out" in html and "Log in" not in html
