"""Domain events: what happened, for the hub to turn into messages and deliveries.

Each event has a kebab-case `name` matching the wire message where one exists, the case
reference, `priority`, and the part it concerns with that part's owner at the time. Events
marked `outcome` reveal the outcome of the case; see `audience.py` for who receives them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from crossforce.broker.domain.forums import DisclosableItem
from crossforce.broker.domain.parts import PartKind
from crossforce.broker.domain.routes import DeliveryMethod, RequestType, Route
from crossforce.contracts.envelope import Jurisdiction


@dataclass(frozen=True, slots=True, kw_only=True)
class DomainEvent:
    name: ClassVar[str]
    outcome: ClassVar[bool] = False

    case_ref: str
    at: datetime
    actor: str
    priority: bool = False
    part_id: str | None = None
    part_owner: str | None = None  # owner of `part_id` when the event happened

    def to_dict(self) -> dict[str, Any]:
        from crossforce.broker.domain.serialisation import encode

        body = encode(self)
        assert isinstance(body, dict)
        return {"name": self.name, **body}


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseOpened(DomainEvent):
    name: ClassVar[str] = "case-opened"
    receiving_force: str
    coordinating_force: str
    route: Route
    jurisdiction: Jurisdiction


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationRoutedAway(DomainEvent):
    """Not a genuine application: closed at once, no timers [001 ¶19, ¶34(a)]."""

    name: ClassVar[str] = "application-routed-away"
    request_type: RequestType


@dataclass(frozen=True, slots=True, kw_only=True)
class MaliciousMarkerFound(DomainEvent):
    name: ClassVar[str] = "malicious-marker-found"
    subject_key: str
    marked_in_case: str
    marked_by: str
    marked_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class PoliceEmployeeParty(DomainEvent):
    """A party is a police employee: their force's PSD is told, and nobody else through this
    event (002 L899–975: the receiving force reports to the employing force; 003 §6.14)."""

    name: ClassVar[str] = "police-employee-party"
    party_id: str
    employing_force: str
    psd: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IntelligenceRouteOpened(DomainEvent):
    """Anonymous applicant: no disclosure, concerns become intelligence [001 ¶46]."""

    name: ClassVar[str] = "intelligence-route-opened"
    reason: str
    power_to_tell: bool  # Scotland: concerns go to Power to Tell [003 §8.13]


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicantIdentityVerified(DomainEvent):
    name: ClassVar[str] = "applicant-identity-verified"
    party_id: str
    method: str
    face_to_face: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class StepCompleted(DomainEvent):
    """A timed step of the route is done; its clock stops (domain.md §3)."""

    name: ClassVar[str] = "step-completed"
    step: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EnquiryRequested(DomainEvent):
    name: ClassVar[str] = "enquiry-requested"
    party_id: str
    to_force: str
    due_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class EnquiryAcknowledged(DomainEvent):
    name: ClassVar[str] = "enquiry-acknowledged"


@dataclass(frozen=True, slots=True, kw_only=True)
class EnquiryDeclined(DomainEvent):
    name: ClassVar[str] = "enquiry-declined"
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EnquiryReassigned(DomainEvent):
    name: ClassVar[str] = "enquiry-reassigned"
    from_force: str
    to_force: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EnquiryResultRecorded(DomainEvent):
    name: ClassVar[str] = "enquiry-result"
    concern: bool
    summary: str
    items: tuple[DisclosableItem, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class PartCancelled(DomainEvent):
    name: ClassVar[str] = "part-cancelled"
    kind: PartKind
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PartyHomeForceCorrected(DomainEvent):
    name: ClassVar[str] = "party-home-force-corrected"
    party_id: str
    from_force: str
    to_force: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CoordinationTransferRequested(DomainEvent):
    name: ClassVar[str] = "coordination-transfer-requested"
    from_force: str
    to_force: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CoordinationTransferAccepted(DomainEvent):
    name: ClassVar[str] = "coordination-transfer-accepted"
    from_force: str
    to_force: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CoordinationTransferDeclined(DomainEvent):
    name: ClassVar[str] = "coordination-transfer-declined"
    from_force: str
    to_force: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ImmediateRiskRaised(DomainEvent):
    """Pre-empts the normal flow; goes to every participant [001 ¶34(g); 003 §9.9]."""

    name: ClassVar[str] = "immediate-risk-raised"
    summary: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CrimeLinked(DomainEvent):
    name: ClassVar[str] = "crime-linked"
    crime_reference: str
    investigating_force: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DmfReferred(DomainEvent):
    name: ClassVar[str] = "dmf-referral"
    party_id: str
    dmf: str
    referred_by: str
    items: tuple[DisclosableItem, ...] = ()
    due_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DmfDecisionRecorded(DomainEvent):
    name: ClassVar[str] = "dmf-decision"
    referred_by: str
    concern: bool
    recommend_disclosure: bool
    rationale: str
    reconsideration: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRecorded(DomainEvent):
    name: ClassVar[str] = "decision-recorded"
    outcome: ClassVar[bool] = True
    concern: bool
    disclose: bool
    recipient_party_id: str | None
    inform_b: bool
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DisclosureHandedOff(DomainEvent):
    name: ClassVar[str] = "disclosure-handoff"
    outcome: ClassVar[bool] = True
    recipient_party_id: str
    to_force: str
    oversight_force: str  # the co-ordinating force keeps oversight [000 §3.10.7]
    applicant_is_recipient: bool
    due_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DisclosureHandoffAcknowledged(DomainEvent):
    name: ClassVar[str] = "disclosure-handoff-acknowledged"
    outcome: ClassVar[bool] = True


@dataclass(frozen=True, slots=True, kw_only=True)
class DisclosureHandoffDeclined(DomainEvent):
    name: ClassVar[str] = "disclosure-handoff-declined"
    outcome: ClassVar[bool] = True
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DisclosureReassigned(DomainEvent):
    name: ClassVar[str] = "disclosure-reassigned"
    outcome: ClassVar[bool] = True
    from_force: str
    to_force: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class UndertakingRefused(DomainEvent):
    name: ClassVar[str] = "undertaking-refused"
    outcome: ClassVar[bool] = True
    dmfs_informed: tuple[str, ...] = ()  # Scotland: the DMF is told [003 §10.3]


@dataclass(frozen=True, slots=True, kw_only=True)
class UndertakingDecisionRecorded(DomainEvent):
    name: ClassVar[str] = "undertaking-decision"
    outcome: ClassVar[bool] = True
    proceed: bool
    rationale: str
    dmfs_informed: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DisclosureDelivered(DomainEvent):
    name: ClassVar[str] = "disclosure-delivered"
    outcome: ClassVar[bool] = True
    recipient_party_id: str
    method: DeliveryMethod


@dataclass(frozen=True, slots=True, kw_only=True)
class NonDisclosureNotificationOpened(DomainEvent):
    name: ClassVar[str] = "non-disclosure-notification-opened"
    outcome: ClassVar[bool] = True
    party_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NonDisclosureNotified(DomainEvent):
    name: ClassVar[str] = "non-disclosure-notified"
    outcome: ClassVar[bool] = True
    method: DeliveryMethod


@dataclass(frozen=True, slots=True, kw_only=True)
class DelayNotified(DomainEvent):
    """A timescale slipped; A or C is told [001 ¶34(f)]."""

    name: ClassVar[str] = "delay-notified"
    reason: str
    expected_by: datetime | None = None
    late_step: str = ""  # the part or SLA step the sender named


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadlineExtended(DomainEvent):
    """An agreed later due date: the ladder restarts for it [000 §3.10.7; 001 fn4]."""

    name: ClassVar[str] = "deadline-extended"
    from_due_at: datetime
    due_at: datetime
    reason: str
    agreed_with: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EscalationAcknowledged(DomainEvent):
    """A notice of the ladder was seen by the force it went to; the ladder runs on [§8]."""

    name: ClassVar[str] = "escalation-acknowledged"
    escalation_id: str
    deadline: str
    level: int
    notice: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PartChased(DomainEvent):
    """The co-ordinating force chased the part's owner [000 §3.10.7]."""

    name: ClassVar[str] = "part-chased"
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PartReassignedWithinForce(DomainEvent):
    """The owner gave the part to another officer or team of its own; same owner force."""

    name: ClassVar[str] = "part-reassigned"
    assigned_to: str
    assignee_kind: str
    previously: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MaliciousApplicationMarked(DomainEvent):
    name: ClassVar[str] = "malicious-application-marked"
    subject_key: str
    evidence: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IntelligenceSubmitted(DomainEvent):
    name: ClassVar[str] = "intelligence-submitted"
    submitted_by: str
    summary: str
    outcome_summary: str
    route: Route
    third_party_requester: bool  # the requester was C [001 ¶92]


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseClosed(DomainEvent):
    name: ClassVar[str] = "case-closed"
    reason: str
