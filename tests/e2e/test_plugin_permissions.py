"""The pytest plugin's broker enforces production's per-force NATS permissions: each force
client is its own nkey user, and Kent's user cannot read Essex's queue, even with a delivery
waiting in it."""

from __future__ import annotations

import asyncio

import nats
import pytest
from nats.errors import TimeoutError as NatsTimeoutError

from crossforce.adapters.nats import subjects
from crossforce.adapters.testing.broker import expect_delivery, expect_receipt
from crossforce.adapters.testing.containers import NatsService
from crossforce.broker.scenario import case_steps

pytestmark = pytest.mark.crossforce_forces("KENT", "ESSEX")

CASE = "CF-2026-000321"


async def test_kent_cannot_read_essex_queue(force_client, nats_service_session: NatsService):
    assert {"HUB", "KENT", "ESSEX"} <= set(nats_service_session.credentials)
    kent = await force_client("KENT")
    opened = case_steps(CASE)[0]
    await expect_receipt(kent.send(opened.message, case_ref=CASE, recipients=["ESSEX"]))

    violations: list[str] = []

    async def noted(error: Exception) -> None:
        violations.append(str(error))

    as_kent = await nats.connect(
        nats_service_session.url,
        nkeys_seed=str(nats_service_session.credentials["KENT"]),
        inbox_prefix=subjects.inbox_prefix("KENT").encode(),
        error_cb=noted,
    )
    try:
        stolen = await as_kent.jetstream().pull_subscribe_bind(
            durable=subjects.delivery_consumer("ESSEX"),
            stream=subjects.DELIVERY_STREAM,
            inbox_prefix=subjects.pull_inbox_prefix("KENT"),
        )
        with pytest.raises(NatsTimeoutError):
            await stolen.fetch(1, timeout=2)
        await as_kent.publish(subjects.inbound_subject("ESSEX", CASE), b"{}")
        await as_kent.flush(timeout=2)
        # The server's refusal reaches error_cb asynchronously.
        for _ in range(100):
            if any(CASE.lower() in v.lower() for v in violations):
                break
            await asyncio.sleep(0.05)
    finally:
        await as_kent.close()
    refused = " ".join(violations).lower()  # nats-py lower-cases the server's message
    assert "permissions violation" in refused, violations
    assert "msg.next.cf_delivery.essex_msg" in refused, violations
    assert f"cf.in.essex.{CASE}".lower() in refused, violations

    # The delivery is still there for Essex, its owner.
    essex = await force_client("ESSEX")
    delivery = await expect_delivery(essex, "case-opened", timeout=10)
    assert delivery.envelope.caseref == CASE
