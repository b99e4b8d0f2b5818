"""The read side's one query module: every SQL read behind the case views, `crossforce
cases`, `case`, `overdue`, the statistics and the supervisors' app.

Each function reads rows and returns plain values with aware UTC times; what a force may see
of them is decided above, in `crossforce.broker.domain.views` and the service's read models.
A read opens its own short connection and never writes (the app's connection may not).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, or_, select

from crossforce.adapters.sql import schema
from crossforce.adapters.sql.engine import aware_row


def case_rows(engine: Engine, participant: str | None = None) -> list[dict[str, Any]]:
    """Case rows, most recently updated first; with `participant`, only cases that force has
    or had a part in."""
    cases = schema.cases
    query = select(cases).order_by(cases.c.updated_at.desc())
    if participant is not None:
        members = select(schema.case_participants.c.case_ref).where(
            schema.case_participants.c.force == participant
        )
        query = query.where(cases.c.case_ref.in_(members))
    with engine.connect() as db:
        return [aware_row(row) for row in db.execute(query).mappings()]


def case_state(engine: Engine, case_ref: str) -> Mapping[str, Any] | None:
    cases = schema.cases
    with engine.connect() as db:
        row = db.execute(select(cases.c.state).where(cases.c.case_ref == case_ref)).first()
    return None if row is None else row[0]


def case_states_coordinated_by(engine: Engine, force: str) -> list[Mapping[str, Any]]:
    cases = schema.cases
    with engine.connect() as db:
        query = select(cases.c.state).where(cases.c.coordinating_force == force)
        return [state for (state,) in db.execute(query)]


def history_rows(engine: Engine, case_ref: str) -> list[dict[str, Any]]:
    history = schema.case_history
    with engine.connect() as db:
        query = select(history).where(history.c.case_ref == case_ref).order_by(history.c.id)
        return [aware_row(row) for row in db.execute(query).mappings()]


def disclosures_to(engine: Engine, case_ref: str, force: str) -> list[dict[str, Any]]:
    """What the hub delivered to `force` in the case, in its processing order."""
    log = schema.disclosure_log
    query = (
        select(log.c.id, log.c.envelope_id, log.c.message_type, log.c.disclosed_by)
        .add_columns(log.c.disclosed_at, log.c.acted_by)
        .where(log.c.case_ref == case_ref, log.c.disclosed_to == force)
        .order_by(log.c.id)
    )
    with engine.connect() as db:
        return [aware_row(row) for row in db.execute(query).mappings()]


def processed_from(engine: Engine, case_ref: str, sender: str) -> list[dict[str, Any]]:
    """Envelopes `sender` sent in the case that the hub applied."""
    done = schema.processed_envelopes
    query = (
        select(done.c.envelope_id, done.c.type, done.c.processed_at, done.c.acted_by)
        .where(done.c.case_ref == case_ref, done.c.sender == sender)
        .order_by(done.c.processed_at)
    )
    with engine.connect() as db:
        return [aware_row(row) for row in db.execute(query).mappings()]


def disclosures_of(engine: Engine, envelope_ids: list[str]) -> list[dict[str, Any]]:
    """Who each of these envelopes was delivered to, with the log's order."""
    if not envelope_ids:
        return []
    log = schema.disclosure_log
    query = select(log.c.id, log.c.envelope_id, log.c.disclosed_to).where(
        log.c.envelope_id.in_(envelope_ids)
    )
    with engine.connect() as db:
        return [dict(row) for row in db.execute(query).mappings()]


def deadline_rows(
    engine: Engine,
    *,
    case_ref: str | None = None,
    owner_force: str | None = None,
    open_at: datetime | None = None,
    due_by: datetime | None = None,
) -> list[dict[str, Any]]:
    """Deadline rows. `open_at`: still open, or closed only after it (a report as at an
    earlier time)."""
    d = schema.deadlines
    query = select(d)
    if case_ref is not None:
        query = query.where(d.c.case_ref == case_ref)
    if owner_force is not None:
        query = query.where(d.c.owner_force == owner_force)
    if open_at is not None:
        query = query.where(or_(d.c.status == "open", d.c.closed_at > open_at))
    if due_by is not None:
        query = query.where(d.c.due_at <= due_by)
    with engine.connect() as db:
        return [aware_row(row) for row in db.execute(query).mappings()]


def escalation_notice_rows(
    engine: Engine, case_ref: str, force: str, message_types: tuple[str, ...]
) -> list[dict[str, Any]]:
    """The ladder's notices of these types sent to `force` in a case, oldest first."""
    n = schema.escalation_notices
    query = (
        select(n)
        .where(n.c.case_ref == case_ref, n.c.sent_to == force, n.c.message_type.in_(message_types))
        .order_by(n.c.sent_at, n.c.level)
    )
    with engine.connect() as db:
        return [aware_row(row) for row in db.execute(query).mappings()]
