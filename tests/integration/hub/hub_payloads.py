"""Message payloads for the hub scenario tests: parties, case openings and enquiries."""

from __future__ import annotations

from typing import Any

from broker.scenario import PARTIES, _build
from contracts.messages.base import Message

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
