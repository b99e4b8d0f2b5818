"""Scotland: referral to a divisional Decision Making Forum and its decision."""

from __future__ import annotations

from pydantic import AwareDatetime, Field, model_validator

from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.common import (
    AgencyKind,
    DmfCode,
    ForceCode,
    Name,
    Part,
    PartyId,
    PoliceRank,
    Rationale,
    RecordRef,
    unique,
)
from crossforce.contracts.registry import REGISTRY


class DmfChair(Part):
    """The divisional Superintendent with the domestic abuse portfolio, or a nominated deputy
    of at least Chief Inspector (003 §9.11). The rank is carried so the hub can check it."""

    name: Name
    rank: PoliceRank


class DmfBody(Part):
    """A body present at the DMF. Each must be a registered data controller (003 §9.12)."""

    agency: AgencyKind
    name: Name
    registered_data_controller: bool
    # A police body's force code: PSOS for Police Scotland, whichever division or department
    # attends (003 §9.12). The hub identifies a body by kind and force, never by its name.
    force: ForceCode | None = None


@REGISTRY.register
class DmfReferral(Message):
    """Police Scotland refers a case to the divisional DMF at stage 4 (domain.md §1.3, §3;
    003 §4, §9.2, §9.4, §9.11)."""

    NAME = "dmf-referral"
    VERSION = 1

    dmf: DmfCode
    referred_at: AwareDatetime
    party_ids: list[PartyId] = Field(min_length=1, max_length=20)
    # The referral pack stays in Police Scotland's system (003 §5.6, §5.8: the DMF is not a
    # data controller); only its reference travels.
    referral_pack: RecordRef
    # Spent convictions must not reach the DMF (003 §9.4). Representable so the hub refuses it.
    includes_spent_convictions: bool = False
    immediate_risk: bool = False

    @model_validator(mode="after")
    def _unique(self) -> DmfReferral:
        unique(self.party_ids, "party_id")
        return self


@REGISTRY.register
class DmfDecision(Message):
    """The DMF's concern / no-concern decision and disclosure recommendation; Police Scotland
    then discloses (domain.md §1.3, §4.6–4.10; 003 §5.4, §9.8, §9.11–9.12, §9.4, §10.1,
    §10.3)."""

    NAME = "dmf-decision"
    VERSION = 1

    dmf: DmfCode
    met_at: AwareDatetime
    chair: DmfChair
    bodies_present: list[DmfBody] = Field(min_length=1, max_length=20)
    concern: bool
    recommend_disclosure: bool
    rationale: Rationale
    # Representable so the hub can refuse it: spent convictions must not be disclosed (003 §9.4).
    includes_spent_convictions: bool = False
    disclosure_recipient_party_id: PartyId | None = None
    # The wording the DMF agreed (003 §10.1), by reference to Police Scotland's record only.
    agreed_wording: RecordRef | None = None
    # True when the DMF is reconsidering after the recipient refused the undertaking (003 §10.3).
    reconsideration: bool = False

    @model_validator(mode="after")
    def _recipient(self) -> DmfDecision:
        if self.recommend_disclosure and self.disclosure_recipient_party_id is None:
            raise ValueError("a recommendation to disclose names disclosure_recipient_party_id")
        return self
