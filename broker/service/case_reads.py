"""Reads of a case: their DPA 2018 s.62 record, and the reports a PSD is owed (decision 0051).

A read path records each attempt to read a case. For a case with a police employee among its
parties it also queues an access report, in the same transaction as its own s.62 record where
it can: the read happens only if the report is queued (fail closed). The hub relays queued
reports (`AccessReportRelay`): in one unit of work it claims a report, signs a
`case-access-reported` to the PSD of each force that employs a party, and queues the
deliveries on the one outbound path (outbox and s.62 disclosure log), so a report survives
NATS being down and is sent effectively once, however many hub replicas poll.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Engine

from crossforce.adapters.sql import queries
from crossforce.adapters.sql.case_reads import queue_reads, record_read
from crossforce.broker.domain.access import (
    CaseRead,
    PsdReport,
    ReadChannel,
    must_report,
    one_line,
    psd_reports,
    read_allowed,
)
from crossforce.broker.domain.case import Case
from crossforce.broker.domain.views import CaseView, consultation_view
from crossforce.broker.service.faults import is_infrastructure_fault
from crossforce.broker.service.outbound import Outbound
from crossforce.broker.service.outbox import OutboundMessage
from crossforce.broker.service.ports import UnitOfWork, UnitOfWorkFactory
from crossforce.contracts.compose import compose
from crossforce.contracts.envelope import HUB_FORCE_CODE, Envelope
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.forces import FORCES
from crossforce.contracts.ids import new_envelope_id
from crossforce.contracts.keys import Signer
from crossforce.contracts.messages import case as m_case

log = logging.getLogger("crossforce.hub.access")

# Why the hub discloses a read to a PSD (the envelope's `purpose`; domain.md §6).
REPORT_PURPOSE = (
    "Professional standards: an attempt to read a case with a police employee among its "
    "parties (002 L899-975; 003 §6.14)"
)
# What `crossforce case` records as the s.62 justification unless told otherwise.
CLI_JUSTIFICATION = "case administration through the crossforce command line"
RELAY_BATCH = 100


def new_report_id(now: datetime) -> str:
    """A time-ordered id for one attempt to read a case."""
    return new_envelope_id(int(now.timestamp() * 1000))


def _case(state: Mapping[str, Any] | None) -> Case | None:
    return None if state is None else Case.from_dict(state["case"])


def consult_case(
    engine: Engine,
    case_ref: str,
    reader_force: str | None,
    *,
    reader: str,
    justification: str,
    now: datetime,
    channel: ReadChannel = ReadChannel.CLI,
) -> CaseView:
    """Read a case on the hub's own database (`crossforce case`): the s.62 consultation row
    and, for a case with a police employee among its parties, the access report are written
    in the transaction that reads the case, shown or refused. Then the view, or the refusal:
    UNKNOWN_CASE, or NOT_AUTHORISED for a force that never had a role in it."""

    def decide(state: Mapping[str, Any] | None) -> tuple[CaseRead, bool]:
        case = _case(state)
        read = CaseRead(
            report_id=new_report_id(now),
            case_ref=case_ref[:64],
            reader_force=reader_force,
            reader=one_line(reader),
            channel=channel,
            allowed=case is not None and read_allowed(case, reader_force),
            justification=one_line(justification),
            read_at=now,
        )
        return read, case is not None and must_report(case)

    case = _case(record_read(engine, case_ref, decide))
    if case is None:
        raise ContractError(ReasonCode.UNKNOWN_CASE, f"no case {case_ref}")
    return consultation_view(case, reader_force or case.coordinating_force)


def queue_read(engine: Engine, read: CaseRead) -> None:
    """Queue one read in a transaction of its own (a reader whose own s.62 record is kept
    elsewhere: the web app's store). Raises if it cannot: the caller must not show the case."""
    queue_reads(engine, [read])


def queue_ledger_reads(
    engine: Engine,
    entries: Mapping[int, str | None],
    *,
    reader: str,
    justification: str,
    now: datetime,
) -> int:
    """Queue a report for each ledger entry (index -> case reference) whose case has a police
    employee among its parties, in one transaction, before the ledger is read; how many."""
    reads = []
    for index, case_ref in sorted(entries.items()):
        case = _case(queries.case_state(engine, case_ref)) if case_ref else None
        if case is None or not must_report(case):
            continue
        reads.append(
            CaseRead(
                report_id=new_report_id(now),
                case_ref=case.case_ref,
                reader_force=None,
                reader=one_line(reader),
                channel=ReadChannel.LEDGER,
                allowed=True,
                justification=one_line(justification),
                read_at=now,
                ledger_entry=index,
            )
        )
    queue_reads(engine, reads)
    return len(reads)


def report_message(report: PsdReport) -> m_case.CaseAccessReported:
    read = report.read
    return m_case.CaseAccessReported(
        report_id=read.report_id,
        employing_force=report.employing_force,
        party_ids=list(report.party_ids),
        reader_force=read.reader_force,
        reader=read.reader,
        channel=m_case.ReadChannel(read.channel.value),
        allowed=read.allowed,
        justification=read.justification,
        read_at=read.read_at,
        ledger_entry=read.ledger_entry,
    )


class AccessReportRelay:
    """The hub's side: signs each queued read to the PSDs owed it, on the outbound path."""

    def __init__(
        self, units: UnitOfWorkFactory, hub_key: Signer, clock: Callable[[], datetime]
    ) -> None:
        self.units = units
        self.outbound = Outbound(hub_key)
        self.clock = clock

    def pending(self, limit: int = RELAY_BATCH) -> list[str]:
        with self.units() as uow:
            return uow.access_reports.pending(limit)

    def relay_pending(self, limit: int = RELAY_BATCH) -> list[OutboundMessage]:
        """Every queued report, each in a unit of work of its own; what to publish now."""
        outbound: list[OutboundMessage] = []
        for report_id in self.pending(limit):
            try:
                outbound += self.relay(report_id)
            except Exception as error:
                if is_infrastructure_fault(error):
                    raise
                # A row the hub cannot make a report of (written by hand, or by a reader
                # that skipped the checks) must not hold up the others; it stays queued.
                log.error("access report %s could not be made: %s", report_id, type(error).__name__)
        return outbound

    def relay(self, report_id: str) -> list[OutboundMessage]:
        """Claim one report and queue its signed deliveries; nothing if another hub replica
        already has. The claim, the deliveries and their s.62 disclosure rows commit together."""
        now = self.clock()
        with self.units() as uow:
            read = uow.access_reports.claim(report_id, now)
            if read is None:
                return []
            stored = uow.cases.get(read.case_ref)
            case = None if stored is None else Case.from_dict(stored.state["case"])
            reports = psd_reports(case, read) if case is not None else []
            if case is None or not reports:
                # Queued by a reader outside the hub for a case that has no police employee
                # among its parties (or no longer exists): nobody is owed a report.
                log.warning("access report %s on %s is owed to no PSD", report_id, read.case_ref)
                return []
            for report in reports:
                self._deliver(uow, case, report, now)
            log.info(
                "read of %s through %s reported to %s",
                read.case_ref,
                read.channel.value,
                ", ".join(r.psd for r in reports),
            )
            return list(uow.outbound)

    def _deliver(self, uow: UnitOfWork, case: Case, report: PsdReport, now: datetime) -> None:
        envelope = self.outbound.sign(self._envelope(case, report, now))
        msg_id = f"access/{report.read.report_id}/{report.psd}"
        self.outbound.case_log(uow, envelope, f"{msg_id}/log", now)
        # 002 L899–975: the PSD alone, routine, never the applicant's channel.
        self.outbound.deliver(uow, envelope, report.psd, msg_id, now, applicant_channel=False)

    def _envelope(self, case: Case, report: PsdReport, now: datetime) -> Envelope:
        return compose(
            report_message(report),
            sender=HUB_FORCE_CODE,
            case_ref=case.case_ref,
            recipients=[report.psd],
            jurisdiction=FORCES[report.psd].jurisdiction,
            purpose=REPORT_PURPOSE,
            correlation_id=case.case_ref,
            time=now,
        )
