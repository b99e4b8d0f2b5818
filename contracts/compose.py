"""Wrap a typed message in an envelope addressed from one force to others."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pydantic import ValidationError

from crossforce.contracts.envelope import (
    Envelope,
    Jurisdiction,
    SecurityMarking,
    force_urn,
    invalid_envelope,
)
from crossforce.contracts.ids import new_envelope_id
from crossforce.contracts.keys import utcnow
from crossforce.contracts.messages.base import Message

# Default purpose and lawful basis carried on every message (domain.md §6).
DEFAULT_PURPOSE = "Domestic abuse disclosure scheme enquiry (DVDS / DSDAS)"
DEFAULT_LAWFUL_BASIS = (
    "DPA 2018 Part 3 s.35 law enforcement processing; common law police power to disclose"
)


def compose(
    message: Message,
    *,
    sender: str,
    case_ref: str,
    recipients: Iterable[str] = (),
    jurisdiction: Jurisdiction = Jurisdiction.ENGLAND_WALES,
    marking: SecurityMarking = SecurityMarking.OFFICIAL_SENSITIVE,
    purpose: str = DEFAULT_PURPOSE,
    lawful_basis: str = DEFAULT_LAWFUL_BASIS,
    causation_id: str | None = None,
    correlation_id: str | None = None,
    envelope_id: str | None = None,
    time: datetime | None = None,
    actor: str | None = None,
) -> Envelope:
    """An unsigned envelope; sign it with `crossforce.contracts.signing.sign_envelope`. A
    field the envelope cannot carry (e.g. a case reference with a space) is a ContractError
    INVALID_ENVELOPE. `actor` names the person who acted at the sending force (the
    envelope's `actor` extension, signed with the rest)."""
    try:
        return Envelope(
            id=envelope_id or new_envelope_id(),
            source=force_urn(sender),
            type=message.type_uri(),
            time=time or utcnow(),
            subject=case_ref,
            dataschema=message.dataschema(),
            caseref=case_ref,
            causationid=causation_id,
            correlationid=correlation_id,
            senderforce=sender,
            recipients=",".join(recipients),
            jurisdiction=jurisdiction,
            securitymarking=marking,
            purpose=purpose,
            lawfulbasis=lawful_basis,
            actor=actor,
            data=message.model_dump(mode="json"),
        )
    except ValidationError as exc:
        raise invalid_envelope(exc) from None
