"""Opening a case: the receiving force tells the hub who is involved and where they live."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field, model_validator

from crossforce.contracts.envelope import Jurisdiction
from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.common import (
    ROUTES_BY_JURISDICTION,
    ApplicantRole,
    ForceCode,
    Identifier,
    OneLine,
    Party,
    PartyId,
    RecordRef,
    RecordReference,
    Route,
    unique,
)
from crossforce.contracts.registry import REGISTRY


class ApplicationCategory(StrEnum):
    """Whether this is a genuine DVDS / DSDAS application. DBS checks, subject access and FOI
    requests are routed away at initial contact and start no timers (001 ¶19, ¶34(a))."""

    GENUINE = "genuine"
    DBS = "dbs"
    SAR = "sar"
    FOI = "foi"


@REGISTRY.register
class CaseOpened(Message):
    """A new case at its receiving force (domain.md §1.2, §2, §7; 000 §3.10.2–3.10.3,
    001 Annex C)."""

    NAME = "case-opened"
    VERSION = 1

    route: Route
    jurisdiction: Jurisdiction
    receiving_force: ForceCode
    coordinating_force: ForceCode
    # Right to Ask only: Right to Know and Power to Tell have no applicant.
    applicant_role: ApplicantRole | None = None
    application_category: ApplicationCategory = ApplicationCategory.GENUINE
    # Initial contact (or receipt of the indirect information) starts the clock (domain.md §3).
    initial_contact_at: AwareDatetime
    parties: list[Party] = Field(min_length=1, max_length=50)
    # The receiving force's own enquiry reference (001 Annex C: "used throughout").
    local_reference: RecordReference | None = None
    # A non-crime incident is created for every cross-force application (000 §3.10.9).
    non_crime_incident_reference: RecordReference | None = None

    @model_validator(mode="after")
    def _coherent(self) -> CaseOpened:
        if self.route not in ROUTES_BY_JURISDICTION[self.jurisdiction]:
            raise ValueError(f"route {self.route} does not exist in {self.jurisdiction}")
        unique([p.party_id for p in self.parties], "party_id")
        applicants = [p for p in self.parties if p.is_applicant]
        if self.route is Route.RIGHT_TO_ASK:
            if self.applicant_role is None:
                raise ValueError("a Right to Ask case names the applicant_role (A or C)")
            if len(applicants) != 1:
                raise ValueError("a Right to Ask case has exactly one party with is_applicant")
            if applicants[0].role.value != self.applicant_role.value:
                raise ValueError("the applicant party's role must match applicant_role")
        elif self.applicant_role is not None or applicants:
            raise ValueError(f"a {self.route} case has no applicant")
        return self

    def party(self, party_id: str) -> Party:
        for candidate in self.parties:
            if candidate.party_id == party_id:
                return candidate
        raise KeyError(party_id)


class TimedStep(StrEnum):
    """The timed steps of each route, named as in the SLA policy (domain.md §3)."""

    EW_RTA_INITIAL_CHECKS = "ew-right-to-ask.initial-checks"
    EW_RTA_FACE_TO_FACE = "ew-right-to-ask.face-to-face"
    EW_RTA_FULL_RISK_ASSESSMENT = "ew-right-to-ask.full-risk-assessment"
    EW_RTK_INTELLIGENCE_CHECKS = "ew-right-to-know.intelligence-checks"
    EW_FORUM_REFERRAL = "ew.forum-referral"
    SCOTLAND_STAGE_2 = "scotland.stage-2-initial-checks"
    SCOTLAND_STAGE_3 = "scotland.stage-3-face-to-face"
    SCOTLAND_STAGE_4 = "scotland.stage-4-dmf-referral"
    SCOTLAND_STAGE_5 = "scotland.stage-5-disclosure"


@REGISTRY.register
class StepCompleted(Message):
    """The co-ordinating force has finished a timed step of the route, which stops its clock
    (domain.md §2, §3; 001 ¶34, ¶40, ¶70, ¶74, Table 1; 003 §4). Steps whose outcome is itself
    a message (a face-to-face identity check, the decision, the DMF's decision, the disclosure)
    are completed by that message too. A step completes any earlier step still open."""

    NAME = "step-completed"
    VERSION = 1

    step: TimedStep
    # The force's own record of the step, e.g. its Annex D initial-checks form.
    record: RecordRef | None = None


class IdentityEvidence(StrEnum):
    """The identity documents 001 Annex E lists for the face-to-face meeting."""

    PASSPORT = "passport"
    DRIVING_LICENCE = "driving-licence"
    BIRTH_CERTIFICATE = "birth-certificate"
    OTHER = "other"


@REGISTRY.register
class ApplicantIdentityVerified(Message):
    """The co-ordinating force has verified the applicant's identity after opening, normally at
    the face-to-face meeting (domain.md §4.4, §7; 001 Annex E, ¶40, ¶46). A case opened with
    the identity unverified can then reach a disclosure; at a face-to-face meeting it also
    completes that step (003 §8.7 for Scotland's stage 3)."""

    NAME = "applicant-identity-verified"
    VERSION = 1

    applicant_party_id: PartyId
    evidence: list[IdentityEvidence] = Field(min_length=1, max_length=4)
    # What the "other" evidence was, when `evidence` includes it.
    other_evidence: OneLine | None = None
    face_to_face: bool = True
    # Annex E: the warnings given at the meeting.
    warnings_given: bool = True
    record: RecordRef | None = None

    @model_validator(mode="after")
    def _coherent(self) -> ApplicantIdentityVerified:
        unique(list(self.evidence), "evidence")
        if (IdentityEvidence.OTHER in self.evidence) != (self.other_evidence is not None):
            raise ValueError("other_evidence is given exactly when evidence includes other")
        return self


@REGISTRY.register
class PoliceEmployeePartyNotified(Message):
    """Hub → the employing force's Professional Standards Department: a party to a DVDS or
    DSDAS case is one of its officers or staff (domain.md §6; 002 L899–975; 003 §6.14). It
    names the party and who holds the case, so the PSD can contact them; nothing else."""

    NAME = "police-employee-party-notified"
    VERSION = 1

    party: Party
    employing_force: ForceCode
    route: Route
    jurisdiction: Jurisdiction
    receiving_force: ForceCode
    coordinating_force: ForceCode
    opened_at: AwareDatetime


class ReadChannel(StrEnum):
    """Where a read of a case was attempted."""

    CLI = "cli"  # `crossforce case`, on the hub's own database
    WEB = "web"  # a case page of the supervisors' web app
    LEDGER = "ledger"  # `crossforce ledger`, reading the case's intelligence-submission entry


@REGISTRY.register
class CaseAccessReported(Message):
    """Hub → the employing force's Professional Standards Department: someone tried to read a
    case one of its officers or staff is a party to, and was shown it or refused (domain.md §6;
    002 L899–975: "any attempt to access the record is notified"; 003 §6.14). It names the
    case (the envelope's `caseref`), the employing force's parties by id, who read, when,
    through which channel, whether the read was allowed and its DPA 2018 s.62 justification;
    never a party's name or date of birth, which the PSD already has from
    `police-employee-party-notified`."""

    NAME = "case-access-reported"
    VERSION = 1

    # The read path's id for this attempt: the same in every PSD's copy and in the s.62 log.
    report_id: Identifier
    employing_force: ForceCode
    party_ids: list[PartyId] = Field(min_length=1, max_length=50)
    # None: the broker's operator, reading as no force (`crossforce case` without --force).
    reader_force: ForceCode | None = None
    # The web app's account, the command line's `--by` (or login name): who, not a party.
    reader: OneLine
    channel: ReadChannel
    allowed: bool
    justification: OneLine
    read_at: AwareDatetime
    # A ledger read: the intelligence-submission entry that was read.
    ledger_entry: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _coherent(self) -> CaseAccessReported:
        unique(list(self.party_ids), "party_ids")
        if (self.ledger_entry is not None) != (self.channel is ReadChannel.LEDGER):
            raise ValueError("ledger_entry is given exactly for a read through the ledger")
        return self
