"""Making (or not making) a disclosure, and telling people about it.

The words disclosed are recorded verbatim and kept by the police; they never travel in
writing to the applicant (001 ¶87; 003 §10.4–10.5). These messages therefore carry the
wording only as a reference to the holding force's record, never the text.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, model_validator

from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.common import (
    ForceCode,
    Identifier,
    OneLine,
    Party,
    PartyId,
    PartyRole,
    Rationale,
    RecordRef,
    RecordReference,
)
from crossforce.contracts.registry import REGISTRY


class DeliveryMode(StrEnum):
    """In person, or face to face by video in England & Wales (001 ¶84(c)); Scotland delivers
    in person (003 §10.1)."""

    IN_PERSON = "in-person"
    VIDEO = "video"


class Undertaking(StrEnum):
    SIGNED = "signed"
    REFUSED = "refused"


class RefusedUndertakingDecision(StrEnum):
    """The recorded decision when the recipient refuses the undertaking (001 ¶86; 003 §10.3)."""

    PROCEED = "proceed"
    WITHHOLD = "withhold"
    # Scotland: the DMF is told and reconsiders (003 §8.17, §10.3).
    REFER_TO_DMF = "refer-to-dmf"


@REGISTRY.register
class DisclosureHandoff(Message):
    """The deciding force hands a disclosure to the recipient's home force, which makes it as a
    responding force (domain.md §1.2; 000 §3.10.5–3.10.6; 001 ¶84(b))."""

    NAME = "disclosure-handoff"
    VERSION = 1

    to_force: ForceCode
    recipient_party_id: PartyId
    # The recipient only: the home force needs to find and verify them, nothing more.
    recipient: Party
    subject_party_id: PartyId
    # The decision and wording stay with the deciding force; the home force reads them there.
    decision: RecordRef
    wording: RecordRef
    deliver_by: AwareDatetime | None = None

    @model_validator(mode="after")
    def _coherent(self) -> DisclosureHandoff:
        if self.recipient.party_id != self.recipient_party_id:
            raise ValueError("recipient.party_id must equal recipient_party_id")
        if self.recipient.role is PartyRole.B:
            raise ValueError("the subject (B) is never the disclosure recipient")
        if self.recipient.anonymous:
            raise ValueError("no disclosure to an anonymous party (001 ¶46)")
        return self


@REGISTRY.register
class DisclosureHandoffAcknowledged(Message):
    """The recipient's home force has the hand-off and will make the disclosure, as a responding
    force (domain.md §1.2; 000 §3.10.5–3.10.6). Delivering it acknowledges it too."""

    NAME = "disclosure-handoff-acknowledged"
    VERSION = 1

    recipient_party_id: PartyId
    expected_by: AwareDatetime | None = None


class HandoffDeclineReason(StrEnum):
    RECIPIENT_NOT_IN_AREA = "recipient-not-in-area"
    RECIPIENT_NOT_FOUND = "recipient-not-found"
    OTHER = "other"


@REGISTRY.register
class DisclosureHandoffDeclined(Message):
    """The recipient's home force will not make the disclosure; the part returns to the
    co-ordinating force with the reason, to deliver or hand to the right force (domain.md §1.2;
    000 §3.10.5–3.10.7)."""

    NAME = "disclosure-handoff-declined"
    VERSION = 1

    recipient_party_id: PartyId
    reason: HandoffDeclineReason
    detail: OneLine | None = None
    # For recipient-not-in-area: where the declining force believes the recipient lives.
    suggested_force: ForceCode | None = None


@REGISTRY.register
class DisclosureDelivered(Message):
    """The disclosure meeting happened: undertaking signed or refused, and, when refused, the
    recorded proceed-or-withhold decision (domain.md §4.10, §5, §7 Annex H; 001 ¶84–87;
    003 §10.1–10.5)."""

    NAME = "disclosure-delivered"
    VERSION = 1

    recipient_party_id: PartyId
    delivered_at: AwareDatetime
    mode: DeliveryMode
    undertaking: Undertaking
    # The verbatim, signed record held by the disclosing force: a reference, never the text.
    wording: RecordRef
    refused_decision: RefusedUndertakingDecision | None = None
    refused_rationale: Rationale | None = None
    support_plan: RecordRef | None = None

    @model_validator(mode="after")
    def _refusal(self) -> DisclosureDelivered:
        refused = self.undertaking is Undertaking.REFUSED
        if refused and (self.refused_decision is None or self.refused_rationale is None):
            raise ValueError("a refused undertaking needs refused_decision and refused_rationale")
        if not refused and self.refused_decision is not None:
            raise ValueError("refused_decision applies only to a refused undertaking")
        return self

    @property
    def disclosed(self) -> bool:
        return (
            self.undertaking is Undertaking.SIGNED
            or self.refused_decision is RefusedUndertakingDecision.PROCEED
        )


@REGISTRY.register
class NonDisclosureNotified(Message):
    """The applicant was told there is nothing to disclose (domain.md §4.11, §5; 001 ¶89(b);
    003 §10.8.2; Annex I)."""

    NAME = "non-disclosure-notified"
    VERSION = 1

    notified_party_id: PartyId
    notified_at: AwareDatetime
    mode: DeliveryMode
    # The applicant must hear that no disclosure does not mean no risk (001 ¶89(b)).
    told_not_no_risk: bool
    # A letter conflicts with "no written correspondence" (001 ¶89(b)(iv) vs 000 §3.7.6);
    # carried so the hub can apply the setting.
    letter_sent: bool = False
    record: RecordRef | None = None


@REGISTRY.register
class DelayNotified(Message):
    """The applicant was told a timescale has slipped (domain.md §3; 001 ¶34(f))."""

    NAME = "delay-notified"
    VERSION = 1

    notified_party_id: PartyId
    notified_at: AwareDatetime
    # The late part or deadline (an enquiry id or an SLA step name).
    part_id: Identifier
    reason: OneLine
    expected_by: AwareDatetime | None = None


@REGISTRY.register
class MaliciousApplicationMarked(Message):
    """The application is marked malicious on the record so future officers see it, with the
    evidence documented (domain.md §4.5; 000 §3.7.7; 003 §8.11)."""

    NAME = "malicious-application-marked"
    VERSION = 1

    applicant_party_id: PartyId
    marked_at: AwareDatetime
    evidence: RecordRef
    rationale: Rationale


@REGISTRY.register
class MaliciousMarkerFound(Message):
    """Hub → the co-ordinating force of a later case: an earlier application about the same
    subject was marked malicious, so officers see it (domain.md §4.5; 000 §3.7.7; 003 §8.11).
    It names the marking case, force and time; the evidence stays with the marking force."""

    NAME = "malicious-marker-found"
    VERSION = 1

    # The party of this case the marker is about (matched by the hub's keyed subject key).
    party_id: PartyId
    marked_in_case: RecordReference
    marked_by: ForceCode
    marked_at: AwareDatetime
