"""Vocabulary shared by the message families: identifiers, roles, routes, record references.

Nothing here is registered as a message; these are the building blocks payloads reuse so
that a party, a force code or a rationale reference means the same thing everywhere.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from crossforce.contracts.envelope import Jurisdiction

# A force code from crossforce.contracts.forces (e.g. KENT, PSOS, PSOS_E). Only the shape is checked
# here: whether the code is in the force directory is the hub's check (UNKNOWN_FORCE), so
# a sender gets that precise reason rather than a generic schema failure.
ForceCode = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]+$", min_length=2, max_length=32)]
DmfCode = Annotated[str, StringConstraints(pattern=r"^PSOS_[A-Z]$")]
# Police Scotland's 13 local policing divisions (contracts/forces.py; 003 §9.11).
DivisionLetter = Annotated[str, StringConstraints(pattern=r"^[ACDEGJKLNPQUV]$")]

# Identifiers minted by the sending force for things inside a case (parties, enquiries,
# transfers). Opaque, short, no spaces, so they can never smuggle personal data.
IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
Identifier = Annotated[str, StringConstraints(pattern=IDENTIFIER_PATTERN, max_length=64)]
PartyId = Identifier

# A reference to a record held in a force's own system (001 Annex F: the information stays
# the holding agency's responsibility). No spaces, so free text cannot pass as a reference.
RecordReference = Annotated[
    str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_./:#-]{0,127}$", max_length=128)
]

# An outward postcode ("TN1", "EC1A", "G2"): enough to route a party to a force without
# carrying the full address (domain.md §6 data minimisation).
PostcodeDistrict = Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")]

OneLine = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=r"^[^\r\n]*$", strip_whitespace=True),
]
# Decision rationales must "stand scrutiny of any formal review" (001 ¶94), so they are
# free text, but bounded.
Rationale = Annotated[str, StringConstraints(min_length=1, max_length=4000, strip_whitespace=True)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]


class Route(StrEnum):
    """Entry routes (domain.md §2): E&W has Right to Ask / Right to Know, Scotland Right to
    Ask / Power to Tell."""

    RIGHT_TO_ASK = "right-to-ask"
    RIGHT_TO_KNOW = "right-to-know"
    POWER_TO_TELL = "power-to-tell"


ROUTES_BY_JURISDICTION: dict[Jurisdiction, frozenset[Route]] = {
    Jurisdiction.ENGLAND_WALES: frozenset({Route.RIGHT_TO_ASK, Route.RIGHT_TO_KNOW}),
    Jurisdiction.SCOTLAND: frozenset({Route.RIGHT_TO_ASK, Route.POWER_TO_TELL}),
    Jurisdiction.NORTHERN_IRELAND: frozenset(),
}


class PartyRole(StrEnum):
    """People in a case (domain.md §1.1). Whether a party is the applicant is a separate flag:
    the applicant is always A or C."""

    A = "A"
    B = "B"
    C = "C"
    CHILD = "child"
    DISCLOSURE_RECIPIENT = "disclosure-recipient"


class ApplicantRole(StrEnum):
    """Who made a Right to Ask application: the person at risk or a third party (001 Annex A)."""

    A = "A"
    C = "C"


class PoliceRank(StrEnum):
    CHIEF_CONSTABLE = "CHIEF_CONSTABLE"
    DEPUTY_CHIEF_CONSTABLE = "DEPUTY_CHIEF_CONSTABLE"
    ASSISTANT_CHIEF_CONSTABLE = "ASSISTANT_CHIEF_CONSTABLE"
    CHIEF_SUPERINTENDENT = "CHIEF_SUPERINTENDENT"
    SUPERINTENDENT = "SUPERINTENDENT"
    CHIEF_INSPECTOR = "CHIEF_INSPECTOR"
    INSPECTOR = "INSPECTOR"
    SERGEANT = "SERGEANT"
    CONSTABLE = "CONSTABLE"
    POLICE_STAFF = "POLICE_STAFF"


class AgencyKind(StrEnum):
    """Bodies that sit at a forum (001 ¶73, 002 L1841–47, 003 §9.12)."""

    POLICE = "police"
    PROBATION = "probation"
    IDVA = "idva"
    CHILDRENS_SOCIAL_CARE = "childrens-social-care"
    ADULT_SOCIAL_CARE = "adult-social-care"
    SOCIAL_WORK = "social-work"
    HEALTH = "health"
    HOUSING = "housing"
    EDUCATION = "education"
    ADVOCACY = "advocacy"
    OTHER = "other"


class Part(BaseModel):
    """Base for sub-models: closed shape, immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RecordRef(Part):
    """Where a record is held: the force and its own reference (001 Annex F, 003 §5.6)."""

    force: ForceCode
    reference: RecordReference


class Officer(Part):
    """An officer or member of staff named against a decision (001 Annex G)."""

    name: Name
    rank: PoliceRank
    force: ForceCode
    staff_number: RecordReference | None = None


class Person(Part):
    """Minimal identity (001 Annex C): enough for a force to find its records, no more."""

    given_names: Name
    family_name: Name
    date_of_birth: date | None = None
    # Annex C asks only for an approximate age for children.
    approximate_age: Annotated[int, Field(ge=0, le=120)] | None = None


class Party(Part):
    """A person in a case and the force area they live in (000 §3.10)."""

    party_id: PartyId
    role: PartyRole
    is_applicant: bool = False
    # None when the home force is not yet known, or the party has no fixed address
    # (a gap in the sources, domain.md §1.2).
    home_force: ForceCode | None = None
    postcode_district: PostcodeDistrict | None = None
    identity_verified: bool = False
    anonymous: bool = False
    # Absent for an anonymous applicant: no identity is held (001 ¶46).
    person: Person | None = None
    # A Scottish party's Police Scotland local policing division, so a referral goes to the
    # right DMF (003 §9.11). When absent the hub reads it from the postcode district.
    division: DivisionLetter | None = None
    # A police officer or member of staff of this force (002 L899–975; 003 §6.14): the hub
    # tells that force's Professional Standards Department.
    police_employee_of: ForceCode | None = None

    @model_validator(mode="after")
    def _anonymity_is_consistent(self) -> Party:
        if self.anonymous and self.person is not None:
            raise ValueError("an anonymous party carries no identity (person must be absent)")
        if self.anonymous and self.identity_verified:
            raise ValueError("an anonymous party cannot have a verified identity")
        if self.is_applicant and self.role not in (PartyRole.A, PartyRole.C):
            raise ValueError("the applicant is always A or C (001 Annex A)")
        return self


def unique(values: list[str], what: str) -> None:
    """Raise ValueError when a list of ids repeats one."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} {value!r} appears twice")
        seen.add(value)
