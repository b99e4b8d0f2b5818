"""Reads of a case whose parties include a police employee: reported to the PSD.

"Any attempt to access the record is notified" (domain.md §6; 002 L899–975: the PSD is
notified "of any attempt to access records relating to a case involving a police officer";
in Scotland the PSD / CCU single points of contact, 003 §6.14). Every attempt counts, shown
or refused, through any read path; the report goes to the PSD of each force that employs a
party, and to no one else. It names the case, that force's parties by id, who read, when,
how and why: never a party's name or date of birth. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from crossforce.broker.domain.case import Case
from crossforce.broker.domain.errors import not_authorised
from crossforce.broker.domain.views import Standing, standing
from crossforce.contracts.forces import psd_for

MAX_LINE = 200


def one_line(text: str) -> str:
    """`text` with its whitespace runs (newlines too) made single spaces, and trimmed."""
    return " ".join(text.split())


class ReadChannel(StrEnum):
    CLI = "cli"  # `crossforce case`
    WEB = "web"  # a case page of the supervisors' web app
    LEDGER = "ledger"  # the case's intelligence-submission entry, through `crossforce ledger`


@dataclass(frozen=True, slots=True)
class CaseRead:
    """One attempt to read a case, as the read path saw it (its DPA 2018 s.62 record)."""

    report_id: str  # the read path's id for the attempt: every PSD's copy carries it
    case_ref: str
    reader_force: str | None  # None: the broker's operator, reading as no force
    reader: str  # the account or user: who, never a party
    channel: ReadChannel
    allowed: bool
    justification: str
    read_at: datetime
    ledger_entry: int | None = None  # a ledger read: the entry read

    def __post_init__(self) -> None:
        # DPA 2018 s.62: a consultation says who and why, each one line the report can carry.
        for what, value in (("who reads", self.reader), ("why", self.justification)):
            if not value.strip() or len(value) > MAX_LINE or value != one_line(value):
                raise not_authorised(
                    f"s.62: a read of a case says {what}, in one line of 1 to {MAX_LINE} "
                    "characters",
                    "s62-who-and-why",
                )


@dataclass(frozen=True, slots=True)
class PsdReport:
    """What one Professional Standards Department is told of a read."""

    psd: str
    employing_force: str
    party_ids: tuple[str, ...]  # that force's employees among the parties, by id only
    read: CaseRead


def police_employers(case: Case) -> dict[str, tuple[str, ...]]:
    """Each force that employs a party, with the ids of its employees, in party order."""
    employers: dict[str, list[str]] = {}
    for party in case.parties:
        if party.police_employee_of is not None:
            employers.setdefault(party.police_employee_of, []).append(party.party_id)
    return {force: tuple(ids) for force, ids in employers.items()}


def must_report(case: Case) -> bool:
    """Whether reads of this case are reported: a party is a police employee."""
    return any(party.police_employee_of is not None for party in case.parties)


def read_allowed(case: Case, reader_force: str | None) -> bool:
    """The same test as the case page and `crossforce case`: the operator (no force) reads
    every case; a force reads a case it has, or had, a role in (decision 0021)."""
    return reader_force is None or standing(case, reader_force) is not Standing.NONE


def psd_reports(case: Case, read: CaseRead) -> list[PsdReport]:
    """One report per employing force, to its PSD alone; none for a case without a police
    employee among its parties. The reader's own force is no exception: its PSD is told too
    when it employs a party."""
    if read.case_ref != case.case_ref:
        raise ValueError(f"a read of {read.case_ref} reported against case {case.case_ref}")
    return [
        PsdReport(psd_for(force), force, party_ids, read)
        for force, party_ids in sorted(police_employers(case).items())
    ]
