"""Hand-offs, delivery, non-disclosure, delay and malicious applications
(contracts/messages/disclosure.py)."""

from __future__ import annotations

from typing import Any

from crossforce.broker.domain import commands as c
from crossforce.broker.domain.parts import PartKind
from crossforce.broker.domain.routes import DeliveryMethod
from crossforce.broker.domain.undertaking import delivery_steps
from crossforce.broker.service.translation.context import Translation, Translator, ref_text
from crossforce.contracts.messages import disclosure as m


def handoff_acknowledged(msg: m.DisclosureHandoffAcknowledged, t: Translation) -> list[c.Command]:
    part = t.handoff_part(msg.recipient_party_id)
    return [c.AcknowledgeDisclosureHandoff(**t.base, part_id=part)]


def handoff_declined(msg: m.DisclosureHandoffDeclined, t: Translation) -> list[c.Command]:
    part = t.handoff_part(msg.recipient_party_id)
    reason = msg.reason.value + (f": {msg.detail}" if msg.detail else "")
    return [c.DeclineDisclosureHandoff(**t.base, part_id=part, reason=reason)]


def disclosure_delivered(msg: m.DisclosureDelivered, t: Translation) -> list[c.Command]:
    part = t.part_of_kind(PartKind.DISCLOSURE_DELIVERY, t.envelope.senderforce)
    return delivery_steps(
        t.open_case,
        part,
        actor=t.envelope.senderforce,
        at=t.envelope.time,
        method=DeliveryMethod(msg.mode.value),
        undertaking_refused=msg.undertaking.value == "refused",
        decision=msg.refused_decision.value if msg.refused_decision else None,
        rationale=msg.refused_rationale or "",
    )


def non_disclosure_notified(msg: m.NonDisclosureNotified, t: Translation) -> list[c.Command]:
    part = t.part_of_kind(PartKind.NON_DISCLOSURE_NOTIFICATION)
    method = DeliveryMethod.LETTER if msg.letter_sent else DeliveryMethod(msg.mode.value)
    return [c.NotifyNonDisclosure(**t.base, part_id=part, method=method)]


def delay_notified(msg: m.DelayNotified, t: Translation) -> list[c.Command]:
    # The late item may be a part, a one-party enquiry or an SLA step name: a part is linked,
    # anything else is kept as sent in the history.
    return [
        c.NotifyDelay(
            **t.base,
            reason=msg.reason,
            expected_by=msg.expected_by,
            part_id=t.known_part(msg.part_id),
            late_step=msg.part_id,
        )
    ]


def malicious_application_marked(
    msg: m.MaliciousApplicationMarked, t: Translation
) -> list[c.Command]:
    return [c.MarkMaliciousApplication(**t.base, evidence=ref_text(msg.evidence))]


TRANSLATORS: dict[type[Any], Translator] = {
    m.DisclosureHandoffAcknowledged: handoff_acknowledged,
    m.DisclosureHandoffDeclined: handoff_declined,
    m.DisclosureDelivered: disclosure_delivered,
    m.NonDisclosureNotified: non_disclosure_notified,
    m.DelayNotified: delay_notified,
    m.MaliciousApplicationMarked: malicious_application_marked,
}
