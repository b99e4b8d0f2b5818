"""Read side: cases as a force may see them, and their history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from crossforce.adapters.sql import queries
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.views import CaseView, Standing, consultation_view, standing
from crossforce.contracts.errors import ContractError, ReasonCode


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: datetime
    actor: str  # the force
    event: str
    summary: str
    acted_by: str | None = None  # the person there, where its signed envelope named one


@dataclass(frozen=True, slots=True)
class CaseSummary:
    case_ref: str
    status: str
    receiving_force: str
    coordinating_force: str
    red: bool
    updated_at: datetime
    # The force no longer has a role: the case page shows its read-only record of what it
    # handled, and nothing after (decision 0021). Status and red are then not shown.
    former: bool = False
    route: str = ""
    opened_at: datetime | None = None
    roles: frozenset[str] = frozenset()  # the viewing force's current roles


def list_cases(engine: Engine, force: str | None = None) -> list[CaseSummary]:
    """Cases a force has, or had, a role in: the same test the case page applies."""
    rows = queries.case_rows(engine, participant=force)
    found: list[CaseSummary] = []
    for r in rows:
        case = Case.from_dict(r["state"]["case"])
        seen = Standing.CURRENT if force is None else standing(case, force)
        if seen is Standing.NONE:
            continue
        found.append(
            CaseSummary(
                r["case_ref"],
                r["status"],
                r["receiving_force"],
                r["coordinating_force"],
                bool(r["red"]),
                r["updated_at"],
                former=seen is Standing.FORMER,
                route=case.route.value,
                opened_at=case.opened_at,
                roles=frozenset(r.value for r in case.roles_of(force)) if force else frozenset(),
            )
        )
    return found


def load_case(engine: Engine, case_ref: str) -> Case:
    state = queries.case_state(engine, case_ref)
    if state is None:
        raise ContractError(ReasonCode.UNKNOWN_CASE, f"no case {case_ref}")
    return Case.from_dict(state["case"])


def case_view(engine: Engine, case_ref: str, force: str | None) -> CaseView:
    """The co-ordinating force (or an operator, force=None) sees every part; a former
    participant its read-only record; any other force is refused."""
    case = load_case(engine, case_ref)
    return consultation_view(case, force or case.coordinating_force)


def case_history(engine: Engine, case_ref: str) -> list[HistoryLine]:
    return [
        HistoryLine(r["at"], r["actor"], r["event"], r["summary"], r["acted_by"])
        for r in queries.history_rows(engine, case_ref)
    ]


@dataclass(frozen=True, slots=True)
class TimelineLine:
    """One signed message as a force met it: received from the hub, or sent and receipted."""

    at: datetime
    envelope_id: str
    message_type: str  # the short name, e.g. "enquiry-requested"
    sent: bool
    sender: str
    recipients: tuple[str, ...]  # for a sent message, the forces it was delivered to
    # The person at the sending force, where the signed envelope named one (`actor`).
    acted_by: str | None = None


def short_type(cloudevents_type: str) -> str:
    """`uk.police.dvds.enquiry-requested.v1` -> `enquiry-requested`."""
    parts = cloudevents_type.split(".")
    return parts[-2] if len(parts) >= 2 else cloudevents_type


def case_timeline(
    engine: Engine, case_ref: str, force: str, until: datetime | None = None
) -> list[TimelineLine]:
    """What the broker delivered to `force` in a case, and what it sent there and had
    accepted: the need-to-know record of the case for that force, oldest first."""
    received = queries.disclosures_to(engine, case_ref, force)
    sent = queries.processed_from(engine, case_ref, force)
    delivered: dict[str, list[str]] = {}
    order: dict[str, int] = {}  # the hub's processing order, from its log
    for row in queries.disclosures_of(engine, [r["envelope_id"] for r in sent]):
        delivered.setdefault(row["envelope_id"], []).append(row["disclosed_to"])
        order[row["envelope_id"]] = min(order.get(row["envelope_id"], row["id"]), row["id"])
    ordered = [
        (
            r["id"],
            TimelineLine(
                r["disclosed_at"],
                r["envelope_id"],
                short_type(r["message_type"]),
                False,
                r["disclosed_by"],
                (force,),
                r["acted_by"],
            ),
        )
        for r in received
    ] + [
        (
            order.get(r["envelope_id"], 0),
            TimelineLine(
                r["processed_at"],
                r["envelope_id"],
                short_type(r["type"]),
                True,
                force,
                tuple(sorted(set(delivered.get(r["envelope_id"], ())))),
                r["acted_by"],
            ),
        )
        for r in sent
    ]
    ordered.sort(key=lambda item: (item[1].at, item[0]))
    return [line for _, line in ordered if until is None or line.at <= until]


# The ladder's notices that say a deadline was missed: what a force may acknowledge.
ACKNOWLEDGEABLE = ("overdue-notice", "escalation-raised")


@dataclass(frozen=True, slots=True)
class EscalationNotice:
    """A notice of the escalation ladder as the hub sent it to one force."""

    envelope_id: str
    part_id: str  # a hub part id, or `case` for a case clock with no part
    step: str
    level: int
    message_type: str
    owner_force: str
    sent_at: datetime


def escalation_notices(engine: Engine, case_ref: str, force: str) -> list[EscalationNotice]:
    """The overdue notices and escalations the hub sent `force` in a case, oldest first."""
    return [
        EscalationNotice(
            r["envelope_id"],
            r["part_id"],
            r["step"],
            int(r["level"]),
            r["message_type"],
            r["owner_force"],
            r["sent_at"],
        )
        for r in queries.escalation_notice_rows(engine, case_ref, force, ACKNOWLEDGEABLE)
    ]
