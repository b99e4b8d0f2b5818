"""Case-level records: decisions, co-ordination handovers, risk flags and linked crimes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from crossforce.broker.domain.forums import DisclosableItem, ForumBody, ForumKind
from crossforce.broker.domain.parties import PartyRole
from crossforce.broker.domain.routes import RequestType, Route


@dataclass(frozen=True, slots=True)
class Decision:
    """Annex G: each answer with its rationale and who was present [001 Annex G; ¶94]."""

    decided_by: str
    decided_at: datetime
    concern: bool
    disclose: bool
    rationale: str
    recipient_party_id: str | None
    inform_b: bool
    seek_representations: bool
    mappa_iom_referral: bool
    forum: ForumKind
    bodies: tuple[ForumBody, ...]
    items: tuple[DisclosableItem, ...]
    warnings: tuple[str, ...]


class TransferOutcome(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


@dataclass(frozen=True, slots=True)
class CoordinationTransfer:
    """A request to hand co-ordination to the force the applicant has moved to."""

    from_force: str
    to_force: str
    reason: str
    requested_by: str
    requested_at: datetime
    outcome: TransferOutcome = TransferOutcome.PENDING
    decided_at: datetime | None = None
    decline_reason: str = ""
    transfer_id: str = ""  # the requester's id; the answer must name it


@dataclass(frozen=True, slots=True)
class RiskFlag:
    raised_by: str
    raised_at: datetime
    summary: str
    part_id: str | None = None


@dataclass(frozen=True, slots=True)
class LinkedCrime:
    """A crime investigated alongside the case [001 ¶23, ¶42; 003 §8.9]."""

    crime_reference: str
    investigating_force: str
    linked_by: str
    linked_at: datetime


@dataclass(frozen=True, slots=True)
class EscalationAcknowledgement:
    """Who acknowledged which notice of the escalation ladder, and when [domain.md §8]."""

    escalation_id: str
    part_id: str | None
    deadline: str
    level: int
    notice: str
    raised_at: datetime
    acknowledged_by: str  # the force the notice was sent to
    acknowledged_at: datetime
    acted_by: str | None = None  # the person at that force, when the envelope named one


@dataclass(frozen=True, slots=True)
class ReportedParty:
    party_id: str
    role: PartyRole
    is_applicant: bool


@dataclass(frozen=True, slots=True)
class FinalReport:
    """What a final intelligence report says of the case, to check against it [001 ¶92–93]."""

    route: Route
    request_type: RequestType
    receiving_force: str
    parties: tuple[ReportedParty, ...]
    requester_is_third_party: bool
    forces_involved: tuple[str, ...]
