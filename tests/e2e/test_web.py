"""The supervisors' web app in headless Debian Chromium, driven by Playwright, over a hub
whose cases were built through the real pipeline on a fixed clock."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crossforce.broker.scenario import case_steps
from crossforce.broker.service.queries import case_history
from tests.e2e.web_hub import (
    LATE_CASE,
    MOVED_CASE,
    OPENED,
    PASSWORD,
    Hub,
    build_hub,
    serve_web,
)

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# Screenshots go to a temporary folder, or with CROSSFORCE_SCREENSHOTS=docs/screenshots to
# the ones the README shows.
SCREENSHOTS_ENV = "CROSSFORCE_SCREENSHOTS"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CROSSFORCE_REQUIRE_SERVICES") == "1":
            pytest.fail("Debian chromium is required (apt-get install chromium)")
        pytest.skip("Debian chromium is not installed")
    return CHROMIUM


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Hub, Any]]:
    tmp = tmp_path_factory.mktemp("web")
    hub = build_hub(tmp)
    with serve_web(tmp, hub) as (base, store):
        yield base, hub, store


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium_path, headless=True, args=LAUNCH_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


def sign_in(browser: Any, base: str, username: str, **context: Any) -> Any:
    page = browser.new_context(**context).new_page()
    page.goto(f"{base}/cases")
    assert page.url.endswith("/sign-in")  # not signed in: sent to sign in
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{base}/cases")
    return page


def test_sign_in_and_sign_out(browser: Any, site: tuple[str, Hub, Any]) -> None:
    base, _, _ = site
    page = browser.new_context().new_page()
    page.goto(f"{base}/sign-in")
    page.fill("#username", "essex.sup")
    page.fill("#password", "not the password at all")
    page.click("#sign-in")
    assert page.title().startswith("Error: Sign in")
    assert "Enter a correct username and password" in page.inner_text(".error-summary")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(f"{base}/cases")
    assert "essex.sup · Essex Police" in page.inner_text("header")
    cookie = next(c for c in page.context.cookies() if c["name"] == "crossforce_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    page.click("#sign-out")
    page.wait_for_url(f"{base}/sign-in?signed-out=1")
    assert "You have signed out" in page.inner_text("main")
    # The old cookie no longer opens anything: the session ended on the server.
    stale = httpx.get(
        f"{base}/cases", cookies={"crossforce_session": cookie["value"]}, follow_redirects=False
    )
    assert stale.status_code == 303 and stale.headers["location"] == "/sign-in"


def test_one_force_cannot_see_anothers_case_even_by_url(
    browser: Any, site: tuple[str, Hub, Any]
) -> None:
    base, _, store = site
    kent = sign_in(browser, base, "kent.sup")
    assert LATE_CASE in kent.inner_text("#cases")  # Kent received it: it has a role
    shown = kent.goto(f"{base}/cases/{LATE_CASE}")
    assert shown is not None and shown.status == 200
    # The Met has no role in the late case: not listed, and not shown by its address.
    met = sign_in(browser, base, "met.sup")
    assert LATE_CASE not in met.inner_text("#cases")
    guessed = met.goto(f"{base}/cases/{LATE_CASE}")
    missing = met.context.new_page().goto(f"{base}/cases/CF-2026-999999")
    assert guessed is not None and missing is not None
    assert guessed.status == missing.status == 404
    # The same answer for "not yours" and "no such case": nothing to probe with.
    assert guessed.text() == missing.text()
    refused = [c for c in store.consultation_log(LATE_CASE) if c.username == "met.sup"]
    assert refused and not refused[-1].shown  # the attempt is on the s.62 log


def test_list_and_case_page_agree_after_a_transfer(
    browser: Any, site: tuple[str, Hub, Any]
) -> None:
    base, _, store = site
    page = sign_in(browser, base, "essex.sup")
    row = page.locator("#cases tr", has_text=MOVED_CASE)
    assert "Former: read-only" in row.inner_text()
    row.locator("a").click()
    page.wait_for_url(f"**/cases/{MOVED_CASE}")
    assert "Read-only record" in page.inner_text("#former")
    assert "ESSEX no longer has a role in this case" in page.inner_text("#former")
    assert page.locator("#send-delay").count() == 0  # nothing to act on
    seen = [c for c in store.consultation_log(MOVED_CASE) if c.username == "essex.sup"]
    assert seen[-1].shown and "supervision" in seen[-1].justification
    # The Met, now co-ordinating, sees the same case as its own.
    met = sign_in(browser, base, "met.sup")
    assert "Co-ordinating" in met.locator("#cases tr", has_text=MOVED_CASE).inner_text()


def test_an_overdue_part_shows_red_with_words(browser: Any, site: tuple[str, Hub, Any]) -> None:
    base, _, _ = site
    page = sign_in(browser, base, "essex.sup")
    page.goto(f"{base}/cases/{LATE_CASE}")
    psos = page.locator("#parts tr", has_text="PSOS")
    text = psos.inner_text()
    assert "Late by 5 working days" in text and "Red: escalated" in text
    tag = psos.locator(".tag--red").first
    assert tag.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(244, 205, 198)"
    page.goto(f"{base}/late")
    assert "Late by 5 working days" in page.locator("#late tr", has_text="PSOS").inner_text()
    # The list's filters: red and late find the late case, and not the handed-over one.
    for show in ("red", "late", "coordinating"):
        page.goto(f"{base}/cases?show={show}")
        listed = page.inner_text("#cases")
        assert LATE_CASE in listed and MOVED_CASE not in listed, show
    page.goto(f"{base}/cases?show=responding")
    assert "No cases to show." in page.inner_text("#cases")


def test_statistics_count_by_route_outcome_and_month_with_csv(
    browser: Any, site: tuple[str, Hub, Any]
) -> None:
    base, _, _ = site
    met = sign_in(browser, base, "met.sup")
    met.goto(f"{base}/statistics?from=2026-11-01&to=2026-11-30")
    assert "2026-11" in met.inner_text("#by-month") and "in progress" in met.inner_text("#by-month")
    csv = met.request.get(f"{base}/statistics.csv?from=2026-11-01&to=2026-11-30")
    assert csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    assert csv.text().splitlines() == [
        "month,route,outcome,cases",
        "2026-11,right-to-ask,in progress,1",
    ]
    # Outside the period, nothing; a reversed period is an error, shown as one.
    met.goto(f"{base}/statistics?from=2026-12-01&to=2026-12-31")
    assert "No cases opened in this period." in met.inner_text("#by-month")
    met.goto(f"{base}/statistics?from=2026-12-31&to=2026-12-01")
    assert "There is a problem" in met.inner_text(".error-summary")


def test_a_live_update_arrives_without_a_reload(browser: Any, site: tuple[str, Hub, Any]) -> None:
    base, hub, _ = site
    page = sign_in(browser, base, "surrey.sup")
    page.goto(f"{base}/cases/{LATE_CASE}")
    page.wait_for_function("() => window.htmx !== undefined")
    page.evaluate("window.notReloaded = true")
    page.focus("a[href='/owed']")
    assert "requested" in page.inner_text("#parts")
    # Surrey's own system acknowledges the enquiry through the hub.
    acknowledged = case_steps(LATE_CASE, OPENED)[3]
    assert acknowledged.sender == "SURREY"
    hub.send("SURREY", LATE_CASE, acknowledged.message)
    page.wait_for_function(
        "() => document.querySelector('#parts').innerText.includes('in progress')", timeout=15000
    )
    assert page.evaluate("window.notReloaded") is True
    assert page.evaluate("document.activeElement.getAttribute('href')") == "/owed"


def test_a_post_without_the_csrf_token_is_refused(browser: Any, site: tuple[str, Hub, Any]) -> None:
    base, _, _ = site
    page = sign_in(browser, base, "essex.sup")
    forged = page.request.post(
        f"{base}/cases/{LATE_CASE}/delay-notified",
        form={"part_id": "part-3", "reason": "forged"},
        max_redirects=0,
    )
    assert forged.status == 403
    sign_out = page.request.post(f"{base}/sign-out", form={}, max_redirects=0)
    assert sign_out.status == 403
    page.goto(f"{base}/cases")
    assert page.url == f"{base}/cases"  # still signed in


def test_an_action_is_a_signed_envelope_the_hub_accepts(
    browser: Any, site: tuple[str, Hub, Any]
) -> None:
    base, hub, _ = site
    page = sign_in(browser, base, "essex.sup")
    page.goto(f"{base}/cases/{LATE_CASE}")
    page.wait_for_function("() => window.htmx !== undefined")
    page.select_option("#part_id", "part-3")
    page.fill("#reason", "Police Scotland's checks are taking longer than planned")
    page.click("#send-delay")
    # htmx swaps the actions region in place and moves focus to the receipt.
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.id === 'flash'", timeout=15000
    )
    assert "Sent and accepted by the hub" in page.inner_text("#flash")
    line = timeline_line(page, "delay-notified")
    assert "Accepted by the hub" in line and "ESSEX" in line and "essex.sup" in line


def timeline_line(page: Any, message_type: str) -> str:
    """The timeline row of a message, once the live update has brought it in."""
    row = page.locator("#timeline tr", has_text=message_type)
    row.first.wait_for(timeout=15000)
    text: str = row.last.inner_text()
    return text


def history(hub: Hub, event: str) -> Any:
    [line] = [h for h in case_history(hub.engine, LATE_CASE) if h.event == event]
    return line


def test_a_supervisor_acknowledges_an_escalation_sent_to_the_force(
    browser: Any, site: tuple[str, Hub, Any]
) -> None:
    base, hub, _ = site
    page = sign_in(browser, base, "essex.sup")
    page.goto(f"{base}/cases/{LATE_CASE}")
    page.wait_for_function("() => window.htmx !== undefined")
    assert "Acknowledge the escalation on part-3 (level 3)" in page.inner_text("#tasks")
    waiting = page.locator("#escalation_id option", has_text="part-3 (PSOS): level 3")
    page.select_option("#escalation_id", waiting.get_attribute("value"))
    page.click("#send-ack")
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.id === 'flash'", timeout=15000
    )
    assert "Sent and accepted by the hub" in page.inner_text("#flash")
    # The notice now shows who acknowledged it, and it is no longer offered.
    row = page.locator("#escalations tr", has_text="Escalation").filter(has_text="part-3")
    page.wait_for_function(
        "() => document.querySelector('#escalations').innerText.includes('By essex.sup')",
        timeout=15000,
    )
    assert "By essex.sup (ESSEX)" in row.inner_text()
    assert page.locator("#escalation_id option", has_text="part-3 (PSOS): level 3").count() == 0
    line = timeline_line(page, "escalation-acknowledged")
    assert "Accepted by the hub" in line and "essex.sup" in line and "PSOS" in line
    assert history(hub, "escalation-acknowledged").acted_by == "essex.sup"


def test_the_coordinating_force_chases_an_owner_from_the_keyboard(
    browser: Any, site: tuple[str, Hub, Any]
) -> None:
    base, hub, _ = site
    page = sign_in(browser, base, "essex.sup")
    page.goto(f"{base}/cases/{LATE_CASE}")
    page.wait_for_function("() => window.htmx !== undefined")
    page.focus("#chase-part")
    page.select_option("#chase-part", "part-3")  # as the arrow keys would
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "chase-note"
    page.keyboard.type("The applicant has asked for news twice this week")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "send-chase"
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.id === 'flash'", timeout=15000
    )
    assert "Sent and accepted by the hub" in page.inner_text("#flash")
    line = timeline_line(page, "part-chased")
    assert "essex.sup" in line and "PSOS" in line  # delivered to the owner
    chased = history(hub, "part-chased")
    assert chased.acted_by == "essex.sup" and "part_owner=PSOS" in chased.summary
    assert "note=The applicant has asked for news twice this week" in chased.summary


def test_an_owner_reassigns_its_part_within_the_force_without_javascript(
    browser: Any, site: tuple[str, Hub, Any]
) -> None:
    base, hub, _ = site
    # Without JavaScript the same form posts, redirects and shows the receipt.
    page = sign_in(browser, base, "surrey.sup", java_script_enabled=False)
    page.goto(f"{base}/cases/{LATE_CASE}")
    page.select_option("#reassign-part", "part-2")
    page.check("#assignee-team")
    page.fill("#assigned_to", "SURREY-DA-7")
    page.click("#send-reassign")
    page.wait_for_url(re.compile(rf".*/cases/{LATE_CASE}#actions$"))
    assert "Sent and accepted by the hub" in page.inner_text("#flash")
    assert "team SURREY-DA-7" in page.locator("#parts tr", has_text="part-2").inner_text()
    line = timeline_line(page, "part-reassigned")
    assert "surrey.sup" in line and "ESSEX" in line  # the co-ordinating force is told
    assert history(hub, "part-reassigned").acted_by == "surrey.sup"
    # A name is not a reference: the message refuses it before anything is sent.
    page.select_option("#reassign-part", "part-2")
    page.fill("#assigned_to", "DC Jo Example")
    page.click("#send-reassign")
    page.wait_for_url(re.compile(rf".*/cases/{LATE_CASE}#actions$"))
    assert "Not sent: SCHEMA_INVALID: the staff number or team code" in page.inner_text("#flash")
    # Essex, co-ordinating, sees who holds Surrey's part now, and who said so.
    essex = sign_in(browser, base, "essex.sup")
    essex.goto(f"{base}/cases/{LATE_CASE}")
    assert "team SURREY-DA-7" in essex.locator("#parts tr", has_text="part-2").inner_text()
    received = timeline_line(essex, "part-reassigned")
    assert "surrey.sup" in received and "Delivered by the hub" in received


def test_security_headers_and_head(site: tuple[str, Hub, Any]) -> None:
    base, _, _ = site
    for method in ("GET", "HEAD"):
        response = httpx.request(method, f"{base}/sign-in")
        assert response.status_code == 200
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"
    assert httpx.head(f"{base}/static/htmx.min.js").status_code == 200


PAGES = [
    ("sign-in", None, "/sign-in"),
    ("cases", "essex.sup", "/cases"),
    ("case", "essex.sup", f"/cases/{LATE_CASE}"),
    ("case-owner", "surrey.sup", f"/cases/{LATE_CASE}"),
    ("case-former", "essex.sup", f"/cases/{MOVED_CASE}"),
    ("late", "essex.sup", "/late"),
    ("owed", "surrey.sup", "/owed"),
    ("statistics", "essex.sup", "/statistics"),
    ("not-found", "essex.sup", "/cases/CF-2026-999999"),
]


@pytest.mark.parametrize(("name", "user", "path"), PAGES, ids=[p[0] for p in PAGES])
def test_axe_finds_no_serious_violations(
    browser: Any,
    site: tuple[str, Hub, Any],
    name: str,
    user: str | None,
    path: str,
    tmp_path: Path,
) -> None:
    base, _, _ = site
    # axe is injected as a script; the app's own CSP forbids that, so this context bypasses it.
    options = {"bypass_csp": True, "viewport": {"width": 1100, "height": 900}}
    if user is None:
        page = browser.new_context(**options).new_page()
    else:
        page = sign_in(browser, base, user, **options)
    page.goto(f"{base}{path}")
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert result["testEngine"]["name"] == "axe-core"
    assert serious == [], serious
    folder = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    # And readable on a phone: nothing wider than the screen but the tables' own scroll.
    page.set_viewport_size({"width": 375, "height": 800})
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 375, f"{name} is {overflow}px wide on a 375px screen"
