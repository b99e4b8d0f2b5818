"""Errors raised by the ledger.

Each carries a stable `code` from `crossforce.contracts.errors.ReasonCode`, so the CLI (and anything
else) can report it as one line with a code that does not change meaning.
"""

from __future__ import annotations

from crossforce.contracts.errors import ReasonCode


class LedgerError(Exception):
    """A ledger operation that cannot be done: unknown entry, missing key, bad input."""

    code: ReasonCode = ReasonCode.PROCESSING_FAILED


class EntryNotFound(LedgerError):
    def __init__(self, index: int) -> None:
        super().__init__(f"ledger entry {index} does not exist")
        self.index = index


class PersonalDataDisposed(LedgerError):
    """The entry's data key was destroyed under its retention schedule."""

    def __init__(self, index: int) -> None:
        super().__init__(f"personal fields of entry {index} were disposed of")
        self.index = index


class LedgerUnavailable(LedgerError):
    """The database cannot be reached or opened: bad URL, server down, not a database."""

    code = ReasonCode.DATABASE_ERROR


class NoLedger(LedgerError):
    """The database holds no ledger (and was asked not to create one)."""

    code = ReasonCode.DATABASE_ERROR


class MissingSecret(LedgerError):
    """A key or secret the operation needs was not given."""

    code = ReasonCode.KEY_FILE_INVALID


class AccessRefused(LedgerError):
    """DPA 2018 s.62: a consultation without who or why is refused."""

    code = ReasonCode.NOT_AUTHORISED
