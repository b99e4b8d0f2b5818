"""Read side: cases as a force may see them, and their history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select

from adapters.sql import schema
from adapters.sql.engine import stored_utc
from broker.domain.case import Case
from broker.domain.views import CaseView, view_for
from contracts.errors import ContractError, ReasonCode


@dataclass(frozen=True, slots=True)
class HistoryLine:
    at: datetime
    actor: str
    event: str
    summary: str


@dataclass(frozen=True, slots=True)
class CaseSummary:
    case_ref: str
    status: str
    receiving_force: str
    coordinating_force: str
    red: bool
    updated_at: datetime


def list_cases(engine: Engine, force: str | None = None) -> list[CaseSummary]:
    query = select(schema.cases).order_by(schema.cases.c.updated_at.desc())
    if force is not None:
        members = select(schema.case_participants.c.case_ref).where(
            schema.case_participants.c.force == force
        )
        query = query.where(schema.cases.c.case_ref.in_(members))
    with engine.connect() as db:
        rows = db.execute(query).mappings().all()
    return [
        CaseSummary(
            r["case_ref"],
            r["status"],
            r["receiving_force"],
            r["coordinating_force"],
            bool(r["red"]),
            stored_utc(r["updated_at"]),
        )
        for r in rows
    ]


def load_case(engine: Engine, case_ref: str) -> Case:
    with engine.connect() as db:
        row = db.execute(
            select(schema.cases.c.state).where(schema.cases.c.case_ref == case_ref)
        ).first()
    if row is None:
        raise ContractError(ReasonCode.UNKNOWN_CASE, f"no case {case_ref}")
    return Case.from_dict(row[0]["case"])


def case_view(engine: Engine, case_ref: str, force: str | None) -> CaseView:
    """The co-ordinating force (or an operator, force=None) sees every part."""
    case = load_case(engine, case_ref)
    return view_for(case, force or case.coordinating_force)


def case_history(engine: Engine, case_ref: str) -> list[HistoryLine]:
    with engine.connect() as db:
        rows = db.execute(
            select(schema.case_history)
            .where(schema.case_history.c.case_ref == case_ref)
            .order_by(schema.case_history.c.id)
        ).mappings()
        return [
            HistoryLine(stored_utc(r["at"]), r["actor"], r["event"], r["summary"]) for r in rows
        ]
