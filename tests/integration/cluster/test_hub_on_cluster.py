"""5,000 messages through a hub on a 3-node JetStream cluster (R3 streams) while one node is
killed and restarted: nothing lost, nothing processed twice, exactly one receipt each."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from crossforce.adapters.client.force_client import ForceClient, SignedReceipt
from crossforce.adapters.sql.schema import disclosure_log, processed_envelopes
from crossforce.adapters.testing.cluster import LoopbackCluster
from crossforce.broker.runtime import BrokerSettings, RunningBroker
from crossforce.broker.scenario import FORCES, case_steps
from crossforce.contracts.examples import example
from crossforce.contracts.messages.base import Message
from crossforce.contracts.pki import EphemeralPki

pytestmark = [pytest.mark.server, pytest.mark.slow, pytest.mark.timeout(600)]

CASES = 100
PER_CASE = 50  # case-opened, enquiry-requested, then delays: 5,000 messages in all
IN_FLIGHT = 40
RECEIPT_WAIT = 15.0
ATTEMPTS = 8


def case_messages(case_ref: str) -> list[tuple[str, Message, tuple[str, ...]]]:
    opened, enquiry = case_steps(case_ref)[:2]
    delay = example("delay-notified", opened.recipients[0], opened.sender)
    delay = delay.model_copy(update={"part_id": "ENQ-A"})
    flow = [(opened.sender, opened.message, opened.recipients)]
    flow.append((enquiry.sender, enquiry.message, enquiry.recipients))
    flow += [(enquiry.sender, delay, (opened.sender,))] * (PER_CASE - 2)
    return flow


async def send_until_receipted(
    client: ForceClient, message: Message, case_ref: str, recipients: tuple[str, ...]
) -> SignedReceipt:
    """Publish, and publish the same envelope again (same Nats-Msg-Id) until its receipt."""
    envelope = client.envelope(message, case_ref=case_ref, recipients=recipients)
    for _ in range(ATTEMPTS):
        try:
            await client.publish(envelope)
        except Exception:  # a node is down or the stream is electing a leader
            await asyncio.sleep(1.0)
            continue
        try:
            return await client.receipt(envelope.id, timeout=RECEIPT_WAIT)
        except TimeoutError:
            continue
    raise AssertionError(f"no receipt for {envelope.id} after {ATTEMPTS} attempts")


async def test_5000_messages_survive_a_node_crash(tmp_path: Path) -> None:
    pki = EphemeralPki(FORCES)
    trust = pki.trust_store()
    with LoopbackCluster(tmp_path / "cluster", size=3) as cluster:
        db_url = f"sqlite:///{tmp_path / 'hub.db'}"
        settings = BrokerSettings(
            data_dir=tmp_path / "hub",
            nats_url=cluster.url,
            replicas=3,
            partitions=4,
            db_url=db_url,
        )
        async with RunningBroker(settings, trust=trust, hub_key=pki.key("HUB")):
            clients = {
                force: await ForceClient(
                    force=force, key=pki.key(force), trust=trust, nats_url=cluster.url
                ).connect()
                for force in FORCES[1:]
            }
            receipts: list[tuple[str, SignedReceipt]] = []
            gate = asyncio.Semaphore(IN_FLIGHT)
            crashed = asyncio.Event()

            async def run_case(number: int) -> None:
                case_ref = f"CF-2026-{number:06d}"
                async with gate:
                    for sender, message, recipients in case_messages(case_ref):
                        receipt = await send_until_receipted(
                            clients[sender], message, case_ref, recipients
                        )
                        receipts.append((case_ref, receipt))

            async def crash_and_recover() -> None:
                while len(receipts) < 1500:
                    await asyncio.sleep(0.2)
                cluster.kill(1)
                crashed.set()
                await asyncio.sleep(3.0)
                await asyncio.to_thread(cluster.restart, 1)

            try:
                await asyncio.gather(
                    crash_and_recover(), *(run_case(n) for n in range(1, CASES + 1))
                )
            finally:
                for client in clients.values():
                    await client.close()

    assert crashed.is_set()
    total = CASES * PER_CASE
    assert len(receipts) == total
    answered = Counter(receipt.receipt.in_reply_to for _, receipt in receipts)
    assert len(answered) == total and set(answered.values()) == {1}
    refused = [(ref, r.reason_code) for ref, r in receipts if not r.accepted]
    assert refused == []

    engine = create_engine(db_url)
    with engine.connect() as db:
        assert db.scalar(select(func.count()).select_from(processed_envelopes)) == total
        duplicates = db.execute(
            select(disclosure_log.c.envelope_id, disclosure_log.c.disclosed_to)
            .group_by(disclosure_log.c.envelope_id, disclosure_log.c.disclosed_to)
            .having(func.count() > 1)
        ).all()
        assert duplicates == []
        logged = db.scalar(select(func.count(func.distinct(disclosure_log.c.envelope_id))))
        # Every message is disclosed to a recipient: the openings and enquiries, and the delay
        # notices too, because they name the late enquiry and its owner hears of them.
        assert logged == total
    engine.dispose()
