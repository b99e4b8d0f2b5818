"""Shared by the hub tests on NATS: readers that drain what each force has been delivered.
Payloads (parties, case openings) are in crossforce.adapters.testing.payloads."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from crossforce.adapters.client.force_client import ForceClient
from crossforce.contracts.envelope import Envelope


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
