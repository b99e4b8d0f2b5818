"""What a translator knows: the wire message, its envelope, the case as it stands, and the
enquiry ids the case has given out so far."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypedDict

from crossforce.broker.domain import commands as c
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.parts import PartKind
from crossforce.broker.domain.sla import SlaPolicy
from crossforce.broker.service.ports import EscalationNotice
from crossforce.contracts.envelope import Envelope
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.messages.base import Message


class CommandBase(TypedDict):
    case_ref: str
    actor: str
    at: datetime


@dataclass
class Translation:
    """One wire message being turned into domain commands."""

    envelope: Envelope
    message: Message
    case: Case | None
    policy: SlaPolicy
    # The keyed subject key of a wire person (the ledger's HMAC of identity).
    subject_key: Callable[[Any], str | None]
    # Party id -> the wire person, kept for the hub's own messages that must name them.
    persons: dict[str, Any] = field(default_factory=dict)
    # The hub's own record of an escalation notice it sent in this case, by envelope id.
    notice: Callable[[str], EscalationNotice | None] = lambda _envelope_id: None

    @property
    def base(self) -> CommandBase:
        return {
            "case_ref": self.envelope.caseref,
            "actor": self.envelope.senderforce,
            "at": self.envelope.time,
        }

    @property
    def open_case(self) -> Case:
        if self.case is None:
            raise ContractError(ReasonCode.UNKNOWN_CASE, f"no open case {self.envelope.caseref}")
        return self.case

    def parts_for(self, enquiry_id: str) -> list[str]:
        """The parts an enquiry created, one per party it asked about."""
        parts = [p.part_id for p in self.open_case.parts if p.enquiry_id == enquiry_id]
        if not parts:
            raise ContractError(ReasonCode.RULE_VIOLATION, f"unknown enquiry {enquiry_id}")
        return parts

    def known_part(self, name: str) -> str | None:
        """A hub part id, or the one part of a one-party enquiry id; None for anything else."""
        if any(part.part_id == name for part in self.open_case.parts):
            return name
        parts = [p.part_id for p in self.open_case.parts if p.enquiry_id == name]
        return parts[0] if len(parts) == 1 else None

    def handoff_part(self, recipient_party_id: str) -> str:
        """The open disclosure-delivery part the sender holds for this recipient."""
        for part in reversed(self.open_case.parts):
            if (
                part.kind is PartKind.DISCLOSURE_DELIVERY
                and part.party_id == recipient_party_id
                and part.owner == self.envelope.senderforce
                and part.is_open
            ):
                return part.part_id
        raise ContractError(
            ReasonCode.INVALID_TRANSITION,
            f"no-handoff: {self.envelope.senderforce} holds no disclosure hand-off for "
            f"{recipient_party_id}",
        )

    def part_of_kind(self, kind: PartKind, owner: str | None = None) -> str:
        for part in reversed(self.open_case.parts):
            if part.kind is kind and (owner is None or part.owner == owner):
                return part.part_id
        raise ContractError(ReasonCode.INVALID_TRANSITION, f"no {kind.value} part for this case")

    def learn(self, case: Case) -> None:
        """After each command: the case as it now is."""
        self.case = case


Translator = Callable[[Any, Translation], list[c.Command]]


def ref_text(ref: Any) -> str:
    return f"{ref.force}/{ref.reference}"
