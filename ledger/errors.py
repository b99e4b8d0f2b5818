"""Errors raised by the ledger."""

from __future__ import annotations


class LedgerError(Exception):
    """A ledger operation that cannot be done: unknown entry, missing key, bad input."""


class EntryNotFound(LedgerError):
    def __init__(self, index: int) -> None:
        super().__init__(f"ledger entry {index} does not exist")
        self.index = index


class PersonalDataDisposed(LedgerError):
    """The entry's data key was destroyed under its retention schedule."""

    def __init__(self, index: int) -> None:
        super().__init__(f"personal fields of entry {index} were disposed of")
        self.index = index
