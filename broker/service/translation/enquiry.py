"""Enquiries to responding forces, and their answers (contracts/messages/enquiry.py)."""

from __future__ import annotations

from typing import Any

from crossforce.broker.domain import commands as c
from crossforce.broker.domain.forums import DisclosableItem
from crossforce.broker.domain.sla import SlaStep, due_at
from crossforce.broker.service.translation.context import Translation, Translator
from crossforce.contracts.messages import enquiry as m


def enquiry_requested(msg: m.EnquiryRequested, t: Translation) -> list[c.Command]:
    t.pending_alias = msg.enquiry_id
    # Without a due time from the sender, the local-policy answer deadline applies, counted
    # in the responding force's own working days; a sender's own due time may not be sooner
    # without immediate risk (domain rule due-at-shorter-than-policy).
    policy_due = due_at(
        SlaStep.RESPONDING_FORCE_ANSWER, t.envelope.time, msg.responding_force, t.policy
    )
    return [
        c.RequestEnquiry(
            **t.base,
            party_id=party_id,
            due_at=msg.due_at or policy_due,
            earliest_due_at=policy_due,
            responding_force=msg.responding_force,
        )
        for party_id in msg.party_ids
    ]


def enquiry_acknowledged(msg: m.EnquiryAcknowledged, t: Translation) -> list[c.Command]:
    return [c.AcknowledgeEnquiry(**t.base, part_id=p) for p in t.parts_for(msg.enquiry_id)]


def enquiry_declined(msg: m.EnquiryDeclined, t: Translation) -> list[c.Command]:
    return [
        c.DeclineEnquiry(**t.base, part_id=p, reason=msg.reason.value)
        for p in t.parts_for(msg.enquiry_id)
    ]


def enquiry_result(msg: m.EnquiryResult, t: Translation) -> list[c.Command]:
    concern = any(
        check.result.value == "trace-concern"
        or (check.risk_level is not None and check.risk_level.value == "high")
        for check in msg.checks
    )
    items = tuple(
        DisclosableItem(
            check.reference or f"{check.check.value}-{i}", check.check.value, check.spent_conviction
        )
        for i, check in enumerate(msg.checks)
        if check.result.value == "trace-concern"
    )
    summary = f"{len(msg.checks)} checks; concern={'yes' if concern else 'no'}"
    return [
        c.RecordEnquiryResult(**t.base, part_id=p, concern=concern, summary=summary, items=items)
        for p in t.parts_for(msg.enquiry_id)
    ]


TRANSLATORS: dict[type[Any], Translator] = {
    m.EnquiryRequested: enquiry_requested,
    m.EnquiryAcknowledged: enquiry_acknowledged,
    m.EnquiryDeclined: enquiry_declined,
    m.EnquiryResult: enquiry_result,
}
