"""Final intelligence submissions go to the ledger (001 ¶92-93; architecture decision 9).

Personal fields are sealed under a per-entry key inside the ledger; the public record keeps
only roles, home forces, outcomes and references. The envelope id is the idempotency key,
so a redelivered submission lands once. Each append signs a checkpoint of the new head in
the same ledger transaction, so the stored checkpoints always cover the whole log and
`crossforce ledger verify` can tell entries removed or rewritten after the fact.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from crossforce.broker.domain.case import Case
from crossforce.broker.service.ports import UnitOfWork
from crossforce.contracts.envelope import Envelope
from crossforce.contracts.messages.base import Message
from crossforce.contracts.messages.closure import IntelligenceSubmission
from crossforce.ledger import Ledger, LedgerError

# MOPI: the first review of a domestic-abuse intelligence record; a setting, not a rule.
DEFAULT_REVIEW_AFTER = timedelta(days=6 * 365)


class IntelligenceLedger:
    """A case hook: appends each accepted intelligence-submission to the ledger."""

    def __init__(self, ledger: Ledger, review_after: timedelta = DEFAULT_REVIEW_AFTER) -> None:
        if ledger.signing_key is None:
            raise LedgerError("the hub's ledger needs the hub key to sign its checkpoints")
        self.ledger = ledger
        self.review_after = review_after

    def __call__(
        self, uow: UnitOfWork, case: Case, envelope: Envelope, message: Message, now: datetime
    ) -> None:
        if not isinstance(message, IntelligenceSubmission):
            return
        appended = self.ledger.append_submission(
            public_fields(message),
            personal={"parties": [_personal(party) for party in message.parties]},
            subject_identity=_subject_identity(message),
            case_ref=envelope.caseref,
            submitted_by=envelope.senderforce,
            review_date=review_date(message.closed_at, self.review_after),
            idempotency_key=envelope.id,
            submitted_at=envelope.time,
            checkpoint=True,
        )
        uow.history.add(
            case.case_ref,
            now,
            envelope.senderforce,
            "ledger-entry",
            f"intelligence submission is ledger entry {appended.index}",
        )


def public_fields(message: IntelligenceSubmission) -> dict[str, Any]:
    request = message.request
    return {
        "route": request.route.value,
        "jurisdiction": request.jurisdiction.value,
        "request": f"{request.record.force}/{request.record.reference}"
        if getattr(request, "record", None)
        else request.route.value,
        "receiving_force": request.receiving_force,
        "outcomes": [
            {
                "decision": outcome.decision.value,
                "outcome": "yes" if outcome.answer else "no",
                "rationale_ref": f"{outcome.rationale.force}/{outcome.rationale.reference}"
                if outcome.rationale
                else None,
            }
            for outcome in message.outcomes
        ],
        "forces_involved": list(message.forces_involved),
        "closing_stage": message.closing_stage.value,
        "outcome": message.outcome.value,
        "closed_at": message.closed_at.isoformat(),
        "requester_is_third_party": message.requester_is_third_party,
        "parties": [
            {
                "role": party.role.value,
                "home_force": party.home_force,
                "is_applicant": party.is_applicant,
            }
            for party in message.parties
        ],
    }


def _personal(party: Any) -> dict[str, Any]:
    person = party.person
    return {
        "role": party.role.value,
        "names": [f"{person.given_names} {person.family_name}"] if person else [],
        "date_of_birth": person.date_of_birth.isoformat()
        if person and person.date_of_birth
        else None,
        "sex": _value(party.sex),
        "ethnicity": _value(party.ethnicity),
        "disability": _value(party.disability),
    }


def _subject_identity(message: IntelligenceSubmission) -> dict[str, Any]:
    """B's identity fields as given; the ledger makes no subject key if one is missing."""
    subject = next((p for p in message.parties if p.role.value == "B" and p.person), None)
    if subject is None or subject.person is None:
        return {}
    return {
        "surname": subject.person.family_name,
        "forenames": subject.person.given_names,
        "date_of_birth": subject.person.date_of_birth,
    }


def review_date(closed_at: datetime, review_after: timedelta) -> date:
    return (closed_at + review_after).date()


def _value(value: Any) -> Any:
    return getattr(value, "value", value)
