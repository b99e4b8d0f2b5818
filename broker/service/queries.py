"""Read side: cases as a force may see them, and their history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from crossforce.adapters.sql import schema
from crossforce.adapters.sql.engine import stored_utc
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
    query = select(schema.cases).order_by(schema.cases.c.updated_at.desc())
    if force is not None:
        members = select(schema.case_participants.c.case_ref).where(
            schema.case_participants.c.force == force
        )
        query = query.where(schema.cases.c.case_ref.in_(members))
    with engine.connect() as db:
        rows = db.execute(query).mappings().all()
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
                stored_utc(r["updated_at"]),
                former=seen is Standing.FORMER,
                route=case.route.value,
                opened_at=case.opened_at,
                roles=frozenset(r.value for r in case.roles_of(force)) if force else frozenset(),
            )
        )
    return found


def load_case(engine: Engine, case_ref: str) -> Case:
    with engine.connect() as db:
        row = db.execute(
            select(schema.cases.c.state).where(schema.cases.c.case_ref == case_ref)
        ).first()
    if row is None:
        raise ContractError(ReasonCode.UNKNOWN_CASE, f"no case {case_ref}")
    return Case.from_dict(row[0]["case"])


def case_view(engine: Engine, case_ref: str, force: str | None) -> CaseView:
    """The co-ordinating force (or an operator, force=None) sees every part; a former
    participant its read-only record; any other force is refused."""
    case = load_case(engine, case_ref)
    return consultation_view(case, force or case.coordinating_force)


def case_history(engine: Engine, case_ref: str) -> list[HistoryLine]:
    with engine.connect() as db:
        rows = db.execute(
            select(schema.case_history)
            .where(schema.case_history.c.case_ref == case_ref)
            .order_by(schema.case_history.c.id)
        ).mappings()
        return [
            HistoryLine(stored_utc(r["at"]), r["actor"], r["event"], r["summary"], r["acted_by"])
            for r in rows
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
    log, done = schema.disclosure_log, schema.processed_envelopes
    with engine.connect() as db:
        received = db.execute(
            select(
                log.c.id,
                log.c.envelope_id,
                log.c.message_type,
                log.c.disclosed_by,
                log.c.disclosed_at,
                log.c.acted_by,
            )
            .where(log.c.case_ref == case_ref, log.c.disclosed_to == force)
            .order_by(log.c.id)
        ).all()
        sent = db.execute(
            select(done.c.envelope_id, done.c.type, done.c.processed_at, done.c.acted_by)
            .where(done.c.case_ref == case_ref, done.c.sender == force)
            .order_by(done.c.processed_at)
        ).all()
        delivered: dict[str, list[str]] = {}
        order: dict[str, int] = {}  # the hub's processing order, from its log
        ids = [row.envelope_id for row in sent]
        if ids:
            for row in db.execute(
                select(log.c.id, log.c.envelope_id, log.c.disclosed_to).where(
                    log.c.envelope_id.in_(ids)
                )
            ):
                delivered.setdefault(row.envelope_id, []).append(row.disclosed_to)
                order[row.envelope_id] = min(order.get(row.envelope_id, row.id), row.id)
    ordered = [
        (
            r.id,
            TimelineLine(
                stored_utc(r.disclosed_at),
                r.envelope_id,
                short_type(r.message_type),
                False,
                r.disclosed_by,
                (force,),
                r.acted_by,
            ),
        )
        for r in received
    ] + [
        (
            order.get(r.envelope_id, 0),
            TimelineLine(
                stored_utc(r.processed_at),
                r.envelope_id,
                short_type(r.type),
                True,
                force,
                tuple(sorted(set(delivered.get(r.envelope_id, ())))),
                r.acted_by,
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
    notices = schema.escalation_notices
    with engine.connect() as db:
        rows = db.execute(
            select(notices)
            .where(
                notices.c.case_ref == case_ref,
                notices.c.sent_to == force,
                notices.c.message_type.in_(ACKNOWLEDGEABLE),
            )
            .order_by(notices.c.sent_at, notices.c.level)
        ).mappings()
        return [
            EscalationNotice(
                r["envelope_id"],
                r["part_id"],
                r["step"],
                int(r["level"]),
                r["message_type"],
                r["owner_force"],
                stored_utc(r["sent_at"]),
            )
            for r in rows
        ]
