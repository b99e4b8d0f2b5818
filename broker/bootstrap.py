"""The composition root: the hub's core, built once from its parts.

Everything that applies messages and fires deadlines is made here, over one unit-of-work
factory, so the pipeline, the escalation service and the outbox publisher share one storage
port, one hub key and one clock. `crossforce up`, the demo and the in-process tests all
build the hub through `bootstrap`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from crossforce.adapters.sql.unit_of_work import SqlUnitOfWork
from crossforce.broker.domain.context import DomainContext
from crossforce.broker.domain.sla import SlaPolicy, load_policy
from crossforce.broker.escalation.service import EscalationService
from crossforce.broker.service.case_handlers import CaseHandlers, CaseHook
from crossforce.broker.service.case_reads import AccessReportRelay
from crossforce.broker.service.pipeline import DEFAULT_MAX_CLOCK_SKEW, HubPipeline
from crossforce.broker.service.ports import UnitOfWork, UnitOfWorkFactory
from crossforce.contracts.keys import Signer
from crossforce.contracts.trust import TrustStore


@dataclass(frozen=True, slots=True)
class HubCore:
    units: UnitOfWorkFactory
    pipeline: HubPipeline
    escalation: EscalationService
    clock: Callable[[], datetime]
    # Reads of cases with a police employee among the parties, signed to the PSD (0051).
    access_reports: AccessReportRelay
    # The database runs inside this process (SQLite): applying a batch is all CPU, with no
    # wait to overlap, so the hub applies it on its event loop's thread (decision 0063).
    database_in_process: bool = False


def sql_units(engine: Engine) -> UnitOfWorkFactory:
    """The unit-of-work factory on a SQLAlchemy engine (SQLite or PostgreSQL)."""

    def unit_of_work() -> UnitOfWork:
        return SqlUnitOfWork(engine)

    return unit_of_work


def bootstrap(
    engine: Engine,
    trust: TrustStore,
    hub_key: Signer,
    *,
    clock: Callable[[], datetime],
    subject_key_secret: bytes,
    policy: SlaPolicy | None = None,
    hooks: tuple[CaseHook, ...] = (),
    context: DomainContext | None = None,
    max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
) -> HubCore:
    units = sql_units(engine)
    policy = policy or load_policy(None)
    handlers = CaseHandlers(
        subject_key_secret=subject_key_secret, context=context, hooks=hooks, policy=policy
    )
    pipeline = HubPipeline(
        units, trust, hub_key, handlers, clock=clock, max_clock_skew=max_clock_skew
    )
    escalation = EscalationService(units, hub_key, clock, policy)
    access_reports = AccessReportRelay(units, hub_key, clock)
    return HubCore(
        units,
        pipeline,
        escalation,
        clock,
        access_reports,
        database_in_process=engine.dialect.name == "sqlite",
    )
