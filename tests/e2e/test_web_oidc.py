"""Signing in through a force's own OpenID Provider: a real, certified provider
(panva/node-oidc-provider, installed from npm into tests/e2e/oidc) with its development login
pages, driven in headless Chromium."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crossforce.adapters.web.oidc import OidcSettings
from crossforce.adapters.web.store import Role
from tests.e2e.test_web import LAUNCH_ARGS, chromium_path  # noqa: F401 (a fixture)
from tests.e2e.web_hub import OPENED, build_hub, free_port, serve_web

PROVIDER = Path(__file__).parent / "oidc"

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def _need(reason: str) -> None:
    if os.environ.get("CROSSFORCE_REQUIRE_SERVICES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture()
def provider() -> Iterator[tuple[str, str, int]]:
    node = shutil.which("node")
    if node is None:
        _need("node is not installed")
    if not (PROVIDER / "node_modules" / "oidc-provider").is_dir():
        _need("run `npm ci` in tests/e2e/oidc to install the test OpenID Provider")
    port, app_port, secret = free_port(), free_port(), secrets.token_urlsafe(24)
    callback = f"http://127.0.0.1:{app_port}/sign-in/oidc/callback"
    process = subprocess.Popen(
        [str(node), "provider.mjs", str(port), callback, secret],
        cwd=PROVIDER,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{issuer}/.well-known/openid-configuration").raise_for_status()
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield issuer, secret, app_port
    finally:
        process.terminate()
        process.wait(timeout=10)


def _sign_in_at_provider(page: Any, login: str) -> None:
    page.click("#sign-in-oidc")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any password: the development provider accepts it")
    page.click("button[type=submit]")
    page.click("button[type=submit]")  # consent: "Continue"


def test_a_supervisor_signs_in_with_the_forces_provider(
    chromium_path: str,  # noqa: F811
    provider: tuple[str, str, int],
    tmp_path: Path,
) -> None:
    from playwright.sync_api import sync_playwright

    issuer, secret, app_port = provider
    hub = build_hub(tmp_path)
    settings = OidcSettings(issuer, "crossforce-web", secret)
    with serve_web(tmp_path, hub, port=app_port, oidc=settings) as (base, store):
        store.add_account("essex.oidc", "ESSEX", Role.SENIOR_OFFICER, None, OPENED)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_path, headless=True, args=LAUNCH_ARGS
            )
            try:
                page = browser.new_page()
                page.goto(f"{base}/sign-in")
                _sign_in_at_provider(page, "essex.oidc")
                page.wait_for_url(f"{base}/cases")
                assert "essex.oidc · Essex Police · Senior officer" in page.inner_text("header")
                # A person the provider knows but this service does not is refused.
                stranger = browser.new_page()
                stranger.goto(f"{base}/sign-in")
                _sign_in_at_provider(stranger, "not.an.account")
                stranger.wait_for_selector("#oidc-refused")
                assert stranger.url.startswith(f"{base}/sign-in/oidc/callback")
                assert stranger.goto(f"{base}/cases").url == f"{base}/sign-in"  # type: ignore[union-attr]
            finally:
                browser.close()
        # An account made for the provider has no password to guess.
        assert store.authenticate("essex.oidc", "", OPENED) is None
