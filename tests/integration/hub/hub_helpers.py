"""Shared by the hub scenario tests: payloads (parties, case openings, enquiries) and
readers that drain what each force has been delivered."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from crossforce.adapters.client.force_client import ForceClient
from crossforce.broker.scenario import PARTIES, _build
from crossforce.contracts.envelope import Envelope
from crossforce.contracts.messages.base import Message

# An applicant whose identity the receiving force has verified.
A_APPLICANT = {"is_applicant": True, "identity_verified": True}


def party(party_id: str, role: str, home: str, **extra: Any) -> dict[str, Any]:
    person = PARTIES.get(party_id, {}).get("person") or {
        "given_names": f"Given{party_id}",
        "family_name": "Example",
        "date_of_birth": "1980-01-01",
    }
    return {"party_id": party_id, "role": role, "home_force": home, "person": person, **extra}


def opened(receiving: str, coordinating: str, parties: list[dict[str, Any]], **kw: Any) -> Message:
    return _build(
        "case-opened",
        receiving,
        coordinating,
        receiving_force=receiving,
        coordinating_force=coordinating,
        parties=parties,
        **kw,
    )


def enquiry(sender: str, to: str, enquiry_id: str, party_id: str, home: str) -> Message:
    return _build(
        "enquiry-requested",
        sender,
        to,
        enquiry_id=enquiry_id,
        responding_force=to,
        party_ids=[party_id],
        parties=[party(party_id, "B", home)],
        due_at=None,  # the hub times it by the SLA policy
    )


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


async def names_received(client: ForceClient) -> list[str]:
    """The message names waiting for the force, drained and acked."""
    return [envelope.name for envelope in await drain(client)]


async def names_by_force(clients: Mapping[str, ForceClient], *forces: str) -> dict[str, list[str]]:
    """`names_received` for several forces at once."""
    drained = await drain_all({force: clients[force] for force in forces})
    return {force: [envelope.name for envelope in found] for force, found in drained.items()}
