def test_home_and_health(client):
    assert client.get("/").status_code == 200
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


def test_login_with_factory_account(make_account, login, client):
    account = make_account("alice")
    login(account)
    page = client.get("/me")
    assert page.status_code == 200
