"""A case page is a read of the case: logged, and reported when the PSD is owed it.

Every case page shown or refused is a DPA 2018 s.62 consultation in the app's own store
(decision 0020). For a case with a police employee among its parties, the read is also queued
in the hub's `access_reports` table, the one write the app may make there, through an engine
that can do nothing else (`crossforce.adapters.sql.report_queue`); the hub signs it to the
employing force's PSD (decision 0051). The report is queued before anything is shown: when it
cannot be, the read fails closed.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Engine

from crossforce.adapters.web.store import Account, WebStore
from crossforce.broker.domain.access import (
    CaseRead,
    ReadChannel,
    must_report,
    one_line,
    read_allowed,
)
from crossforce.broker.domain.views import CaseView, consultation_view
from crossforce.broker.service.case_reads import new_report_id, queue_read
from crossforce.broker.service.queries import load_case
from crossforce.contracts.errors import ContractError, ReasonCode

log = logging.getLogger("crossforce.web")


class ReadNotReported(Exception):
    """The case must not be shown: its read could not be queued for the PSD."""


def open_case(
    hub: Engine,
    store: WebStore,
    reports: Engine | None,
    account: Account,
    case_ref: str,
    justification: str,
    now: datetime,
) -> CaseView | None:
    """The case as the account's force may consult it, or None for "no such case" and "not
    yours" alike. Raises ReadNotReported, having shown nothing, when a read that may be shown
    could not be queued for the PSD (`reports` None: this app has no queue to write to)."""
    try:
        case = load_case(hub, case_ref)
    except ContractError as missing:
        if missing.code is not ReasonCode.UNKNOWN_CASE:
            raise
        store.log_consultation(account, case_ref, justification, False, now)
        return None
    allowed = read_allowed(case, account.force)
    if must_report(case):
        try:
            if reports is None:
                raise ReadNotReported("this app has no access-report queue")
            read = CaseRead(
                report_id=new_report_id(now),
                case_ref=case.case_ref,
                reader_force=account.force,
                reader=one_line(account.username),
                channel=ReadChannel.WEB,
                allowed=allowed,
                justification=justification,
                read_at=now,
            )
            queue_read(reports, read)
        except Exception as failed:
            store.log_consultation(account, case_ref, justification, False, now)
            log.error(
                "a read of a case with a police employee among its parties could not be "
                "queued for the PSD, so it was not shown: %s",
                type(failed).__name__,
            )
            if allowed:
                raise ReadNotReported(case_ref) from failed
            return None  # refused anyway: the same answer as any refusal
    store.log_consultation(account, case_ref, justification, allowed, now)
    return consultation_view(case, account.force) if allowed else None
