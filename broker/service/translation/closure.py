"""The final intelligence report and the case's closure (contracts/messages/closure.py)."""

from __future__ import annotations

from typing import Any

from crossforce.broker.domain import commands as c
from crossforce.broker.domain.parties import PartyRole
from crossforce.broker.domain.records import FinalReport, ReportedParty
from crossforce.broker.domain.routes import Route
from crossforce.broker.service.translation.case import REQUEST_TYPES
from crossforce.broker.service.translation.context import Translation, Translator
from crossforce.contracts.messages import closure as m


def intelligence_submission(msg: m.IntelligenceSubmission, t: Translation) -> list[c.Command]:
    report = FinalReport(
        route=Route(msg.request.route.value),
        request_type=REQUEST_TYPES[msg.request.application_category.value],
        receiving_force=msg.request.receiving_force,
        parties=tuple(
            ReportedParty(p.party_id, PartyRole(p.role.value), p.is_applicant) for p in msg.parties
        ),
        requester_is_third_party=msg.requester_is_third_party,
        forces_involved=tuple(msg.forces_involved),
    )
    return [
        c.SubmitIntelligence(
            **t.base,
            summary=msg.summary or msg.outcome.value,
            outcome=msg.outcome.value,
            report=report,
        )
    ]


def case_closed(msg: m.CaseClosed, t: Translation) -> list[c.Command]:
    return [c.CloseCase(**t.base, reason=f"{msg.closing_stage.value}: {msg.outcome.value}")]


TRANSLATORS: dict[type[Any], Translator] = {
    m.IntelligenceSubmission: intelligence_submission,
    m.CaseClosed: case_closed,
}
