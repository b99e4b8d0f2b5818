"""Who owns what: reassignment, home-force correction, co-ordination transfer
(contracts/messages/coordination.py)."""

from __future__ import annotations

from typing import Any

from crossforce.broker.domain import commands as c
from crossforce.broker.service.translation.context import Translation, Translator
from crossforce.contracts.messages import coordination as m


def enquiry_reassigned(msg: m.EnquiryReassigned, t: Translation) -> list[c.Command]:
    return [
        c.ReassignEnquiry(**t.base, part_id=p, to_force=msg.to_force, reason=msg.reason.value)
        for p in t.parts_for(msg.enquiry_id)
    ]


def party_home_force_corrected(msg: m.PartyHomeForceCorrected, t: Translation) -> list[c.Command]:
    return [
        c.CorrectPartyHomeForce(
            **t.base,
            party_id=msg.party_id,
            home_force=msg.corrected_home_force,
            reason=msg.reason.value,
        )
    ]


def transfer_requested(msg: m.CoordinationTransferRequested, t: Translation) -> list[c.Command]:
    return [
        c.RequestCoordinationTransfer(
            **t.base, to_force=msg.to_force, reason=msg.reason.value, transfer_id=msg.transfer_id
        )
    ]


def transfer_accepted(msg: m.CoordinationTransferAccepted, t: Translation) -> list[c.Command]:
    return [c.AcceptCoordinationTransfer(**t.base, transfer_id=msg.transfer_id)]


def transfer_declined(msg: m.CoordinationTransferDeclined, t: Translation) -> list[c.Command]:
    return [
        c.DeclineCoordinationTransfer(
            **t.base, reason=msg.reason.value, transfer_id=msg.transfer_id
        )
    ]


TRANSLATORS: dict[type[Any], Translator] = {
    m.EnquiryReassigned: enquiry_reassigned,
    m.PartyHomeForceCorrected: party_home_force_corrected,
    m.CoordinationTransferRequested: transfer_requested,
    m.CoordinationTransferAccepted: transfer_accepted,
    m.CoordinationTransferDeclined: transfer_declined,
}
