"""The order a force is handed its deliveries, through a hub on a real nats-server: immediate
risk ahead of routine traffic already waiting in the client, and routine traffic handed out
as it arrives, never held back to look at the immediate-risk queue
(docs/decisions/0009-immediate-risk-queue.md).

Each waits for a state of the force's consumers, read on the force's own connection, and
asserts what is handed out next; none measures time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from crossforce.adapters.client import force_client as sdk
from crossforce.adapters.client.force_client import ForceClient
from crossforce.adapters.nats import subjects
from crossforce.adapters.testing.broker import ForceClientFactory, expect_receipt
from crossforce.adapters.testing.payloads import A_APPLICANT, opened, party
from crossforce.broker.scenario import _build
from crossforce.contracts.messages.base import Message

pytestmark = [pytest.mark.server, pytest.mark.crossforce_forces("KENT", "ESSEX")]

CASES = ["CF-2026-200001", "CF-2026-200002", "CF-2026-200003"]


def opening() -> Message:
    """Kent receives a case that Essex co-ordinates: a routine delivery to Essex."""
    parties = [party("P1", "A", "ESSEX", **A_APPLICANT), party("P2", "B", "KENT")]
    return opened("KENT", "ESSEX", parties)


async def reached(client: ForceClient, consumer: str, check: Callable[[Any], bool]) -> None:
    """Wait until the force's consumer is in the state `check` accepts (bounded attempts)."""
    for _ in range(1000):
        info = await client.js.consumer_info(subjects.DELIVERY_STREAM, consumer)
        if check(info):
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{consumer} never reached the state expected; last: {info}")


async def test_an_arriving_immediate_risk_delivery_overtakes_routine_ones_waiting(
    force_client: ForceClientFactory,
) -> None:
    kent, essex = await force_client("KENT"), await force_client("ESSEX")
    for case in CASES:
        await expect_receipt(kent.send(opening(), case_ref=case, recipients=["ESSEX"]))
    routine, urgent = subjects.delivery_consumer("ESSEX"), subjects.priority_consumer("ESSEX")
    stream = essex.deliveries()
    try:
        first = await anext(stream)
        assert (first.envelope.name, first.envelope.caseref) == ("case-opened", CASES[0])
        await first.ack()
        # The two other openings have been pulled into Essex's client, not yet handed out.
        await reached(essex, routine, lambda i: (i.num_pending, i.num_ack_pending) == (0, 2))
        risk = _build("immediate-risk-raised", "KENT", "ESSEX", at_risk_party_ids=["P1"])
        await expect_receipt(kent.send(risk, case_ref=CASES[2], recipients=["ESSEX"]))
        # Now the immediate-risk delivery has been pulled too.
        await reached(essex, urgent, lambda i: (i.num_pending, i.num_ack_pending) == (0, 1))
        handed = []
        for _ in range(3):
            delivery = await anext(stream)
            handed.append((delivery.envelope.name, delivery.envelope.caseref, delivery.priority))
            await delivery.ack()
    finally:
        await stream.aclose()
    assert handed == [
        ("immediate-risk-raised", CASES[2], True),
        ("case-opened", CASES[1], False),
        ("case-opened", CASES[2], False),
    ]


async def test_a_routine_delivery_is_handed_out_while_the_immediate_risk_pull_still_waits(
    force_client: ForceClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each pull may wait an hour at the server: a reader that looked at the immediate-risk
    # queue before each routine delivery would not hand this one out.
    monkeypatch.setattr(sdk, "LONG_POLL_SECONDS", 3600.0)
    kent, essex = await force_client("KENT"), await force_client("ESSEX")
    routine, urgent = subjects.delivery_consumer("ESSEX"), subjects.priority_consumer("ESSEX")
    stream = essex.deliveries()
    try:
        waiting = asyncio.ensure_future(anext(stream))
        # Essex waits on both of its queues, one pull each, before anything is sent.
        for consumer in (routine, urgent):
            await reached(essex, consumer, lambda i: i.num_waiting == 1)
        await expect_receipt(kent.send(opening(), case_ref=CASES[0], recipients=["ESSEX"]))
        delivery = await waiting
        assert (delivery.envelope.name, delivery.priority) == ("case-opened", False)
        await delivery.ack()
        # The immediate-risk queue was asked once, and that pull is still waiting.
        info = await essex.js.consumer_info(subjects.DELIVERY_STREAM, urgent)
        assert (info.num_waiting, info.num_ack_pending) == (1, 0)
    finally:
        await stream.aclose()
