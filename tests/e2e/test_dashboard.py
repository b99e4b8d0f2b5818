"""The supervisor dashboard in headless Debian Chromium, driven by Playwright."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.sql.engine import make_engine
from adapters.sql.schema import metadata
from adapters.web.dashboard import Dashboard
from broker.scenario import FORCES, case_steps
from broker.secrets import load_or_create
from broker.service.case_handlers import CaseHandlers
from broker.service.pipeline import HubPipeline, Inbound
from contracts.compose import compose
from contracts.forces import FORCES as DIRECTORY
from contracts.pki import EphemeralPki
from contracts.signing import sign_envelope

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CASE_REF = "CF-2026-000777"


@pytest.fixture()
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CROSSFORCE_REQUIRE_SERVICES") == "1":
            pytest.fail("Debian chromium is required (apt-get install chromium)")
        pytest.skip("Debian chromium is not installed")
    return CHROMIUM


@pytest.fixture()
def late_case(tmp_path: Path) -> tuple[object, datetime]:
    """A case where Police Scotland's enquiry is late: built through the real pipeline."""
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    metadata.create_all(engine)
    # A fixed Monday with no holiday within the case's working days in any jurisdiction.
    now = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    pki = EphemeralPki(FORCES, now=now)
    handlers = CaseHandlers(engine, subject_key_secret=load_or_create(tmp_path).subject_key_secret)
    pipeline = HubPipeline(engine, pki.trust_store(), pki.key("HUB"), handlers, clock=lambda: now)
    for sequence, step in enumerate(case_steps(CASE_REF, now)[:3], start=1):
        envelope = sign_envelope(
            compose(
                step.message,
                sender=step.sender,
                case_ref=CASE_REF,
                jurisdiction=DIRECTORY[step.sender].jurisdiction,
                time=now,
            ),
            pki.key(step.sender),
        )
        result = pipeline.process(
            Inbound(envelope.to_bytes(), f"cf.in.0.{step.sender}.{CASE_REF}", sequence, now)
        )
        assert result.accepted, result.detail
    return engine, now + timedelta(days=14)


@pytest.fixture()
def served(late_case: tuple[object, datetime]) -> Iterator[str]:
    engine, later = late_case
    server = Dashboard(engine, "ESSEX", clock=lambda: later).serve("127.0.0.1", 0)  # type: ignore[arg-type]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def test_supervisor_sees_late_parts_and_drills_into_the_case(
    chromium_path: str, served: str
) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page()
            page.goto(served)
            assert page.title() == "ESSEX: responses to track"
            overdue = page.locator("#overdue")
            # Surrey and Police Scotland's enquiries, and Essex's own 24-hour initial checks.
            assert overdue.locator("td.late").count() == 3
            assert "PSOS" in overdue.inner_text() and "SURREY" in overdue.inner_text()
            assert "ew-right-to-ask.initial-checks" in overdue.inner_text()
            page.click(f"#overdue a[href='/case/{CASE_REF}']")
            page.wait_for_url(f"**/case/{CASE_REF}")
            parts = page.locator("#parts").inner_text()
            assert "PSOS" in parts and "enquiry" in parts
            assert "co-ordinating ESSEX" in page.content()
        finally:
            browser.close()


def test_api_lists_only_what_the_force_may_see(late_case: tuple[object, datetime]) -> None:
    engine, later = late_case
    kent = Dashboard(engine, "KENT", clock=lambda: later)  # type: ignore[arg-type]
    psos = Dashboard(engine, "PSOS", clock=lambda: later)  # type: ignore[arg-type]
    assert kent.overdue_json() == []  # Kent received the case; it owns no part of the work
    assert {p["owner_force"] for p in psos.overdue_json()} == {"PSOS"}
