"""Helpers behind the Crossforce pytest plugin: a throwaway hub on a test NATS server, and
assertions a force's integration tests make about receipts and deliveries.

    receipt = await expect_receipt(kent.send(message, case_ref=ref, recipients=["ESSEX"]))
    delivery = await expect_delivery(essex, "case-opened", timeout=10)

Everything here imports lazily from the plugin, so sessions that never use a Crossforce
fixture pay nothing for it.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import aclosing, asynccontextmanager
from datetime import datetime
from pathlib import Path

import nats

from crossforce.adapters.client.force_client import Delivery, ForceClient, SignedReceipt
from crossforce.broker.runtime import BrokerSettings, RunningBroker, hub_connect_options
from crossforce.contracts.envelope import HUB_FORCE_CODE
from crossforce.contracts.keys import utcnow
from crossforce.contracts.pki import EphemeralPki

__all__ = [
    "DEFAULT_FORCES",
    "FORCES_MARKER",
    "ForceClientFactory",
    "expect_delivery",
    "expect_receipt",
    "forget_streams",
    "make_pki",
    "running_hub",
]

# The forces of the scripted demo case: enough for most cross-force flows.
DEFAULT_FORCES: tuple[str, ...] = ("KENT", "ESSEX", "SURREY", "METROPOLITAN", "PSOS", "PSOS_E")
FORCES_MARKER = "crossforce_forces"

ForceClientFactory = Callable[[str], Awaitable[ForceClient]]


def make_pki(forces: Iterable[str], *, now: datetime | None = None) -> EphemeralPki:
    """Fresh keys for the given forces and for the hub, valid around `now`.

    A test that fixes its clock passes that time here, and the same clock to `running_hub`:
    keys made for the wall clock stop verifying at a fixed time once the calendar moves on."""
    chosen = [force.upper() for force in forces if force.upper() != HUB_FORCE_CODE]
    return EphemeralPki([HUB_FORCE_CODE, *dict.fromkeys(chosen)], now=now)


async def forget_streams(nats_url: str, credentials: Path | None = None) -> None:
    """Delete every JetStream stream on the server, so the next test starts clean
    (`credentials`: the hub's nkey seed, on a server with per-force users)."""
    options = hub_connect_options(BrokerSettings(nats_credentials=credentials))
    connection = await nats.connect(nats_url.split(","), **options)
    try:
        js = connection.jetstream()
        for info in await js.streams_info():
            if info.config.name:
                await js.delete_stream(info.config.name)
    finally:
        await connection.close()


@asynccontextmanager
async def running_hub(
    nats_url: str,
    pki: EphemeralPki,
    data_dir: Path,
    *,
    partitions: int = 4,
    clock: Callable[[], datetime] = utcnow,
    credentials: Path | None = None,
) -> AsyncIterator[RunningBroker]:
    """A hub (SQLite in `data_dir`) on an existing NATS server, as the HUB user when given its
    `credentials`; its streams are deleted on the way out, because the server is shared by the
    whole test session. A fixed `clock` goes with keys made for it:
    `make_pki(forces, now=clock())`."""
    settings = BrokerSettings(
        data_dir=data_dir, nats_url=nats_url, partitions=partitions, nats_credentials=credentials
    )
    try:
        async with RunningBroker(
            settings, trust=pki.trust_store(), hub_key=pki.key(HUB_FORCE_CODE), clock=clock
        ) as running:
            yield running
    finally:
        await forget_streams(nats_url, credentials)


async def expect_receipt(
    receipt: SignedReceipt | Awaitable[SignedReceipt],
    *,
    accepted: bool = True,
    reason_code: str | None = None,
) -> SignedReceipt:
    """Await a send (or take its receipt) and assert the hub's verdict.

    With `reason_code`, the receipt must be a rejection with that stable code."""
    if inspect.isawaitable(receipt):
        receipt = await receipt
    if reason_code is not None:
        accepted = False
    got = receipt.reason_code.value if receipt.reason_code is not None else None
    if receipt.accepted != accepted:
        verdict = "accepted" if receipt.accepted else f"rejected ({got})"
        wanted = "accepted" if accepted else "rejected"
        raise AssertionError(f"expected the message to be {wanted}, but it was {verdict}")
    if reason_code is not None and got != reason_code:
        raise AssertionError(f"expected reason code {reason_code!r}, got {got!r}")
    return receipt


def _matches(delivery: Delivery, type_name: str) -> bool:
    envelope_type = delivery.envelope.type
    return type_name in (envelope_type, delivery.envelope.name) or envelope_type.endswith(
        f".{type_name}"
    )


async def expect_delivery(
    client: ForceClient, type_name: str, timeout: float = 10.0, *, ack: bool = True
) -> Delivery:
    """The next delivery to `client` of the given type (`case-opened`, `case-opened.v1` or
    the full CloudEvents type), within `timeout` seconds.

    Deliveries of other types read on the way are acknowledged and skipped; the matching
    one is acknowledged too unless `ack=False`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen: list[str] = []
    while (remaining := deadline - loop.time()) > 0:
        # One message per fetch, and no cancellation: nothing is left pending unacked.
        async with aclosing(client.deliveries(idle_timeout=remaining, batch=1)) as stream:
            async for delivery in stream:
                if _matches(delivery, type_name):
                    if ack:
                        await delivery.ack()
                    return delivery
                seen.append(delivery.envelope.type)
                await delivery.ack()
                if loop.time() >= deadline:
                    break
    others = f"; saw only {seen}" if seen else "; nothing was delivered"
    raise AssertionError(
        f"{client.force} had no {type_name!r} delivery within {timeout:g}s{others}"
    )
