"""Error pages: a clear page for people, problem details for API clients, no leak."""

from __future__ import annotations

import pytest


def test_unknown_page_is_a_404_page(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Page not found" in page and "<h1>" in page


def test_api_clients_get_problem_details(client):
    response = client.get("/no/such/page", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["status"] == 404


def test_wrong_method_is_a_405_page(client):
    response = client.delete("/orgs")
    assert response.status_code == 405
    assert "Method not allowed" in response.get_data(as_text=True)


@pytest.fixture
def crashing_app(make_app):
    app = make_app()

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internal detail")

    return app


def test_an_unexpected_error_is_a_500_page_without_details(crashing_app, caplog):
    with crashing_app.app_context():
        response = crashing_app.test_client().get("/boom")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page
    assert "secret internal detail" not in page and "Traceback" not in page
    assert "secret internal detail" in caplog.text  # but the log has it


def test_french_error_page(client):
    response = client.get("/nope", headers={"Accept-Language": "fr"})
    assert response.status_code == 404
    assert 'lang="fr"' in response.get_data(as_text=True)
