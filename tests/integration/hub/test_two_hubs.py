"""Two hub replicas on one NATS and one database end exactly where a single hub does.

2,000 signed envelopes over 50 cases, published concurrently and interleaved across cases, are
run once through a single hub and once through two independent hub replicas that share the
nats-server and the SQLite file. The final case state and each case's history must be equal,
no envelope may be processed twice, and each case's messages must be handled in order.
"""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import select

from crossforce.adapters.client.force_client import ForceClient
from crossforce.adapters.nats import subjects
from crossforce.adapters.sql import schema
from crossforce.broker.hub.partitions import BALANCE_SECONDS
from crossforce.broker.runtime import BrokerSettings, RunningBroker
from crossforce.broker.scenario import A_HOME, COORDINATING, PARTIES, A, case_steps
from crossforce.broker.secrets import load_or_create
from crossforce.broker.service.pipeline import PipelineResult
from crossforce.broker.service.sealed_persons import persons_key, unseal_persons
from crossforce.contracts.envelope import Envelope, parse_envelope
from crossforce.contracts.examples import example
from crossforce.contracts.keys import utcnow
from crossforce.contracts.messages.base import Message
from crossforce.contracts.pki import EphemeralPki
from crossforce.contracts.registry import REGISTRY

pytestmark = pytest.mark.server

FORCES = ["HUB", "KENT", "ESSEX", "SURREY", "PSOS", "PSOS_E", "METROPOLITAN"]
CASES = 50
# Each case's 40 envelopes are spread over four balance intervals.
PUBLISH_PAUSE_SECONDS = 4 * BALANCE_SECONDS / 40
ENQUIRY_ROUNDS = 9  # case-opened + 9 x (request, acknowledge, result, delay) + 3 delays = 40
PARTITIONS = 8


def _message(name: str, sender: str, recipient: str, **changes: Any) -> Message:
    body = example(name, sender, recipient).model_dump(mode="json") | changes
    return REGISTRY.latest(name).model_validate(body)


def _case_messages(case_ref: str) -> list[tuple[str, Message]]:
    opening = case_steps(case_ref)[0]
    out: list[tuple[str, Message]] = [(opening.sender, opening.message)]
    delay = ("ESSEX", _message("delay-notified", COORDINATING, "KENT"))
    for round_ in range(ENQUIRY_ROUNDS):
        enquiry = f"ENQ-{round_}"
        out += [
            (
                COORDINATING,
                _message(
                    "enquiry-requested",
                    COORDINATING,
                    A_HOME,
                    enquiry_id=enquiry,
                    responding_force=A_HOME,
                    party_ids=[A],
                    parties=[PARTIES[A]],
                    due_at=None,  # timed by the SLA policy from the hub clock
                ),
            ),
            (A_HOME, _message("enquiry-acknowledged", A_HOME, COORDINATING, enquiry_id=enquiry)),
            (A_HOME, _message("enquiry-result", A_HOME, COORDINATING, enquiry_id=enquiry)),
            delay,
        ]
    return out + [delay] * 3


def _workload(pki: EphemeralPki) -> dict[str, list[Envelope]]:
    clients = {
        force: ForceClient(force=force, key=pki.key(force), trust=pki.trust_store(), nats_url="")
        for force in FORCES[1:]
    }
    workload = {}
    for n in range(CASES):
        case_ref = f"CF-2026-{400000 + n:06d}"
        workload[case_ref] = [
            clients[sender].envelope(message, case_ref=case_ref)
            for sender, message in _case_messages(case_ref)
        ]
    return workload


@dataclass(slots=True)
class Outcome:
    cases: dict[str, Any]
    history: dict[str, list[tuple[Any, ...]]]
    processed: list[str]
    disclosures: list[tuple[str, str]]
    caselog: dict[str, list[str]]
    handled_by: dict[str, set[str]]


async def _run(
    root: Path,
    pki: EphemeralPki,
    workload: dict[str, list[Envelope]],
    replicas: int,
    now: datetime,
) -> Outcome:
    handled_by: dict[str, set[str]] = {}

    def listener(name: str) -> Any:
        def on_result(result: PipelineResult) -> None:
            # A redelivery after a transient fault reports duplicate=True: still handled here.
            if result.envelope_id is not None:
                handled_by.setdefault(name, set()).add(result.envelope_id)

        return on_result

    def clock() -> datetime:
        return now

    # The replicas share the data directory (its secrets and ledger file), the database and
    # NATS; the second reaches the first's nats-server by URL instead of starting its own.
    settings = BrokerSettings(data_dir=root, partitions=PARTITIONS)
    trust, hub_key = pki.trust_store(), pki.key("HUB")
    async with RunningBroker(
        settings, trust=trust, hub_key=hub_key, clock=clock, on_result=listener("hub-1")
    ) as first:
        others = [
            RunningBroker(
                BrokerSettings(
                    data_dir=root,
                    partitions=PARTITIONS,
                    nats_url=first.nats_url,
                    db_url=settings.database_url,
                ),
                trust=trust,
                hub_key=hub_key,
                clock=clock,
                on_result=listener(f"hub-{i}"),
            )
            for i in range(2, replicas + 1)
        ]
        clients: dict[str, ForceClient] = {}
        try:
            for other in others:
                await other.start()
            for force in FORCES[1:]:
                clients[force] = await ForceClient(
                    force=force, key=pki.key(force), trust=trust, nats_url=first.nats_url
                ).connect()

            async def publish_case(envelopes: list[Envelope]) -> None:
                for envelope in envelopes:  # in order within the case; cases interleave
                    await clients[envelope.senderforce].publish(envelope)
                    # Spread over several balance intervals: the first replica up holds
                    # every partition until it shares them out, and a hub drains the
                    # whole workload faster than that.
                    await asyncio.sleep(PUBLISH_PAUSE_SECONDS)

            await asyncio.gather(*(publish_case(envelopes) for envelopes in workload.values()))
            receipts = await asyncio.gather(
                *(
                    clients[e.senderforce].receipt(e.id, timeout=150)
                    for envelopes in workload.values()
                    for e in envelopes
                )
            )
            refused = [(r.receipt.in_reply_to, r.reason_code) for r in receipts if not r.accepted]
            assert refused == []
            return await _outcome(first, handled_by)
        finally:
            for client in clients.values():
                await client.close()
            for other in others:
                await other.stop()


