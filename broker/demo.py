"""The narrated demo behind `crossforce demo` (the CLI command only wires this up)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import nats
from rich.console import Console
from rich.table import Table

from crossforce.adapters.client.force_client import ForceClient
from crossforce.adapters.nats import subjects
from crossforce.adapters.nats.server import find_nats_server
from crossforce.broker.cli.cases_cmd import print_case_view
from crossforce.broker.domain.calendar import LONDON, calendar_for_force
from crossforce.broker.escalation.overdue import overdue_parts
from crossforce.broker.hub.publisher import OutboxPublisher
from crossforce.broker.runtime import BrokerSettings, RunningBroker
from crossforce.broker.scenario import FORCES, case_steps
from crossforce.broker.service.outbox import OutboundMessage
from crossforce.broker.service.pipeline import PipelineResult
from crossforce.broker.service.queries import case_view
from crossforce.contracts import headers
from crossforce.contracts.envelope import Envelope
from crossforce.contracts.messages.case import StepCompleted, TimedStep
from crossforce.contracts.pki import EphemeralPki

CASE_REF = "CF-2026-000123"
LATE_CASE_REF = "CF-2026-000124"


class _Results:
    """Collects the hub's outcome per envelope id, so the demo can say who got what."""

    def __init__(self) -> None:
        self.by_id: dict[str, PipelineResult] = {}
        self.duplicates: list[PipelineResult] = []

    def __call__(self, result: PipelineResult) -> None:
        if result.duplicate:
            self.duplicates.append(result)
        elif result.envelope_id:
            self.by_id[result.envelope_id] = result

    async def wait_for(self, envelope_id: str, timeout: float = 10.0) -> PipelineResult:
        async with asyncio.timeout(timeout):
            while envelope_id not in self.by_id:
                await asyncio.sleep(0.02)
        return self.by_id[envelope_id]


def _delivered_to(result: PipelineResult) -> list[str]:
    delivered = (m.subject for m in result.outbound if subjects.is_delivery(m.subject))
    return sorted({subject.split(".")[2] for subject in delivered})


async def run_demo(data_dir: Path, console: Console) -> datetime:
    """Runs the demo; returns the simulated time its late case was last looked at."""
    pki = EphemeralPki(FORCES)
    trust = pki.trust_store()
    results = _Results()
    settings = BrokerSettings(data_dir=data_dir, partitions=4, nats_port=0)
    console.rule("[bold]Crossforce demo[/]")
    console.print(
        f"Starting the embedded broker: {find_nats_server()} with JetStream in {data_dir}, "
        "SQLite, and one hub. Every force gets a fresh Ed25519 key; the trust store is "
        "signed by a fresh trust anchor.",
        highlight=False,
    )
    async with RunningBroker(
        settings, trust=trust, hub_key=pki.key("HUB"), on_result=results
    ) as running:
        clients = {
            force: await ForceClient(
                force=force, key=pki.key(force), trust=trust, nats_url=running.nats_url
            ).connect()
            for force in FORCES[1:]
        }
        try:
            sent = await _run_case(console, clients, results)
            await _tamper_and_duplicate(console, clients, results, sent, running.nats_url)
            await _show_deliveries(console, clients)
            assert running.engine is not None
            console.rule("Who owns what")
            print_case_view(case_view(running.engine, CASE_REF, None), console)
            console.print("Police Scotland's view (need-to-know: its own parts only):")
            print_case_view(case_view(running.engine, CASE_REF, "PSOS"), console)
            simulated = await _late_response(console, clients, running, pki)
            _ledger(console, running)
        finally:
            for client in clients.values():
                await client.close()
    console.rule("[green]demo complete[/]")
    return simulated


