"""Session cookie flags under TLS, HSTS, and CSRF on the sign-in form, without a browser."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import httpx

from crossforce.adapters.sql.engine import make_engine, open_read_only
from crossforce.adapters.sql.schema import metadata
from crossforce.adapters.web.app import WebConfig, create_app
from crossforce.adapters.web.store import Role, WebStore

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
PASSWORD = "a long enough passphrase"


def _client(tmp_path: Path, tls: bool) -> httpx.AsyncClient:
    url = f"sqlite:///{tmp_path / 'crossforce.db'}"
    metadata.create_all(make_engine(url))
    store = WebStore.open(f"sqlite:///{tmp_path / 'web.db'}")
    store.add_account("essex.sup", "ESSEX", Role.SUPERVISOR, PASSWORD, NOW)
    config = WebConfig(open_read_only(url), store, "k" * 40, tls=tls, clock=lambda: NOW)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(config)),
        base_url="https://testserver" if tls else "http://testserver",
    )


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found[1]


async def test_with_tls_the_cookie_is_secure_and_hsts_is_sent(tmp_path: Path) -> None:
    client = _client(tmp_path, tls=True)
    page = await client.get("/sign-in")
    assert page.headers["strict-transport-security"].startswith("max-age=")
    signed_in = await client.post(
        "/sign-in",
        data={"username": "essex.sup", "password": PASSWORD, "csrf_token": _token(page.text)},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    cookie = signed_in.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=lax" in cookie


async def test_without_tls_there_is_no_hsts_and_sign_in_needs_the_token(tmp_path: Path) -> None:
    client = _client(tmp_path, tls=False)
    page = await client.get("/sign-in")
    assert "strict-transport-security" not in page.headers
    forged = await client.post(
        "/sign-in", data={"username": "essex.sup", "password": PASSWORD}, follow_redirects=False
    )
    assert forged.status_code == 403
    cases = await client.get("/cases", follow_redirects=False)
    assert cases.headers["location"] == "/sign-in"
