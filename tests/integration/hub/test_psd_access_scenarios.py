"""Every attempt to read a case with a police employee among its parties reaches the employing
force's PSD, through its own ForceClient, and no one else: `crossforce case` and a web-app
case page alike, shown or refused (002 L899–975; 003 §6.14; decision 0051). The SQLite-only
checks of each step are in tests/unit/test_case_reads.py."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from hub_helpers import FORCES, drain, eventually, names_by_force
from typer.testing import CliRunner, Result

from crossforce.adapters.client.force_client import ForceClient
from crossforce.adapters.sql import schema
from crossforce.adapters.sql.engine import open_read_only
from crossforce.adapters.sql.report_queue import open_report_queue
from crossforce.adapters.testing.payloads import A_APPLICANT, opened, party
from crossforce.adapters.web.app import WebConfig, create_app
from crossforce.adapters.web.store import Role, WebStore
from crossforce.broker.cli import main
from crossforce.broker.runtime import RunningBroker
from crossforce.contracts.envelope import Envelope
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.messages.case import CaseAccessReported
from crossforce.contracts.pki import EphemeralPki

CASE = "CF-2026-500101"  # B lives in Essex and is a Surrey officer
PLAIN = "CF-2026-500102"  # nobody in it is a police employee
PSDS = ("SURREY_PSD", "ESSEX_PSD")
WEB_NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)  # the web app's clock
PASSWORD = "a long enough passphrase"
runner = CliRunner()


@pytest.fixture()
def pki() -> EphemeralPki:
    return EphemeralPki([*FORCES, *PSDS])


@pytest.fixture()
async def psds(running: RunningBroker, pki: EphemeralPki) -> AsyncIterator[dict[str, ForceClient]]:
    trust = pki.trust_store()
    connected = {
        code: await ForceClient(
            force=code, key=pki.key(code), trust=trust, nats_url=running.nats_url
        ).connect()
        for code in PSDS
    }
    yield connected
    for client in connected.values():
        await client.close()


@pytest.fixture()
async def officer_case(
    clients: dict[str, ForceClient], psds: dict[str, ForceClient]
) -> AsyncIterator[None]:
    """Kent receives, Essex co-ordinates; the opening notices are read and put aside."""
    for case_ref, extra in ((CASE, {"police_employee_of": "SURREY"}), (PLAIN, {})):
        parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "ESSEX", **extra)]
        receipt = await clients["KENT"].send(opened("KENT", "ESSEX", parties), case_ref=case_ref)
        assert receipt.accepted, receipt.receipt.message
    [notice] = await drain(psds["SURREY_PSD"])
    assert notice.name == "police-employee-party-notified"
    await names_by_force(clients, "KENT", "ESSEX", "SURREY", "METROPOLITAN")
    yield


async def crossforce_case(running: RunningBroker, *args: str) -> Result:
    main._register()
    data_dir = str(running.settings.data_dir)
    argv = ["case", *args, "--data-dir", data_dir]
    return await asyncio.to_thread(runner.invoke, main.app, argv)


async def next_report(client: ForceClient, timeout: float = 20.0) -> CaseAccessReported:
    """The next delivery to a PSD, which must be a hub-signed access report."""
    async with contextlib.aclosing(client.deliveries(idle_timeout=timeout)) as stream:
        async for delivery in stream:
            await delivery.ack()
            return _report(delivery.envelope)
    raise AssertionError(f"{client.force} was told nothing within {timeout}s")


def _report(envelope: Envelope) -> CaseAccessReported:
    assert (envelope.name, envelope.senderforce, envelope.recipient_codes) == (
        "case-access-reported",
        "HUB",
        ("SURREY_PSD",),
    )
    assert envelope.caseref == CASE
    return CaseAccessReported.model_validate(envelope.data)


async def nobody_else_heard(clients: dict[str, ForceClient], psds: dict[str, ForceClient]) -> None:
    heard = await names_by_force(clients, "KENT", "ESSEX", "SURREY", "METROPOLITAN")
    assert heard == {"KENT": [], "ESSEX": [], "SURREY": [], "METROPOLITAN": []}
    assert await drain(psds["ESSEX_PSD"]) == []
    assert await drain(psds["SURREY_PSD"]) == []


@pytest.mark.usefixtures("officer_case")
async def test_crossforce_case_is_reported_to_the_employing_forces_psd_alone(
    running: RunningBroker, clients: dict[str, ForceClient], psds: dict[str, ForceClient]
) -> None:
    shown = await crossforce_case(running, CASE, "--force", "ESSEX", "--by", "DS Essex")
    assert shown.exit_code == 0, shown.output
    report = await next_report(psds["SURREY_PSD"])
    assert (report.reader_force, report.reader, report.channel.value) == (
        "ESSEX",
        "DS Essex",
        "cli",
    )
    assert (report.allowed, report.employing_force, report.party_ids) == (True, "SURREY", ["P2"])
    assert "Sample" not in report.model_dump_json()  # the scenario's B is never named

    # A force with no part is refused, and the attempt is reported as refused.
    refused = await crossforce_case(running, CASE, "--force", "METROPOLITAN", "--by", "PC Met")
    assert isinstance(refused.exception, ContractError)
    assert refused.exception.code is ReasonCode.NOT_AUTHORISED
    report = await next_report(psds["SURREY_PSD"])
    assert (report.reader_force, report.allowed) == ("METROPOLITAN", False)

    # Essex's own DVDS system (the co-ordinating force), Kent, Surrey's DVDS system and every
    # other PSD hear nothing of either read.
    await nobody_else_heard(clients, psds)


@pytest.mark.usefixtures("officer_case")
async def test_a_web_case_page_is_reported_to_the_employing_forces_psd_alone(
    running: RunningBroker,
    clients: dict[str, ForceClient],
    psds: dict[str, ForceClient],
    tmp_path: Path,
) -> None:
    url = running.settings.database_url
    store = WebStore.open(f"sqlite:///{tmp_path / 'web.db'}")
    for username, force in (("essex.sup", "ESSEX"), ("met.sup", "METROPOLITAN")):
        store.add_account(username, force, Role.SUPERVISOR, PASSWORD, WEB_NOW)
    config = WebConfig(
        open_read_only(url),
        store,
        "k" * 40,
        clock=lambda: WEB_NOW,
        reports=open_report_queue(url),
    )

    async def case_page(username: str) -> httpx.Response:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(config)), base_url="http://testserver"
        ) as browser:
            form = await browser.get("/sign-in")
            token = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            signed_in = await browser.post(
                "/sign-in", data={"username": username, "password": PASSWORD, "csrf_token": token}
            )
            assert signed_in.status_code in (200, 303), signed_in.text
            return await browser.get(f"/cases/{CASE}")

    shown = await case_page("essex.sup")
    assert shown.status_code == 200 and CASE in shown.text
    report = await next_report(psds["SURREY_PSD"])
    assert (report.reader_force, report.reader, report.channel.value) == (
        "ESSEX",
        "essex.sup",
        "web",
    )
    assert (report.allowed, report.read_at) == (True, WEB_NOW)

    assert (await case_page("met.sup")).status_code == 404  # "not yours", as ever
    report = await next_report(psds["SURREY_PSD"])
    assert (report.reader_force, report.allowed) == ("METROPOLITAN", False)
    await nobody_else_heard(clients, psds)
    assert config.reports is not None
    config.reports.dispose()
    config.hub.dispose()


@pytest.mark.usefixtures("officer_case")
async def test_a_case_without_a_police_employee_is_reported_to_no_one(
    running: RunningBroker, clients: dict[str, ForceClient], psds: dict[str, ForceClient]
) -> None:
    shown = await crossforce_case(running, PLAIN, "--force", "ESSEX")
    assert shown.exit_code == 0, shown.output
    refused = await crossforce_case(running, PLAIN, "--force", "METROPOLITAN")
    assert refused.exit_code != 0
    engine = running.engine
    assert engine is not None
    with engine.connect() as db:
        logged = db.execute(
            schema.consultation_log.select().where(schema.consultation_log.c.case_ref == PLAIN)
        ).all()
        queued = db.execute(schema.access_reports.select()).all()
    assert [row.shown for row in logged] == [True, False]  # each read is still logged (s.62)
    assert queued == []
    await asyncio.sleep(2.5)  # a relay pass or two
    await nobody_else_heard(clients, psds)


@pytest.mark.usefixtures("officer_case")
async def test_a_read_while_no_hub_runs_reaches_the_psd_when_one_starts(
    running: RunningBroker, psds: dict[str, ForceClient]
) -> None:
    """The read queues its report in the hub's database whether or not a hub runs; a hub
    that starts signs it into its outbox and publishes it (the outbox rides out NATS)."""
    engine = running.engine
    assert engine is not None
    await running.stop_replica()  # no hub is relaying
    shown = await crossforce_case(running, CASE, "--force", "KENT", "--by", "DC Kent")
    assert shown.exit_code == 0, shown.output
    with engine.connect() as db:
        [waiting] = db.execute(schema.access_reports.select()).all()
    assert waiting.relayed_at is None
    await running.start_replica()
    report = await next_report(psds["SURREY_PSD"])
    assert (report.report_id, report.reader_force) == (waiting.report_id, "KENT")

    def relayed() -> bool:
        with engine.connect() as db:
            return all(row.relayed_at for row in db.execute(schema.access_reports.select()))

    await eventually(relayed)
