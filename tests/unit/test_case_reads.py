"""Reads of a case on SQLite, without NATS: each read path records the read and queues the
report in one step, or shows nothing; the hub turns each queued read into signed reports to
the employing force's PSD alone, once (decision 0051). The same over NATS, through
ForceClient: tests/integration/hub/test_psd_access_scenarios.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from crossforce.adapters.sql import schema
from crossforce.adapters.sql.engine import make_engine, open_read_only
from crossforce.adapters.sql.migrate import BROKER_SCHEMA, prepare_engine
from crossforce.adapters.sql.report_queue import open_report_queue
from crossforce.adapters.testing.in_process import InProcessHub
from crossforce.adapters.web.app import WebConfig, create_app
from crossforce.adapters.web.reads import ReadNotReported, open_case
from crossforce.adapters.web.store import Account, Role, WebStore
from crossforce.broker.bootstrap import sql_units
from crossforce.broker.cli import main
from crossforce.broker.cli.cases_cmd import login_name
from crossforce.broker.domain.access import CaseRead, ReadChannel
from crossforce.broker.service.case_reads import (
    AccessReportRelay,
    consult_case,
    new_report_id,
    queue_read,
)
from crossforce.contracts.delivery_note import verified_flags
from crossforce.contracts.envelope import parse_envelope
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.examples import example_data
from crossforce.contracts.messages.case import CaseAccessReported, CaseOpened
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.signing import verify_envelope
from crossforce.ledger import Ledger

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
OFFICER_CASE = "CF-2026-600001"  # B is a Surrey officer
PLAIN_CASE = "CF-2026-600002"  # no police employee among the parties
FORCES = ["HUB", "KENT", "ESSEX", "SURREY", "METROPOLITAN", "SURREY_PSD", "ESSEX_PSD"]
WHY = "supervision of the case"
PASSWORD = "a long enough passphrase"
runner = CliRunner()


@dataclass
class Hub:
    url: str
    engine: Engine
    pki: EphemeralPki

    def relay(self, at: datetime = NOW) -> AccessReportRelay:
        return AccessReportRelay(sql_units(self.engine), self.pki.key("HUB"), lambda: at)

    def rows(self, table: Any) -> list[Any]:
        with self.engine.connect() as db:
            return list(db.execute(select(table)).mappings())


def _open(hub: InProcessHub, case_ref: str, **b: Any) -> None:
    body = example_data("case-opened", "KENT", "KENT", now=NOW)
    body["parties"][1].update(b)
    result = hub.send("KENT", case_ref, CaseOpened.model_validate(body))
    assert result.accepted, result.detail


@pytest.fixture()
def hub(tmp_path: Path) -> Iterator[Hub]:
    url = f"sqlite:///{tmp_path / 'crossforce.db'}"
    engine = make_engine(url)
    prepare_engine(engine, BROKER_SCHEMA)
    pki = EphemeralPki(FORCES, now=NOW)
    in_process = InProcessHub(engine, pki, NOW)
    _open(in_process, OFFICER_CASE, police_employee_of="SURREY")
    _open(in_process, PLAIN_CASE)
    yield Hub(url, engine, pki)
    engine.dispose()


def _reports(hub: Hub) -> list[dict[str, Any]]:
    return [dict(row) for row in hub.rows(schema.access_reports)]


# -- crossforce case ----------------------------------------------------------------------
def test_a_read_on_the_hub_is_logged_and_queued_in_one_step(hub: Hub) -> None:
    view = consult_case(
        hub.engine, OFFICER_CASE, "KENT", reader="ds.kent", justification=WHY, now=NOW
    )
    assert view.case_ref == OFFICER_CASE
    [logged] = hub.rows(schema.consultation_log)
    assert (logged.reader_force, logged.reader, logged.shown, logged.channel) == (
        "KENT",
        "ds.kent",
        True,
        "cli",
    )
    [queued] = _reports(hub)
    assert queued["report_id"] == logged.report_id
    assert (queued["allowed"], queued["channel"], queued["relayed_at"]) == (True, "cli", None)


def test_a_refused_read_is_logged_and_queued_too(hub: Hub) -> None:
    with pytest.raises(ContractError) as refused:
        consult_case(
            hub.engine, OFFICER_CASE, "METROPOLITAN", reader="met", justification=WHY, now=NOW
        )
    assert refused.value.code is ReasonCode.NOT_AUTHORISED
    [logged] = hub.rows(schema.consultation_log)
    assert logged.shown is False
    [queued] = _reports(hub)
    assert (queued["reader_force"], queued["allowed"]) == ("METROPOLITAN", False)


def test_the_operator_reads_as_no_force(hub: Hub) -> None:
    view = consult_case(hub.engine, OFFICER_CASE, None, reader="root", justification=WHY, now=NOW)
    assert view.viewer == "KENT"  # the co-ordinating force's whole view
    [queued] = _reports(hub)
    assert (queued["reader_force"], queued["allowed"]) == (None, True)


def test_a_case_without_a_police_employee_or_no_case_is_logged_not_reported(hub: Hub) -> None:
    consult_case(hub.engine, PLAIN_CASE, "KENT", reader="ds.kent", justification=WHY, now=NOW)
    with pytest.raises(ContractError) as missing:
        consult_case(hub.engine, "CF-NONE", "KENT", reader="ds.kent", justification=WHY, now=NOW)
    assert missing.value.code is ReasonCode.UNKNOWN_CASE
    assert [(r.case_ref, r.shown) for r in hub.rows(schema.consultation_log)] == [
        (PLAIN_CASE, True),
        ("CF-NONE", False),
    ]
    assert _reports(hub) == []


def test_a_read_without_who_or_why_reads_nothing(hub: Hub) -> None:
    with pytest.raises(ContractError) as refused:
        consult_case(hub.engine, OFFICER_CASE, "KENT", reader=" ", justification=WHY, now=NOW)
    assert refused.value.code is ReasonCode.NOT_AUTHORISED
    assert hub.rows(schema.consultation_log) == [] and _reports(hub) == []


def test_the_case_command_reports_with_its_reader_and_justification(hub: Hub) -> None:
    main._register()
    data_dir = str(Path(hub.url.removeprefix("sqlite:///")).parent)
    args = ["case", OFFICER_CASE, "--data-dir", data_dir, "--force", "KENT", "--json"]
    shown = runner.invoke(main.app, [*args, "--by", "DS Smith", "--justification", WHY])
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.stdout)["case_ref"] == OFFICER_CASE
    refused = runner.invoke(
        main.app, ["case", OFFICER_CASE, "--data-dir", data_dir, "--force", "METROPOLITAN"]
    )
    assert refused.exit_code != 0
    assert [(r["reader_force"], r["reader"], r["allowed"]) for r in _reports(hub)] == [
        ("KENT", "DS Smith", True),
        ("METROPOLITAN", login_name(), False),  # without --by, the login name
    ]


# -- the hub's relay ----------------------------------------------------------------------
def test_the_hub_signs_each_read_to_the_employing_forces_psd_alone_once(hub: Hub) -> None:
    with pytest.raises(ContractError):
        consult_case(
            hub.engine, OFFICER_CASE, "METROPOLITAN", reader="met.sup", justification=WHY, now=NOW
        )
    relayed_at = NOW + timedelta(seconds=2)
    outbound = hub.relay(relayed_at).relay_pending()
    assert sorted(m.subject for m in outbound) == [
        f"cf.log.{OFFICER_CASE}",
        "cf.out.SURREY_PSD.msg",
    ]
    [delivery] = [m for m in outbound if m.subject == "cf.out.SURREY_PSD.msg"]
    envelope = parse_envelope(delivery.payload)
    trust = hub.pki.trust_store()
    verify_envelope(envelope, trust)
    assert (envelope.senderforce, envelope.recipient_codes, envelope.caseref) == (
        "HUB",
        ("SURREY_PSD",),
        OFFICER_CASE,
    )
    assert (
        verified_flags(envelope.id, "SURREY_PSD", delivery.headers, trust).applicant_channel
        is False
    )
    report = CaseAccessReported.model_validate(envelope.data)
    assert (report.employing_force, report.party_ids, report.reader_force, report.allowed) == (
        "SURREY",
        ["P2"],
        "METROPOLITAN",
        False,
    )
    assert (report.reader, report.justification, report.read_at) == ("met.sup", WHY, NOW)
    # The case and the employing force, never a party's name or date of birth.
    text = json.dumps(envelope.data)
    assert "Sample" not in text and "Barry" not in text and "1986" not in text
    [disclosed] = [r for r in hub.rows(schema.disclosure_log) if r.envelope_id == envelope.id]
    assert (disclosed.disclosed_to, disclosed.disclosed_by) == ("SURREY_PSD", "HUB")
    assert [stored(r["relayed_at"]) for r in _reports(hub)] == [relayed_at]
    assert hub.relay().relay_pending() == []  # relayed once


def stored(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def test_two_hubs_relaying_the_same_read_send_it_once(hub: Hub) -> None:
    consult_case(hub.engine, OFFICER_CASE, "KENT", reader="ds.kent", justification=WHY, now=NOW)
    [report_id] = hub.relay().pending()
    first, second = hub.relay(), hub.relay()
    assert len(first.relay(report_id)) == 2
    assert second.relay(report_id) == []
    reports = [r for r in hub.rows(schema.disclosure_log) if "case-access" in r.message_type]
    assert [r.disclosed_to for r in reports] == ["SURREY_PSD"]


def test_a_row_the_hub_cannot_report_holds_up_no_other(hub: Hub) -> None:
    with hub.engine.begin() as db:  # written by hand, past every check
        db.execute(
            insert(schema.access_reports).values(
                report_id="bad",
                case_ref=OFFICER_CASE,
                channel="web",
                reader="x\ny",
                allowed=True,
                justification=WHY,
                read_at=NOW - timedelta(minutes=1),
            )
        )
    consult_case(hub.engine, OFFICER_CASE, "KENT", reader="ds.kent", justification=WHY, now=NOW)
    outbound = hub.relay().relay_pending()
    assert [m.subject for m in outbound].count("cf.out.SURREY_PSD.msg") == 1
    assert [r["report_id"] for r in _reports(hub) if r["relayed_at"] is None] == ["bad"]


# -- the web app's one write --------------------------------------------------------------
def test_the_report_queue_may_insert_reports_and_nothing_else(hub: Hub) -> None:
    queue = open_report_queue(hub.url)
    read = _web_read()
    queue_read(queue, read)
    refused = [
        update(schema.access_reports).values(relayed_at=NOW),
        delete(schema.access_reports),
        insert(schema.case_participants).values(case_ref=OFFICER_CASE, force="METROPOLITAN"),
        update(schema.cases).values(red=True),
        delete(schema.consultation_log),
    ]
    for statement in refused:
        with pytest.raises(DBAPIError, match="not authorized"), queue.begin() as db:
            db.execute(statement)
    assert [r["report_id"] for r in _reports(hub)] == [read.report_id]
    queue.dispose()


def _web_read(allowed: bool = True) -> CaseRead:
    return CaseRead(
        new_report_id(NOW), OFFICER_CASE, "KENT", "kent.sup", ReadChannel.WEB, allowed, WHY, NOW
    )


@pytest.fixture()
def store(tmp_path: Path) -> WebStore:
    web = WebStore.open(f"sqlite:///{tmp_path / 'web.db'}")
    for username, force in (("kent.sup", "KENT"), ("met.sup", "METROPOLITAN")):
        web.add_account(username, force, Role.SUPERVISOR, PASSWORD, NOW)
    return web


def _account(store: WebStore, username: str) -> Account:
    account = store.account(username)
    assert account is not None
    return account


def test_a_case_page_queues_its_read_before_it_is_shown(hub: Hub, store: WebStore) -> None:
    reader, queue = open_read_only(hub.url), open_report_queue(hub.url)
    kent, met = _account(store, "kent.sup"), _account(store, "met.sup")
    view = open_case(reader, store, queue, kent, OFFICER_CASE, WHY, NOW)
    assert view is not None and view.case_ref == OFFICER_CASE
    assert open_case(reader, store, queue, met, OFFICER_CASE, WHY, NOW) is None  # "not yours"
    assert open_case(reader, store, queue, kent, PLAIN_CASE, WHY, NOW) is not None
    assert [(r["reader"], r["channel"], r["allowed"]) for r in _reports(hub)] == [
        ("kent.sup", "web", True),
        ("met.sup", "web", False),
    ]
    assert [(c.username, c.case_ref, c.shown) for c in store.consultation_log()] == [
        ("kent.sup", OFFICER_CASE, True),
        ("met.sup", OFFICER_CASE, False),
        ("kent.sup", PLAIN_CASE, True),
    ]


def test_a_case_page_whose_read_cannot_be_queued_is_not_shown(hub: Hub, store: WebStore) -> None:
    reader = open_read_only(hub.url)
    kent, met = _account(store, "kent.sup"), _account(store, "met.sup")
    with pytest.raises(ReadNotReported):
        open_case(reader, store, None, kent, OFFICER_CASE, WHY, NOW)
    # A refusal stays the same answer as any other refusal; a case no PSD is owed is shown.
    assert open_case(reader, store, None, met, OFFICER_CASE, WHY, NOW) is None
    assert open_case(reader, store, None, kent, PLAIN_CASE, WHY, NOW) is not None
    # The read-only connection cannot queue one either: the read fails closed.
    with pytest.raises(ReadNotReported):
        open_case(reader, store, reader, kent, OFFICER_CASE, WHY, NOW)
    assert _reports(hub) == []
    assert [c.shown for c in store.consultation_log(OFFICER_CASE)] == [False, False, False]


async def test_the_case_page_says_why_it_is_not_shown(hub: Hub, store: WebStore) -> None:
    async def page(reports: Engine | None) -> httpx.Response:
        config = WebConfig(
            open_read_only(hub.url), store, "k" * 40, clock=lambda: NOW, reports=reports
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(config)), base_url="http://testserver"
        ) as client:
            sign_in = await client.get("/sign-in")
            token = sign_in.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
            await client.post(
                "/sign-in", data={"username": "kent.sup", "password": PASSWORD, "csrf_token": token}
            )
            return await client.get(f"/cases/{OFFICER_CASE}")

    shown = await page(open_report_queue(hub.url))
    assert shown.status_code == 200 and OFFICER_CASE in shown.text
    withheld = await page(None)
    assert withheld.status_code == 503 and "Professional Standards" in withheld.text
    assert OFFICER_CASE not in withheld.text
    assert [r["allowed"] for r in _reports(hub)] == [True]


# -- the ledger ---------------------------------------------------------------------------
def _ledger_entry(path: Path, case_ref: str) -> str:
    url = f"sqlite:///{path}"
    with Ledger(
        url, None, bytes(32), "crossforce.test/ledger", master_key=bytes(range(32))
    ) as ledger:
        ledger.append_submission(
            {"route": "right-to-ask"},
            personal={"parties": []},
            subject_identity={
                "surname": "Sample",
                "forenames": "Barry",
                "date_of_birth": "1986-11-02",
            },
            case_ref=case_ref,
            submitted_by="KENT",
            review_date=date(2032, 11, 2),
            idempotency_key=case_ref,
        )
    return url


def test_a_ledger_read_of_the_cases_entry_is_queued_first(hub: Hub, tmp_path: Path) -> None:
    main._register()
    url = _ledger_entry(tmp_path / "ledger.db", OFFICER_CASE)  # beside the hub's database
    who = ["--by", "DS Smith", "--justification", "judicial review bundle"]
    result = runner.invoke(main.app, ["ledger", "proof", "0", *who, "--db-url", url])
    assert result.exit_code == 0, result.output
    [queued] = _reports(hub)
    assert (queued["channel"], queued["ledger_entry"], queued["reader"]) == (
        "ledger",
        0,
        "DS Smith",
    )
    outbound = hub.relay().relay_pending()
    [delivery] = [m for m in outbound if m.subject == "cf.out.SURREY_PSD.msg"]
    report = CaseAccessReported.model_validate(parse_envelope(delivery.payload).data)
    assert (report.channel.value, report.ledger_entry, report.reader_force) == ("ledger", 0, None)


def test_a_ledger_read_with_no_hub_database_to_ask_reads_nothing(tmp_path: Path) -> None:
    main._register()
    alone = tmp_path / "alone"
    alone.mkdir()
    url = _ledger_entry(alone / "ledger.db", OFFICER_CASE)
    who = ["--by", "DS Smith", "--justification", "judicial review bundle"]
    result = runner.invoke(main.app, ["ledger", "proof", "0", *who, "--db-url", url])
    assert result.exit_code == 3, result.output
    assert "error DATABASE_ERROR: " in result.stderr and "PSD" in result.stderr
    assert "entry bytes" not in result.stdout
    with Ledger(url, create=False) as ledger:
        assert ledger.access_log() == []  # not read, so not a consultation