async def _run_case(
    console: Console, clients: dict[str, ForceClient], results: _Results
) -> list[Envelope]:
    console.rule(f"Case {CASE_REF}: signed messages through the hub")
    table = Table("#", "from", "message", "receipt", "delivered to", "what happened")
    sent: list[Envelope] = []
    for number, step in enumerate(case_steps(CASE_REF), start=1):
        client = clients[step.sender]
        envelope = client.envelope(step.message, case_ref=CASE_REF, recipients=step.recipients)
        await client.publish(envelope)
        receipt = await client.receipt(envelope.id)
        result = await results.wait_for(envelope.id)
        hub_made = [
            m.headers.get(headers.TYPE, "").split(".")[-2]
            for m in result.outbound
            if "/hub" in m.msg_id and subjects.is_delivery(m.subject)
        ]
        status = "[green]accepted[/]" if receipt.accepted else f"[red]{receipt.reason_code}[/]"
        note = step.note + (f" (hub sends {', '.join(sorted(set(hub_made)))})" if hub_made else "")
        table.add_row(
            str(number),
            step.sender,
            step.message.NAME,
            status,
            ", ".join(_delivered_to(result)) or "-",
            note,
        )
        sent.append(envelope)
    console.print(table)
    return sent


async def _tamper_and_duplicate(
    console: Console,
    clients: dict[str, ForceClient],
    results: _Results,
    sent: list[Envelope],
    nats_url: str,
) -> None:
    console.rule("Forged and repeated messages")
    original = sent[5]
    sender = clients[original.senderforce]
    forged = original.model_copy(
        update={"id": original.id[:-4] + "beef", "data": {**original.data, "checks": []}}
    )
    await sender.publish_raw(forged.to_bytes(), case_ref=forged.caseref, msg_id=forged.id)
    receipt = await sender.receipt(forged.id)
    console.print(
        f"Tampered copy of {original.name} (signature kept, checks removed): "
        f"[red]{receipt.receipt.status.value} {receipt.reason_code}[/] — "
        f"{receipt.receipt.message}",
        highlight=False,
    )
    connection = await nats.connect(nats_url)
    try:
        info = await connection.jetstream().stream_info(subjects.DEADLETTER_STREAM)
        console.print(
            f"Dead-letter stream {subjects.DEADLETTER_STREAM} holds {info.state.messages} "
            "record(s) with the original bytes and the reason code.",
            highlight=False,
        )
        ack = await connection.jetstream().publish(
            subjects.inbound_subject(original.senderforce, original.caseref),
            original.to_bytes(),
            headers={headers.MSG_ID: original.id},
        )
        console.print(
            f"Same envelope re-sent with the same Nats-Msg-Id: JetStream "
            f"duplicate={ack.duplicate}.",
            highlight=False,
        )
    finally:
        await connection.close()
    before = len(results.duplicates)
    await sender.publish_raw(original.to_bytes(), case_ref=original.caseref, msg_id="resend-1")
    async with asyncio.timeout(10):
        while len(results.duplicates) == before:
            await asyncio.sleep(0.02)
    console.print(
        "Same envelope re-sent under a new transport id: the hub found its id among processed "
        "envelopes and applied nothing twice (no new deliveries, no new history).",
        highlight=False,
    )


