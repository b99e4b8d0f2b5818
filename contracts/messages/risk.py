"""Events that cut across the normal flow: immediate risk, and a crime alleged alongside."""

from __future__ import annotations

from pydantic import AwareDatetime, Field, model_validator

from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.common import ForceCode, OneLine, PartyId, RecordRef, unique
from crossforce.contracts.registry import REGISTRY


@REGISTRY.register
class ImmediateRiskRaised(Message):
    """Immediate or imminent risk, raised at any stage; it pre-empts the normal flow and every
    force involved must act now (domain.md §4.3; 001 ¶34(g), ¶38; 000 §3.2.8, §3.4.6;
    003 §9.9, §5.20.2)."""

    NAME = "immediate-risk-raised"
    VERSION = 1

    # The people at risk (A, children), not the subject.
    at_risk_party_ids: list[PartyId] = Field(min_length=1, max_length=20)
    raised_at: AwareDatetime
    action_taken: OneLine
    # The force that must act, when the risk is in another force's area.
    action_force: ForceCode | None = None
    incident: RecordRef | None = None

    @model_validator(mode="after")
    def _unique(self) -> ImmediateRiskRaised:
        unique(self.at_risk_party_ids, "party_id")
        return self


@REGISTRY.register
class CrimeLinked(Message):
    """A crime is alleged: it is investigated as a crime and the disclosure case may run
    alongside (domain.md §4.2; 001 ¶23, ¶42; 003 §8.9)."""

    NAME = "crime-linked"
    VERSION = 1

    crime: RecordRef
    investigating_force: ForceCode
    linked_at: AwareDatetime
    # False when the investigation means the disclosure case is paused rather than run together.
    runs_alongside: bool = True
    party_ids: list[PartyId] = Field(default_factory=list, max_length=20)
