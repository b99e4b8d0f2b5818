"""Moving work between forces: co-ordination transfers and home-force corrections.

The co-ordinating force is where the applicant lives (000 §3.10.3). When that turns out to be
wrong, or the applicant moves, co-ordination moves by request and acceptance, never by
assertion: the receiving side must agree before it owns the case.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.common import (
    ForceCode,
    Identifier,
    OneLine,
    PartyId,
    PostcodeDistrict,
    unique,
)
from crossforce.contracts.registry import REGISTRY


class TransferReason(StrEnum):
    APPLICANT_MOVED = "applicant-moved"
    APPLICANT_ADDRESS_CORRECTED = "applicant-address-corrected"
    AGREED_BETWEEN_FORCES = "agreed-between-forces"
    OTHER = "other"


class TransferDeclineReason(StrEnum):
    APPLICANT_NOT_IN_AREA = "applicant-not-in-area"
    INSUFFICIENT_INFORMATION = "insufficient-information"
    DUPLICATE_CASE = "duplicate-case"
    OTHER = "other"


class HomeForceCorrectionReason(StrEnum):
    PARTY_MOVED = "party-moved"
    ADDRESS_CORRECTED = "address-corrected"
    PARTY_NOT_IN_AREA = "party-not-in-area"
    OTHER = "other"


@REGISTRY.register
class CoordinationTransferRequested(Message):
    """Ask another force to become the co-ordinating force (domain.md §1.2, 000 §3.10.3,
    §3.10.7)."""

    NAME = "co-ordination-transfer-requested"
    VERSION = 1

    transfer_id: Identifier
    from_force: ForceCode
    to_force: ForceCode
    reason: TransferReason
    detail: OneLine | None = None

    @model_validator(mode="after")
    def _different_forces(self) -> CoordinationTransferRequested:
        if self.from_force == self.to_force:
            raise ValueError("a transfer names two different forces")
        return self


@REGISTRY.register
class CoordinationTransferAccepted(Message):
    """The proposed force takes on co-ordination (domain.md §1.2, 000 §3.10.7)."""

    NAME = "co-ordination-transfer-accepted"
    VERSION = 1

    transfer_id: Identifier


@REGISTRY.register
class CoordinationTransferDeclined(Message):
    """The proposed force declines co-ordination; the requester keeps it (domain.md §1.2,
    000 §3.10.7)."""

    NAME = "co-ordination-transfer-declined"
    VERSION = 1

    transfer_id: Identifier
    reason: TransferDeclineReason
    detail: OneLine | None = None


@REGISTRY.register
class PartyHomeForceCorrected(Message):
    """A party lives somewhere other than recorded: asks the hub to reassign that party's
    enquiries to the right responding force (domain.md §1.2, 000 §3.10.4)."""

    NAME = "party-home-force-corrected"
    VERSION = 1

    party_id: PartyId
    previous_home_force: ForceCode | None = None
    corrected_home_force: ForceCode
    postcode_district: PostcodeDistrict | None = None
    reason: HomeForceCorrectionReason
    detail: OneLine | None = None


@REGISTRY.register
class EnquiryReassigned(Message):
    """The hub's record that an enquiry moved to another responding force after a home-force
    correction or a party-not-in-area decline (domain.md §1.2, 000 §3.10.4, §3.10.8)."""

    NAME = "enquiry-reassigned"
    VERSION = 1

    enquiry_id: Identifier
    from_force: ForceCode
    to_force: ForceCode
    party_ids: list[PartyId] = Field(min_length=1, max_length=50)
    reason: HomeForceCorrectionReason
    # The envelope that triggered it (a correction or a decline), for the audit trail.
    triggered_by: Identifier | None = None

    @model_validator(mode="after")
    def _coherent(self) -> EnquiryReassigned:
        if self.from_force == self.to_force:
            raise ValueError("a reassignment names two different forces")
        unique(self.party_ids, "party_id")
        return self
