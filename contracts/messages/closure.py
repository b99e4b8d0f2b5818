"""Closing a case, and the final intelligence submission every closure produces."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field, model_validator

from crossforce.contracts.envelope import Jurisdiction
from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.case import ApplicationCategory
from crossforce.contracts.messages.common import (
    ForceCode,
    Name,
    OneLine,
    Part,
    PartyId,
    PartyRole,
    Person,
    RecordRef,
    Route,
    unique,
)
from crossforce.contracts.registry import REGISTRY


class ClosingStage(StrEnum):
    """Where the case stood when it closed. E&W steps and Scottish stages share names where
    they line up (domain.md §2)."""

    INITIAL_CONTACT = "initial-contact"  # E&W step 1 / Scotland stage 1 (application)
    INITIAL_CHECKS = "initial-checks"  # Scotland stage 2
    FACE_TO_FACE = "face-to-face"  # E&W step 2 / Scotland stage 3
    RISK_ASSESSMENT = "risk-assessment"  # E&W step 3
    FORUM = "forum"  # E&W forum / Scotland stage 4 (DMF)
    DISCLOSURE = "disclosure"  # Scotland stage 5, or after the E&W decision


class CaseOutcome(StrEnum):
    DISCLOSURE_MADE = "disclosure-made"
    NO_DISCLOSURE = "no-disclosure"
    UNDERTAKING_REFUSED_WITHHELD = "undertaking-refused-withheld"
    NOT_GENUINE_APPLICATION = "not-genuine-application"
    WITHDRAWN = "withdrawn"
    # Anonymous or unverified applicant: concerns go to intelligence (001 ¶46; 000 §3.4.8).
    INTELLIGENCE_ONLY = "intelligence-only"
    # Scotland: concerns from an unverified application move to Power to Tell (003 §8.13).
    REFERRED_TO_POWER_TO_TELL = "referred-to-power-to-tell"
    MALICIOUS = "malicious"
    NO_CONTACT = "no-contact"


@REGISTRY.register
class CaseClosed(Message):
    """The case is closed, at any stage and with any outcome; a final intelligence submission
    follows (domain.md §4.12, §5; 001 ¶92)."""

    NAME = "case-closed"
    VERSION = 1

    closing_stage: ClosingStage
    outcome: CaseOutcome
    closed_at: AwareDatetime
    rationale: RecordRef | None = None


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    NOT_KNOWN = "not-known"
    NOT_STATED = "not-stated"


class Disability(StrEnum):
    YES = "yes"
    NO = "no"
    NOT_KNOWN = "not-known"
    NOT_STATED = "not-stated"


class DecisionKind(StrEnum):
    """The decisions a submission reports (domain.md §4)."""

    GENUINE_APPLICATION = "genuine-application"
    IMMEDIATE_RISK = "immediate-risk"
    CRIME_LINKED = "crime-linked"
    MALICIOUS = "malicious"
    CONCERN = "concern"
    REPRESENTATIONS_FROM_B = "representations-from-b"
    DISCLOSE = "disclose"
    INFORM_B = "inform-b"
    MAPPA_IOM_REFERRAL = "mappa-iom-referral"
    DMF_RECOMMEND_DISCLOSURE = "dmf-recommend-disclosure"
    PROCEED_AFTER_REFUSED_UNDERTAKING = "proceed-after-refused-undertaking"


class RequestReceived(Part):
    """The request or information received (001 ¶92)."""

    route: Route
    jurisdiction: Jurisdiction
    received_at: AwareDatetime
    receiving_force: ForceCode
    application_category: ApplicationCategory = ApplicationCategory.GENUINE
    record: RecordRef


class DecisionOutcome(Part):
    """One decision and where its rationale is held (001 ¶94, Annex G)."""

    decision: DecisionKind
    answer: bool
    decided_at: AwareDatetime
    rationale: RecordRef


class SubmissionParty(Part):
    """Every party with role and home force, plus sex, ethnicity and disability (001 ¶92)."""

    party_id: PartyId
    role: PartyRole
    is_applicant: bool = False
    home_force: ForceCode | None = None
    # Absent for an anonymous applicant.
    person: Person | None = None
    sex: Sex = Sex.NOT_KNOWN
    # Self-defined ethnicity code from the recording force's scheme (e.g. the 2021 Census
    # categories in England & Wales, the Scottish Census categories in Scotland).
    ethnicity: Name | None = None
    disability: Disability = Disability.NOT_KNOWN


@REGISTRY.register
class IntelligenceSubmission(Message):
    """The final intelligence report, filed at the closure of every case and retrievable by all
    forces so repeat requests about the same B show as a pattern (domain.md §5; 001 ¶92–94;
    002 L1966–72; 000 §3.9.4)."""

    NAME = "intelligence-submission"
    VERSION = 1

    request: RequestReceived
    outcomes: list[DecisionOutcome] = Field(default_factory=list, max_length=50)
    parties: list[SubmissionParty] = Field(min_length=1, max_length=50)
    requester_is_third_party: bool
    forces_involved: list[ForceCode] = Field(min_length=1, max_length=50)
    closing_stage: ClosingStage
    outcome: CaseOutcome
    closed_at: AwareDatetime
    summary: OneLine | None = None

    @model_validator(mode="after")
    def _coherent(self) -> IntelligenceSubmission:
        unique([p.party_id for p in self.parties], "party_id")
        unique(self.forces_involved, "force")
        if self.request.receiving_force not in self.forces_involved:
            raise ValueError("forces_involved includes the receiving force")
        return self
