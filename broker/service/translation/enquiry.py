"""Enquiries to responding forces, and their answers (contracts/messages/enquiry.py)."""

from __future__ import annotations

from typing import Any

from crossforce.broker.domain import commands as c
from crossforce.broker.domain.findings import CheckFinding, assess
from crossforce.broker.domain.sla import SlaStep, due_at
from crossforce.broker.service.translation.context import Translation, Translator
from crossforce.contracts.messages import enquiry as m


def enquiry_requested(msg: m.EnquiryRequested, t: Translation) -> list[c.Command]:
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
            enquiry_id=msg.enquiry_id,
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
    findings = assess(
        CheckFinding(
            check.check.value,
            check.result.value,
            check.risk_level.value if check.risk_level is not None else None,
            check.reference,
            check.spent_conviction,
        )
        for check in msg.checks
    )
    return [
        c.RecordEnquiryResult(
            **t.base,
            part_id=p,
            concern=findings.concern,
            summary=findings.summary,
            items=findings.items,
        )
        for p in t.parts_for(msg.enquiry_id)
    ]


TRANSLATORS: dict[type[Any], Translator] = {
    m.EnquiryRequested: enquiry_requested,
    m.EnquiryAcknowledged: enquiry_acknowledged,
    m.EnquiryDeclined: enquiry_declined,
    m.EnquiryResult: enquiry_result,
}
