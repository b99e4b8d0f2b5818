"""Command handlers, one module per part of the workflow, and the dispatch table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crossforce.broker.domain import commands as c
from crossforce.broker.domain import events as e
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.context import DomainContext
from crossforce.broker.domain.handlers.alerts import (
    extend_deadline,
    link_crime,
    notify_delay,
    raise_immediate_risk,
)
from crossforce.broker.domain.handlers.closure import (
    close_case,
    mark_malicious,
    submit_intelligence,
)
from crossforce.broker.domain.handlers.coordination import (
    accept_transfer,
    decline_transfer,
    request_transfer,
)
from crossforce.broker.domain.handlers.decisions import record_decision, verify_identity
from crossforce.broker.domain.handlers.delivery import (
    disclosure_delivered,
    notify_non_disclosure,
    undertaking_decision,
    undertaking_refused,
)
from crossforce.broker.domain.handlers.dsdas import record_dmf_decision, refer_to_dmf
from crossforce.broker.domain.handlers.enquiries import (
    acknowledge,
    correct_home_force,
    decline,
    reassign,
    record_result,
    request_enquiry,
)
from crossforce.broker.domain.handlers.steps import complete_step
from crossforce.broker.domain.handlers.supervision import (
    acknowledge_escalation,
    chase_part,
    reassign_within_force,
)
from crossforce.broker.domain.parts import PartKind

Handler = Callable[[Case, Any, DomainContext], list[e.DomainEvent]]

HANDLERS: dict[type[c.Command], Handler] = {
    c.VerifyApplicantIdentity: verify_identity,
    c.CompleteStep: complete_step,
    c.RequestEnquiry: request_enquiry,
    c.AcknowledgeEnquiry: lambda case, cmd, ctx: acknowledge(
        case, cmd, PartKind.ENQUIRY, e.EnquiryAcknowledged
    ),
    c.DeclineEnquiry: lambda case, cmd, ctx: decline(
        case, cmd, PartKind.ENQUIRY, e.EnquiryDeclined
    ),
    c.ReassignEnquiry: lambda case, cmd, ctx: reassign(
        case, cmd, PartKind.ENQUIRY, e.EnquiryReassigned
    ),
    c.RecordEnquiryResult: record_result,
    c.CorrectPartyHomeForce: correct_home_force,
    c.RequestCoordinationTransfer: request_transfer,
    c.AcceptCoordinationTransfer: accept_transfer,
    c.DeclineCoordinationTransfer: decline_transfer,
    c.RaiseImmediateRisk: raise_immediate_risk,
    c.LinkCrime: link_crime,
    c.ReferToDmf: refer_to_dmf,
    c.RecordDmfDecision: record_dmf_decision,
    c.RecordDecision: record_decision,
    c.AcknowledgeDisclosureHandoff: lambda case, cmd, ctx: acknowledge(
        case, cmd, PartKind.DISCLOSURE_DELIVERY, e.DisclosureHandoffAcknowledged
    ),
    c.DeclineDisclosureHandoff: lambda case, cmd, ctx: decline(
        case, cmd, PartKind.DISCLOSURE_DELIVERY, e.DisclosureHandoffDeclined
    ),
    c.ReassignDisclosureDelivery: lambda case, cmd, ctx: reassign(
        case, cmd, PartKind.DISCLOSURE_DELIVERY, e.DisclosureReassigned
    ),
    c.RecordUndertakingRefused: undertaking_refused,
    c.RecordUndertakingDecision: undertaking_decision,
    c.RecordDisclosureDelivered: disclosure_delivered,
    c.NotifyNonDisclosure: notify_non_disclosure,
    c.NotifyDelay: notify_delay,
    c.ExtendDeadline: extend_deadline,
    c.AcknowledgeEscalation: acknowledge_escalation,
    c.ChasePart: chase_part,
    c.ReassignWithinForce: reassign_within_force,
    c.MarkMaliciousApplication: mark_malicious,
    c.SubmitIntelligence: submit_intelligence,
    c.CloseCase: close_case,
}
