import pytest

from ledger.auth import login, LoginError


def test_missing_password_is_rejected(client):
    with pytest.raises(LoginError):
        login(client, username="alice", password=None)


def test_empty_password_is_rejected(client):
    resp = client.post("/login", data={"username": "alice", "password": ""})
    assert resp.status_code == 400
    assert resp.json()["token"] is None


def test_token_is_issued(client, user_factory):
    user = user_factory(password=None)
    resp = client.post("/login", data={"username": user.username, "password": user.raw_password})
    assert resp.json()["token"]
