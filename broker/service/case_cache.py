"""The cases a hub process is working on, as it last saved them.

A partition has one reader at a time (decision 0061), so the case rows it works on change
only through it: reading each row again on every message is wasted work. A cached copy can
still be stale (another replica held the partition for a while, or a transaction rolled back
after the copy was taken), and two guards cover that:
- a save names the version it read, so a stale copy fails its version check
  (ConcurrentUpdate), the copy is dropped and the batch tried again with a fresh read;
- a copy is kept as soon as it is saved, so the next message of the case in the same batch
  reads it, and dropped again if that save is rolled back;
- a refusal decided on a cached copy is confirmed against the stored version first
  (`CaseHandlers`), since a refusal writes no case row to check.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from crossforce.broker.service.ports import StoredCase

# A partition owner's working set: the cases with messages in flight. A case's copy is some
# 5-20 KB of Python objects, so this bounds the cache near 4 MB; a case idle for longer than
# it takes 256 others to be touched is simply read again.
DEFAULT_CACHED_CASES = 256


class CaseCache:
    """Least-recently-used copies of committed case rows, by case reference."""

    def __init__(self, capacity: int = DEFAULT_CACHED_CASES) -> None:
        self.capacity = capacity
        self._rows: OrderedDict[str, StoredCase] = OrderedDict()
        # The escalation service and the partition readers may run in different threads.
        self._lock = threading.Lock()

    def get(self, case_ref: str) -> StoredCase | None:
        with self._lock:
            row = self._rows.get(case_ref)
            if row is not None:
                self._rows.move_to_end(case_ref)
            return row

    def put(self, row: StoredCase) -> None:
        """Keep `row` as its case's copy (its save drops it again if rolled back)."""
        with self._lock:
            self._rows[row.case_ref] = row
            self._rows.move_to_end(row.case_ref)
            while len(self._rows) > self.capacity:
                self._rows.popitem(last=False)

    def forget(self, case_ref: str) -> None:
        with self._lock:
            self._rows.pop(case_ref, None)

    def __len__(self) -> int:
        return len(self._rows)