async def _outcome(broker: RunningBroker, handled_by: dict[str, set[str]]) -> Outcome:
    assert broker.engine is not None
    # Sealed personal details differ byte for byte (fresh nonces); what they hold must not.
    key = persons_key(load_or_create(broker.settings.data_dir / "secrets").subject_key_secret)

    def opened(case_ref: str, state: dict[str, Any]) -> dict[str, Any]:
        sealed = state.get("sealed_persons")
        return {**state, "sealed_persons": unseal_persons(key, case_ref, sealed)}

    with broker.engine.connect() as db:
        cases = {
            row["case_ref"]: (row["version"], row["status"], opened(row["case_ref"], row["state"]))
            for row in db.execute(select(schema.cases)).mappings()
        }
        history: dict[str, list[tuple[Any, ...]]] = {}
        for row in db.execute(select(schema.case_history).order_by(schema.case_history.c.id)):
            history.setdefault(row.case_ref, []).append(
                (row.at.isoformat(), row.actor, row.event, row.summary)
            )
        processed = list(db.execute(select(schema.processed_envelopes.c.envelope_id)).scalars())
        disclosures = [
            (row.envelope_id, row.disclosed_to) for row in db.execute(select(schema.disclosure_log))
        ]
    nc = await nats.connect(broker.nats_url)
    try:
        js = nc.jetstream()
        # Every inbound message acked (a receipt is published just before its ack).
        deadline = asyncio.get_running_loop().time() + 30
        while (await js.stream_info(subjects.INBOUND_STREAM)).state.messages:
            assert asyncio.get_running_loop().time() < deadline, "inbound not drained"
            await asyncio.sleep(0.05)
        sub = await js.pull_subscribe(
            "cf.log.>",
            stream=subjects.CASELOG_STREAM,
            config=ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL),
        )
        caselog: dict[str, list[str]] = {}
        pending = (await sub.consumer_info()).num_pending
        fetched = 0
        while fetched < pending:
            batch = await sub.fetch(min(500, pending - fetched), timeout=10)
            fetched += len(batch)
            for message in batch:
                envelope = parse_envelope(message.data)
                caselog.setdefault(envelope.caseref, []).append(envelope.id)
        await sub.unsubscribe()
    finally:
        await nc.close()
    return Outcome(cases, history, processed, disclosures, caselog, handled_by)


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_two_hub_replicas_reach_the_single_hub_state(tmp_path: Path) -> None:
    pki = EphemeralPki(FORCES)
    workload = _workload(pki)
    total = sum(len(envelopes) for envelopes in workload.values())
    assert total == 2000

    now = utcnow()  # one hub clock for both runs: only the messages may make a difference

    single = await _run(tmp_path / "single", pki, workload, 1, now)
    # The same deployment secrets (subject-key HMAC, ledger key) for the second run.
    shutil.copytree(tmp_path / "single" / "secrets", tmp_path / "double" / "secrets")
    double = await _run(tmp_path / "double", pki, workload, 2, now)

    for outcome in (single, double):
        # Each envelope processed exactly once; each disclosure logged once.
        assert len(outcome.processed) == total == len(set(outcome.processed))
        assert set().union(*outcome.handled_by.values()) <= set(outcome.processed)
        assert len(outcome.disclosures) == len(set(outcome.disclosures))
        # Per-case order: the case log holds each case's envelopes in the order sent.
        assert outcome.caselog == {
            case_ref: [e.id for e in envelopes] for case_ref, envelopes in workload.items()
        }
    # Both replicas did real work, and the result is the single hub's, case by case.
    assert set(double.handled_by) == {"hub-1", "hub-2"}
    assert all(double.handled_by.values())
    assert double.cases.keys() == single.cases.keys() == workload.keys()
    for case_ref in workload:
        assert double.cases[case_ref] == single.cases[case_ref], case_ref
        assert double.history[case_ref] == single.history[case_ref], case_ref
    assert sorted(double.disclosures) == sorted(single.disclosures)
