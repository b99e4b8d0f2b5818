"""Opening a case: the receiving force tells the hub who is involved and where they live."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, Field, model_validator

from contracts.envelope import Jurisdiction
from contracts.messages.base import Message
from contracts.messages.common import (
    ROUTES_BY_JURISDICTION,
    ApplicantRole,
    ForceCode,
    Party,
    RecordReference,
    Route,
    unique,
)
from contracts.registry import REGISTRY


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
