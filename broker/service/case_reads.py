"""Reads of a case: their DPA 2018 s.62 record, and the reports a PSD is owed (decision 0051).

A read path records each attempt to read a case. For a case with a police employee among its
parties it also queues an access report, in the same transaction as its own s.62 record where
it can: the read happens only if the report is queued (fail closed). The hub relays queued
reports (`AccessReportRelay`): in one transaction it claims a report, signs a
`case-access-reported` to the PSD of each force that employs a party, puts the deliveries in
its outbox and logs them as disclosures, so a report survives NATS being down and is sent
effectively once, however many hub replicas poll.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update

from crossforce.adapters.nats import subjects
from crossforce.adapters.sql import schema
from crossforce.adapters.sql.engine import stored_utc
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
from crossforce.broker.service.outbox import OutboundMessage
from crossforce.broker.service.unit_of_work import SqlUnitOfWork
from crossforce.contracts.compose import compose
from crossforce.contracts.delivery_note import DeliveryFlags, signed_headers
from crossforce.contracts.envelope import HUB_FORCE_CODE, Envelope
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.forces import FORCES
from crossforce.contracts.ids import new_envelope_id
from crossforce.contracts.keys import Signer
from crossforce.contracts.messages import case as m_case
from crossforce.contracts.signing import sign_envelope

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


def queue_report(db: Connection, read: CaseRead) -> None:
    """Queue `read` for the hub to report, inside the caller's transaction. The only write
    a reader outside the hub may make to the hub's database (decision 0020)."""
    db.execute(
        insert(schema.access_reports).values(
            report_id=read.report_id,
            case_ref=read.case_ref,
            channel=read.channel.value,
            reader_force=read.reader_force,
            reader=read.reader,
            allowed=read.allowed,
            justification=read.justification,
            read_at=read.read_at,
            ledger_entry=read.ledger_entry,
        )
    )


def find_case(db: Connection, case_ref: str) -> Case | None:
    row = db.execute(
        select(schema.cases.c.state).where(schema.cases.c.case_ref == case_ref)
    ).first()
    return None if row is None else Case.from_dict(row[0]["case"])


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
    with engine.begin() as db:
        case = find_case(db, case_ref)
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
        db.execute(
            insert(schema.consultation_log).values(
                report_id=read.report_id,
                case_ref=read.case_ref,
                channel=read.channel.value,
                reader_force=read.reader_force,
                reader=read.reader,
                justification=read.justification,
                shown=read.allowed,
                at=now,
            )
        )
        if case is not None and must_report(case):
            queue_report(db, read)
    if case is None:
        raise ContractError(ReasonCode.UNKNOWN_CASE, f"no case {case_ref}")
    return consultation_view(case, reader_force or case.coordinating_force)


def queue_read(engine: Engine, read: CaseRead) -> None:
    """Queue one read in a transaction of its own (a reader whose own s.62 record is kept
    elsewhere: the web app's store). Raises if it cannot: the caller must not show the case."""
    with engine.begin() as db:
        queue_report(db, read)


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
    queued = 0
    with engine.begin() as db:
        for index, case_ref in sorted(entries.items()):
            case = find_case(db, case_ref) if case_ref else None
            if case is None or not must_report(case):
                continue
            read = CaseRead(
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
            queue_report(db, read)
            queued += 1
    return queued


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


def _read_from(row: Any) -> CaseRead:
    return CaseRead(
        report_id=row.report_id,
        case_ref=row.case_ref,
        reader_force=row.reader_force,
        reader=row.reader,
        channel=ReadChannel(row.channel),
        allowed=bool(row.allowed),
        justification=row.justification,
        read_at=stored_utc(row.read_at),
        ledger_entry=row.ledger_entry,
    )


class AccessReportRelay:
    """The hub's side: signs each queued read to the PSDs owed it, through the outbox."""

    def __init__(self, engine: Engine, hub_key: Signer, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.hub_key = hub_key
        self.clock = clock

    def pending(self, limit: int = RELAY_BATCH) -> list[str]:
        table = schema.access_reports
        with self.engine.connect() as db:
            return list(
                db.execute(
                    select(table.c.report_id)
                    .where(table.c.relayed_at.is_(None))
                    .order_by(table.c.read_at, table.c.report_id)
                    .limit(limit)
                ).scalars()
            )

    def relay_pending(self, limit: int = RELAY_BATCH) -> list[OutboundMessage]:
        """Every queued report, each in a transaction of its own; what to publish now."""
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
        table = schema.access_reports
        now = self.clock()
        with SqlUnitOfWork(self.engine) as uow:
            claimed = uow.db.execute(
                update(table)
                .where(table.c.report_id == report_id, table.c.relayed_at.is_(None))
                .values(relayed_at=now)
            )
            if claimed.rowcount != 1:
                return []
            read = _read_from(
                uow.db.execute(select(table).where(table.c.report_id == report_id)).one()
            )
            case = find_case(uow.db, read.case_ref)
            reports = psd_reports(case, read) if case is not None else []
            if not reports:
                # Queued by a reader outside the hub for a case that has no police employee
                # among its parties (or no longer exists): nobody is owed a report.
                log.warning("access report %s on %s is owed to no PSD", report_id, read.case_ref)
                return []
            assert case is not None
            for report in reports:
                self._deliver(uow, case, report, now)
            log.info(
                "read of %s through %s reported to %s",
                read.case_ref,
                read.channel.value,
                ", ".join(r.psd for r in reports),
            )
            return list(uow.outbound)

    def _deliver(self, uow: SqlUnitOfWork, case: Case, report: PsdReport, now: datetime) -> None:
        envelope = self._envelope(case, report, now)
        prefix = f"access/{report.read.report_id}/{report.psd}"
        flags = DeliveryFlags(envelope.id, report.psd, applicant_channel=False)
        headers = {"Crossforce-Type": envelope.type, "Crossforce-Case": case.case_ref}
        headers.update(signed_headers(flags, self.hub_key))
        uow.publish_later(
            OutboundMessage(
                prefix, subjects.delivery_subject(report.psd), envelope.to_bytes(), headers
            ),
            now,
        )
        uow.publish_later(
            OutboundMessage(
                f"{prefix}/log",
                subjects.caselog_subject(case.case_ref),
                envelope.to_bytes(),
                {"Crossforce-Type": envelope.type},
            ),
            now,
        )
        uow.log_disclosure(
            envelope_id=envelope.id,
            case_ref=case.case_ref,
            message_type=envelope.type,
            disclosed_by=HUB_FORCE_CODE,
            disclosed_to=report.psd,
            disclosed_at=now,
            purpose=envelope.purpose,
            lawful_basis=envelope.lawfulbasis,
            marking=envelope.securitymarking.value,
        )

    def _envelope(self, case: Case, report: PsdReport, now: datetime) -> Envelope:
        return sign_envelope(
            compose(
                report_message(report),
                sender=HUB_FORCE_CODE,
                case_ref=case.case_ref,
                recipients=[report.psd],
                jurisdiction=FORCES[report.psd].jurisdiction,
                purpose=REPORT_PURPOSE,
                correlation_id=case.case_ref,
                time=now,
            ),
            self.hub_key,
        )
