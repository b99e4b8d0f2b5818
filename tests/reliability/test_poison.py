"""Poison: malformed messages on every inbound partition never hold up the valid ones behind.

Twenty inputs of the kinds that once held a partition for half an hour (a 10,000-deep
nesting, a 5,000-digit integer, NaN, Infinity, 1e400, a lone surrogate, inside an envelope's
`data`) go to all sixteen partitions first; then every partition gets valid messages, some on
the very cases the poison arrived on. Each valid one must get its receipt: the bound is
generous (a liveness check, not a timing test) and the worst time is reported.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import nats
import pytest
from conservation import APPLIED, REFUSED, SendLog, check_conservation, read_stream
from harness import case_refs_by_partition, inbound_partition, signed_step, wait_for_answers

from crossforce.adapters.client.force_client import ForceClient
from crossforce.adapters.nats import subjects
from crossforce.broker.runtime import BrokerSettings, RunningBroker
from crossforce.broker.scenario import FORCES
from crossforce.contracts.errors import ReasonCode
from crossforce.contracts.pki import EphemeralPki

pytestmark = pytest.mark.server

PARTITIONS = subjects.DEFAULT_PARTITIONS
POISON = [
    '{"n": ' + "[" * 10_000 + "]" * 10_000 + "}",
    '{"n": ' + "9" * 5_000 + "}",
    '{"n": NaN}',
    '{"n": Infinity}',
    '{"n": -Infinity}',
    '{"n": 1e400}',
    '{"n": "\\ud800"}',
    '{"n": 1, "n": 2}',
]
LIVENESS_BOUND_SECONDS = 30.0


@pytest.fixture()
async def running(tmp_path: Path) -> AsyncIterator[tuple[RunningBroker, EphemeralPki]]:
    pki = EphemeralPki(FORCES)
    settings = BrokerSettings(data_dir=tmp_path / "broker", partitions=PARTITIONS)
    async with RunningBroker(settings, trust=pki.trust_store(), hub_key=pki.key("HUB")) as broker:
        yield broker, pki


def _poisoned(pki: EphemeralPki, case_ref: str, number: int) -> bytes:
    """A validly signed case opening whose `data` then gets one hostile member."""
    text = json.dumps(json.loads(signed_step(pki, case_ref, 0).to_bytes()))
    hostile = POISON[number % len(POISON)]
    return text.replace('"data": {', '"data": {"x": ' + hostile + ", ", 1).encode()


async def test_malformed_messages_on_every_partition_hold_up_no_valid_one(
    running: tuple[RunningBroker, EphemeralPki], notes: dict[str, str]
) -> None:
    broker, pki = running
    by_partition = case_refs_by_partition(PARTITIONS, 2, "CF-POISON")
    poisoned_cases = [refs[0] for refs in by_partition]
    clean_cases = [refs[1] for refs in by_partition]
    nc = await nats.connect(broker.nats_url)
    js = nc.jetstream()
    log = SendLog()
    # The hub is held back while everything is queued, so the poison is at the head of
    # every partition when it starts.
    await broker.stop_replica()
    for number in range(20):
        case_ref = poisoned_cases[number % PARTITIONS]
        await log.publish(
            js,
            "KENT",
            case_ref,
            _poisoned(pki, case_ref, number),
            f"poison-{number}",
            expect=REFUSED,
            reason=ReasonCode.MALFORMED_JSON,
        )
    valid = []
    for case_ref in (*poisoned_cases, *clean_cases):
        envelope = signed_step(pki, case_ref, 0)
        valid.append(envelope)
        await log.publish_envelope(js, envelope, expect=APPLIED)

    async with ForceClient(
        force="KENT", key=pki.key("KENT"), trust=pki.trust_store(), nats_url=broker.nats_url
    ) as kent:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await broker.start_replica()

        async def answered(envelope_id: str) -> float:
            receipt = await kent.receipt(envelope_id, timeout=LIVENESS_BOUND_SECONDS)
            assert receipt.accepted, receipt.reason_code
            return loop.time() - started

        times = await asyncio.gather(*(answered(envelope.id) for envelope in valid))
    worst = max(times)
    notes["poison: worst receipt time of a valid message"] = (
        f"{worst:.2f} s ({len(valid)} valid behind 20 malformed on {PARTITIONS} partitions)"
    )
    assert worst < LIVENESS_BOUND_SECONDS

    await wait_for_answers(broker.nats_url, log, timeout=60)
    # The poison really was on every partition.
    letters = await read_stream(js, subjects.DEADLETTER_STREAM)
    hit = {int(m.headers["Crossforce-Arrival-Subject"].split(".")[2]) for m in letters}
    assert hit == set(range(PARTITIONS))
    for letter in letters:
        address = subjects.parse_inbound(letter.headers["Crossforce-Arrival-Subject"])
        assert address.partition == inbound_partition(address.case_ref, PARTITIONS)
    await nc.close()
    assert broker.engine is not None
    report = await check_conservation(broker.nats_url, broker.engine, log)
    assert report.ok, str(report)
    assert report.refusals == {"MALFORMED_JSON": 20} and report.applied == 2 * PARTITIONS