async def _late_response(
    console: Console, clients: dict[str, ForceClient], running: RunningBroker, pki: EphemeralPki
) -> datetime:
    """A second case where Police Scotland never answers, replayed on a simulated clock."""
    console.rule(f"Case {LATE_CASE_REF}: a late response, escalated on a simulated clock")
    for step in case_steps(LATE_CASE_REF)[:3]:
        receipt = await clients[step.sender].send(
            step.message, case_ref=LATE_CASE_REF, recipients=step.recipients
        )
        assert receipt.accepted, receipt.reason_code
    # Essex, co-ordinating, finishes its own initial checks on time: only Scotland is late.
    checked = await clients["ESSEX"].send(
        StepCompleted(step=TimedStep.EW_RTA_INITIAL_CHECKS), case_ref=LATE_CASE_REF
    )
    assert checked.accepted, checked.reason_code
    assert running.engine is not None
    view = case_view(running.engine, LATE_CASE_REF, None)
    part = next(p for p in view.parts if p.owner == "PSOS")
    assert part.due_at is not None
    asked = part.created_at.astimezone(LONDON)
    due = part.due_at.astimezone(LONDON)
    scottish = calendar_for_force("PSOS")
    days = (asked.date() + timedelta(days=n) for n in range(1, (due.date() - asked.date()).days))
    skipped = [
        f"{d:%a %d %b} ({scottish.bank_holiday_name(d)})"
        for d in days
        if scottish.is_bank_holiday(d)
    ]
    console.print(
        f"Essex asked Police Scotland about B on {asked:%a %d %b}; {part.part_id} is due "
        f"{due:%a %d %b %Y %H:%M}, five Scottish working days later"
        + (f", not counting {', '.join(skipped)}" if skipped else "")
        + ". Surrey answers; Police Scotland does not.",
        highlight=False,
    )
    surrey = case_steps(LATE_CASE_REF)
    for step in (surrey[3], surrey[5]):
        await clients[step.sender].send(step.message, case_ref=LATE_CASE_REF)
    assert running.core is not None
    service = running.core.escalation
    connection = await nats.connect(running.nats_url)
    publisher = OutboxPublisher(connection.jetstream(), running.core.units, running.clock)
    table = Table("simulated time", "sent", "to")
    try:
        # Every morning from the day after the request until a week past due: escalation
        # comes at the start of the second working day after due, after any weekend.
        first = asked.replace(hour=9, minute=0, second=0, microsecond=0) + timedelta(days=1)
        for offset in range((due.date() - first.date()).days + 8):
            now = first + timedelta(days=offset)
            sent = await asyncio.to_thread(service.fire_due, now)
            await publisher.publish(sent)
            escalations = [m for m in sent if subjects.is_delivery(m.subject)]
            for name, forces in _group(escalations).items():
                table.add_row(f"{now:%a %d %b %H:%M}", name, ", ".join(forces))
    finally:
        await connection.close()
    console.print(table)
    late = overdue_parts(running.engine, now, force="PSOS")
    for item in late:
        console.print(
            f"crossforce overdue --force PSOS: {item.case_ref} {item.part_id} is "
            f"{item.working_days_late} Scottish working day(s) late; case red: {item.red}",
            highlight=False,
        )
    return now


def _ledger(console: Console, running: RunningBroker) -> None:
    """The closed case's final intelligence report, as the ledger holds and proves it."""
    assert running.ledger is not None
    ledger = running.ledger
    console.rule("The ledger: the closed case's final intelligence report")
    why = "demo: show the final intelligence report of a closed case"
    index = ledger.size - 1
    entry = ledger.entry(index, by="DEMO", justification=why)
    checkpoint = ledger.checkpoint()
    proof = ledger.inclusion_proof(index, by="DEMO", justification=why)
    console.print(
        f"entry {entry.index}: case {entry.case_ref}, submitted by {entry.submitted_by}, "
        f"subject key {str(entry.subject_key)[:16]}…, review date {entry.review_date}, "
        f"personal fields sealed (readable here: {entry.personal is not None})",
        highlight=False,
    )
    console.print_json(data=entry.submission)
    console.print(
        f"inclusion proof: leaf {proof.leaf_hash.hex()[:16]}… in a tree of {proof.tree_size}, "
        f"audit path of {len(proof.audit_path)}, root {proof.root_hash.hex()[:16]}…; "
        f"proof verifies: {proof.verify()}",
        highlight=False,
    )
    console.print("signed checkpoint (C2SP signed note):")
    console.print(checkpoint, highlight=False, markup=False)
    report = ledger.verify()
    console.print(
        f"verify: {'[green]OK[/]' if report.ok else '[red]FAILED[/]'} "
        f"({report.entries_checked} entries, {report.checkpoints_checked} checkpoints)",
        highlight=False,
    )


def _group(messages: list[OutboundMessage]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for message in messages:
        name = message.headers.get(headers.TYPE, "").split(".")[-2]
        grouped.setdefault(name, []).append(message.subject.split(".")[2])
    return grouped


async def _show_deliveries(console: Console, clients: dict[str, ForceClient]) -> None:
    console.rule("What each force received (verified against the trust store)")
    table = Table("force", "deliveries", "types")
    for force, client in clients.items():
        names: list[str] = []
        async for delivery in client.deliveries(idle_timeout=0.5):
            names.append(delivery.envelope.name + (" [PRIORITY]" if delivery.priority else ""))
            await delivery.ack()
        table.add_row(force, str(len(names)), ", ".join(names))
    console.print(table)
