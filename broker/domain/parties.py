"""People in a case (domain.md §1.1)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PartyRole(StrEnum):
    A = "A"  # the person at risk
    B = "B"  # the subject
    C = "C"  # a third party with contact with A (never a partner agency)
    CHILD = "child"
    DISCLOSURE_RECIPIENT = "disclosure-recipient"  # e.g. a parent, carer or social worker


@dataclass(frozen=True, slots=True)
class Party:
    """One person, with the force where they live.

    `home_force` is a force directory code. `subject_key` is an opaque identity key (used for
    malicious-application markers, §4 item 5). `division` is a Police Scotland local policing
    division letter for a Scottish party, so a DMF referral goes to the right DMF.
    """

    party_id: str
    role: PartyRole
    home_force: str
    is_applicant: bool = False
    identity_verified: bool = False
    anonymous: bool = False
    subject_key: str | None = None
    division: str | None = None
    postcode: str | None = None
    # A police officer or member of staff of this force: its Professional Standards
    # Department is told (002 L899–975; 003 §6.14).
    police_employee_of: str | None = None
