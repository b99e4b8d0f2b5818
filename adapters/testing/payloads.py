"""Payloads for the hub's scenario tests: parties, case openings and enquiries.

Shared by the in-process scenarios (tests/unit/service/scenarios/) and those that still run
on NATS (tests/integration/hub/). Each payload is the registry's example of its type with the
scenario's own ids and parties, dated `now` (default: the real clock), since the hub checks
the dates a message reports against its envelope's time: an in-process hub with a fixed clock
passes its own instant.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from crossforce.broker.scenario import PARTIES, _build
from crossforce.contracts.messages.base import Message

# An applicant whose identity the receiving force has verified.
A_APPLICANT: Final[dict[str, Any]] = {"is_applicant": True, "identity_verified": True}


def build(
    name: str, sender: str, recipient: str, *, now: datetime | None = None, **changes: Any
) -> Message:
    """The example of message `name` from `sender` to `recipient`, with `changes` applied."""
    return _build(name, sender, recipient, now=now, **changes)


def party(party_id: str, role: str, home: str, **extra: Any) -> dict[str, Any]:
    """A party of the scripted case (its person, where it has one) in `role`, living in
    `home`'s area."""
    person = PARTIES.get(party_id, {}).get("person") or {
        "given_names": f"Given{party_id}",
        "family_name": "Example",
        "date_of_birth": "1980-01-01",
    }
    return {"party_id": party_id, "role": role, "home_force": home, "person": person, **extra}


def opened(
    receiving: str,
    coordinating: str,
    parties: list[dict[str, Any]],
    *,
    now: datetime | None = None,
    **changes: Any,
) -> Message:
    """`receiving` opens a case that `coordinating` co-ordinates, about `parties`."""
    return _build(
        "case-opened",
        receiving,
        coordinating,
        now=now,
        receiving_force=receiving,
        coordinating_force=coordinating,
        parties=parties,
        **changes,
    )


def enquiry(
    sender: str,
    to: str,
    enquiry_id: str,
    party_id: str,
    home: str,
    *,
    now: datetime | None = None,
) -> Message:
    """`sender` asks `to` to check one party (role B, living in `home`'s area), timed by the
    hub's SLA policy."""
    return _build(
        "enquiry-requested",
        sender,
        to,
        now=now,
        enquiry_id=enquiry_id,
        responding_force=to,
        party_ids=[party_id],
        parties=[party(party_id, "B", home)],
        due_at=None,
    )
