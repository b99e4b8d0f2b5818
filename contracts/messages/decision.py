"""Decisions at the England & Wales forum, recorded against the Annex G checklist."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field, model_validator

from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.common import AgencyKind, Name, Officer, Part, PartyId, Rationale
from crossforce.contracts.registry import REGISTRY


class ForumKind(StrEnum):
    """Where the decision was taken. Who decides concern / no concern is a setting
    (domain.md §9.4); Kent decides in an existing MARAC, MAPPA or child-protection forum when
    the case is already there (000 §3.8.1–3.8.2)."""

    POLICE = "police"
    MARAC = "marac"
    PANEL = "panel"
    MAPPA = "mappa"
    CHILD_PROTECTION = "child-protection"


class AnnexGAnswer(Part):
    """One Annex G line: yes or no, with the rationale that must stand scrutiny (001 ¶94)."""

    answer: bool
    rationale: Rationale


class Attendee(Part):
    agency: AgencyKind
    # The attendee's role at the forum ("chair", "DA Hub DI", "IDVA manager"); no names.
    role: Name
    agency_name: Name | None = None


@REGISTRY.register
class DecisionRecorded(Message):
    """The forum's decision against the Annex G checklist (domain.md §1.3, §4.6–4.9, §5;
    001 Annex G, ¶66–82, ¶90–94)."""

    NAME = "decision-recorded"
    VERSION = 1

    forum: ForumKind
    decided_at: AwareDatetime
    decided_by: Officer
    concerns: AnnexGAnswer
    disclose: AnnexGAnswer
    representations_from_b: AnnexGAnswer
    inform_b: AnnexGAnswer
    mappa_iom_referral: AnnexGAnswer
    attendees: list[Attendee] = Field(min_length=1, max_length=30)
    disclosure_recipient_party_id: PartyId | None = None
    # B's party id, so a later submission can show repeated requests about the same subject.
    subject_party_id: PartyId | None = None

    @model_validator(mode="after")
    def _recipient(self) -> DecisionRecorded:
        # Structural only; case rules (e.g. B is never told when nothing is disclosed) are the
        # hub's, so that a breach is refused with RULE_VIOLATION and recorded.
        if self.disclose.answer and self.disclosure_recipient_party_id is None:
            raise ValueError("a decision to disclose names disclosure_recipient_party_id")
        if not self.disclose.answer and self.disclosure_recipient_party_id is not None:
            raise ValueError("no disclosure, so no disclosure_recipient_party_id")
        return self
