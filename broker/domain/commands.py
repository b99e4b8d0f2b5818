"""Domain commands. Every command names the case, the force that sent it, and when.

`at` must be an aware datetime; the model never reads a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from crossforce.broker.domain.forums import DisclosableItem, ForumBody, ForumChair, ForumKind
from crossforce.broker.domain.parties import Party
from crossforce.broker.domain.records import FinalReport
from crossforce.broker.domain.routes import DeliveryMethod, RequestType, Route


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    case_ref: str
    actor: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class OpenCase(Command):
    receiving_force: str
    coordinating_force: str
    route: Route
    parties: tuple[Party, ...]
    request_type: RequestType = RequestType.GENUINE
    # Initial contact (or receipt of the indirect information) starts the clocks (domain.md
    # §3); default: the opening itself. It may not lie after the opening, nor before
    # `earliest_initial_contact_at` (the policy's back-dating allowance).
    initial_contact_at: datetime | None = None
    earliest_initial_contact_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class VerifyApplicantIdentity(Command):
    party_id: str
    method: str  # passport, driving licence, birth certificate, other [001 Annex E]
    face_to_face: bool = False  # checked at the face-to-face meeting, which it completes


@dataclass(frozen=True, slots=True, kw_only=True)
class CompleteStep(Command):
    """A timed step of the route is done (an SLA step name, e.g. ew-right-to-ask.initial-checks)."""

    step: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestEnquiry(Command):
    party_id: str
    due_at: datetime | None = None
    # The earliest due time the SLA policy allows for this enquiry: a sender's due_at before it
    # needs an immediate-risk reason (002 L144–146), so no force can be rushed at will.
    earliest_due_at: datetime | None = None
    # The force the request is addressed to; it must be the party's home force, so that the
    # request (which names the party) goes nowhere else.
    responding_force: str | None = None
    # The sender's id for the enquiry, kept on the part so later messages can name it.
    enquiry_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AcknowledgeEnquiry(Command):
    part_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeclineEnquiry(Command):
    part_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReassignEnquiry(Command):
    part_id: str
    to_force: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordEnquiryResult(Command):
    part_id: str
    concern: bool
    summary: str
    items: tuple[DisclosableItem, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class CorrectPartyHomeForce(Command):
    party_id: str
    home_force: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestCoordinationTransfer(Command):
    to_force: str
    reason: str
    transfer_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AcceptCoordinationTransfer(Command):
    transfer_id: str = ""  # when given, it must be the open request's


@dataclass(frozen=True, slots=True, kw_only=True)
class DeclineCoordinationTransfer(Command):
    reason: str
    transfer_id: str = ""  # when given, it must be the open request's


@dataclass(frozen=True, slots=True, kw_only=True)
class RaiseImmediateRisk(Command):
    summary: str
    part_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkCrime(Command):
    crime_reference: str
    investigating_force: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReferToDmf(Command):
    party_id: str
    dmf: str  # a DMF code from the force directory, e.g. "PSOS_E"
    items: tuple[DisclosableItem, ...] = ()
    due_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordDmfDecision(Command):
    part_id: str
    bodies: tuple[ForumBody, ...]
    chair: ForumChair
    concern: bool
    recommend_disclosure: bool
    rationale: str
    # The DMF reconsidering its decision after the recipient refused the undertaking.
    reconsideration: bool = False
    # Whether what the DMF decided on included a spent conviction (it must not: 003 §9.4).
    includes_spent_convictions: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordDecision(Command):
    """The police decision on concern and disclosure [001 ¶71; 003 §5.4], with Annex G."""

    concern: bool
    disclose: bool
    rationale: str
    recipient_party_id: str | None = None
    inform_b: bool = False
    seek_representations: bool = False
    mappa_iom_referral: bool = False
    forum: ForumKind = ForumKind.MARAC
    bodies: tuple[ForumBody, ...] = ()
    items: tuple[DisclosableItem, ...] = ()
    delivery_due_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AcknowledgeDisclosureHandoff(Command):
    part_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DeclineDisclosureHandoff(Command):
    part_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ReassignDisclosureDelivery(Command):
    part_id: str
    to_force: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordUndertakingRefused(Command):
    part_id: str
    note: str = ""
    refer_to_dmf: bool = False  # Scotland: the DMF is told and reconsiders [003 §10.3]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordUndertakingDecision(Command):
    part_id: str
    proceed: bool
    rationale: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordDisclosureDelivered(Command):
    part_id: str
    method: DeliveryMethod = DeliveryMethod.IN_PERSON
    wording_recorded: bool = True  # verbatim wording and undertaking kept [001 ¶87]


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifyNonDisclosure(Command):
    part_id: str
    method: DeliveryMethod = DeliveryMethod.IN_PERSON


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifyDelay(Command):
    reason: str
    part_id: str | None = None
    expected_by: datetime | None = None
    late_step: str = ""  # the SLA step or part the sender named, as sent


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtendDeadline(Command):
    """An agreed later due date for one open part [000 §3.10.7; 001 fn4]."""

    part_id: str
    due_at: datetime
    reason: str
    agreed_with: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AcknowledgeEscalation(Command):
    """A force acknowledges a notice the hub's escalation ladder sent it [domain.md §8].

    The hub, not the sender, says what the notice was: `sent_to`, `notice`, `raised_at` and
    the rest come from the hub's own record of what its ladder sent."""

    escalation_id: str
    part_id: str | None  # None: a case's own step clock with no part
    deadline: str  # the SLA step of the deadline
    level: int
    notice: str  # overdue-notice or escalation-raised
    sent_to: str  # the force the hub sent the notice to
    raised_at: datetime
    acted_by: str | None = None  # the person at the sending force, when it names one


@dataclass(frozen=True, slots=True, kw_only=True)
class ChasePart(Command):
    """The co-ordinating force chases the owner of a part [000 §3.10.7]."""

    part_id: str
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReassignWithinForce(Command):
    """The owner gives a part to another officer or team of its own; the owner force stays."""

    part_id: str
    assigned_to: str
    assignee_kind: str  # officer or team


@dataclass(frozen=True, slots=True, kw_only=True)
class MarkMaliciousApplication(Command):
    evidence: str
    subject_key: str | None = None  # default: B's subject key


@dataclass(frozen=True, slots=True, kw_only=True)
class SubmitIntelligence(Command):
    summary: str
    outcome: str
    # What the report states, checked against the case [001 ¶92–93]; None skips the check
    # (a summary filed inside the domain, e.g. with CloseCase).
    report: FinalReport | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseCase(Command):
    reason: str
    intelligence: SubmitIntelligence | None = None  # filed first, in the same command


CaseCommand = (
    VerifyApplicantIdentity
    | CompleteStep
    | RequestEnquiry
    | AcknowledgeEnquiry
    | DeclineEnquiry
    | ReassignEnquiry
    | RecordEnquiryResult
    | CorrectPartyHomeForce
    | RequestCoordinationTransfer
    | AcceptCoordinationTransfer
    | DeclineCoordinationTransfer
    | RaiseImmediateRisk
    | LinkCrime
    | ReferToDmf
    | RecordDmfDecision
    | RecordDecision
    | AcknowledgeDisclosureHandoff
    | DeclineDisclosureHandoff
    | ReassignDisclosureDelivery
    | RecordUndertakingRefused
    | RecordUndertakingDecision
    | RecordDisclosureDelivered
    | NotifyNonDisclosure
    | NotifyDelay
    | ExtendDeadline
    | AcknowledgeEscalation
    | ChasePart
    | ReassignWithinForce
    | MarkMaliciousApplication
    | SubmitIntelligence
    | CloseCase
)
