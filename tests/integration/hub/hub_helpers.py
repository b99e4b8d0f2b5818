"""Shared by the hub tests on NATS: the forces they use, waiting for a condition, and readers
that drain what each force has been delivered. Payloads (parties, case openings) are in
crossforce.adapters.testing.payloads. Test modules import these from here, never from
conftest: another folder's conftest.py may have taken that module name first."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from crossforce.adapters.client.force_client import ForceClient
from crossforce.contracts.envelope import Envelope

FORCES = ["HUB", "KENT", "ESSEX", "SURREY", "PSOS", "PSOS_E", "METROPOLITAN"]

T = TypeVar("T")


async def eventually(
    check: Callable[[], Awaitable[T] | T], *, timeout: float = 20.0, interval: float = 0.05
) -> T:
    """Poll `check` until it returns something truthy; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value  # type: ignore[return-value]
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last value {value!r})")
        await asyncio.sleep(interval)


async def drain(client: ForceClient, idle_timeout: float = 1.0) -> list[Envelope]:
    """Every delivery waiting for the force, verified by the client and acked."""
    received = []
    async for delivery in client.deliveries(idle_timeout=idle_timeout):
        received.append(delivery.envelope)
        await delivery.ack()
    return received


async def drain_all(clients: Mapping[str, ForceClient]) -> dict[str, list[Envelope]]:
    forces = list(clients)
    results = await asyncio.gather(*(drain(clients[force]) for force in forces))
    return dict(zip(forces, results, strict=True))


async def names_by_force(clients: Mapping[str, ForceClient], *forces: str) -> dict[str, list[str]]:
    """The message names waiting for each of `forces`, drained and acked."""
    drained = await drain_all({force: clients[force] for force in forces})
    return {force: [envelope.name for envelope in found] for force, found in drained.items()}
