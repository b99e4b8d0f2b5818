"""Full verification: recompute the ledger from its stored entries and say what is wrong.

Three layers, each catching what the one before cannot:

1. Each entry row against itself: its bytes hash to its leaf hash, the index written inside
   the entry is the row's index, every column copied out of the entry matches it, and its
   chain link follows from the row before. This locates an UPDATE, a DELETE, a swap or an
   insert. The side tables are held to the entries too: every submission not disposed of
   by a disposal entry in the log still has its data key, every disposed one has none, and
   `ledger_disposals` says exactly what the disposal entries say.
2. The stored tree nodes against the nodes recomputed from the entries. This catches an
   entry whose leaf hash and chain link were rewritten along with its content.
3. Every signed checkpoint against the recomputed tree. A checkpoint is signed, so this
   holds even against someone who rewrote entries, nodes and head consistently: the
   change is then located between the last checkpoint that still matches and the first that
   does not. The hub signs the head on every append, so entries beyond the newest signed
   checkpoint mean checkpoints were deleted (`require_signed_head`).
4. Checkpoints published earlier and kept outside the database (`published`). Someone who
   can write to the database can delete every stored checkpoint and rewrite or truncate the
   log consistently; only a note kept elsewhere shows that. A note signing more entries
   than the log holds means entries were deleted; a different root at its size means an
   entry was rewritten.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, String, func, select, type_coerce

from crossforce.ledger.checkpoints import (
    CheckpointError,
    NoteVerifier,
    parse_checkpoint,
    verify_checkpoint,
)
from crossforce.ledger.merkle import (
    Node,
    node_hash,
    range_nodes,
    root_hash,
    verify_consistency,
)
from crossforce.ledger.merkle import (
    consistency_proof as make_consistency_proof,
)
from crossforce.ledger.merkle import (
    leaf_hash as compute_leaf_hash,
)
from crossforce.ledger.store import (
    CHAIN_START,
    LedgerStore,
    chain_link,
    checkpoints_table,
    data_keys_table,
    disposals_table,
    entries_table,
    nodes_table,
)

Progress = Callable[[str, int, int], None]
"""Called as progress(phase, done, total); phases are entries, tree and checkpoints."""

_CHUNK = 5000
_MISSING = bytes(32)


class ProblemKind(StrEnum):
    ALTERED = "altered"
    DELETED = "deleted"
    REORDERED = "reordered"
    INSERTED = "inserted"
    NODE = "node"
    HEAD = "head"
    CHECKPOINT = "checkpoint"
    DATA_KEY = "data-key"
    DISPOSAL = "disposal"


@dataclass(frozen=True)
class Problem:
    kind: ProblemKind
    index: int | None
    detail: str

    def __str__(self) -> str:
        where = f"entry {self.index}" if self.index is not None else "ledger"
        return f"{where}: {self.kind}: {self.detail}"


@dataclass
class VerificationReport:
    tree_size: int
    root_hash: bytes
    entries_checked: int = 0
    checkpoints_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def entries_with(self, kind: ProblemKind) -> list[int]:
        return sorted({p.index for p in self.problems if p.kind == kind and p.index is not None})


class _Levels:
    """Recomputed perfect subtrees, readable like stored ones."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.levels = [leaves]

    def read_nodes(self, nodes: Iterable[Node]) -> dict[Node, bytes]:
        return {(lvl, i): self.levels[lvl][i] for lvl, i in nodes}


@dataclass(frozen=True)
class PublishedCheckpoint:
    """A signed note published earlier (what `crossforce ledger checkpoint` printed)."""

    label: str
    note: str


def verify_store(
    store: LedgerStore,
    *,
    origin: str,
    verifiers: list[NoteVerifier],
    progress: Progress | None = None,
    published: Sequence[PublishedCheckpoint] = (),
    require_signed_head: bool = False,
) -> VerificationReport:
    """Recompute the ledger; see the module docstring.

    `published` checkpoints are checked like stored ones (the log must still extend each);
    with `require_signed_head`, entries beyond the newest checkpoint signed by a trusted key
    are a problem, as are entries with no trusted key to check them against.
    """
    report_progress: Progress = progress or (lambda _phase, _done, _total: None)
    with store.reading() as conn:
        head = store.head(conn)
        report = VerificationReport(head.tree_size, head.root_hash)
        seen = _Seen(head.tree_size)
        leaves, bad, last_chain = _check_entries(
            conn, head.tree_size, report, report_progress, seen
        )
        _check_side_tables(conn, seen, report)
        levels = _check_nodes(conn, leaves, bad, report, report_progress)
        if not bad:
            _check_head(store, conn, levels, last_chain, report)
        _check_checkpoints(
            store,
            conn,
            origin,
            verifiers,
            levels,
            bad,
            report,
            report_progress,
            published=published,
            require_signed_head=require_signed_head,
        )
    return report


@dataclass(frozen=True)
class _LoggedDisposal:
    """What a disposal entry in the log says (the log, not `ledger_disposals`, is the truth)."""

    entry: int
    reason: Any
    disposed_by: Any


class _Seen:
    """What the pass over the entries learnt, for checking the side tables afterwards."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.checked = bytearray(size)  # 1 where the entry was read cleanly
        self.sealed = bytearray(size)  # 1 where a submission holds sealed personal fields
        self.disposals: dict[int, list[_LoggedDisposal]] = {}
        self.cleared_subject: dict[int, Any] = {}  # subject key column emptied

    def note(self, index: int, entry: dict[str, Any]) -> None:
        self.checked[index] = 1
        if entry.get("kind") == "submission" and entry.get("personal") is not None:
            self.sealed[index] = 1
        record = entry.get("disposal")
        if entry.get("kind") == "disposal" and isinstance(record, dict):
            disposed = record.get("disposed_index")
            if isinstance(disposed, int):
                logged = _LoggedDisposal(index, record.get("reason"), record.get("disposed_by"))
                self.disposals.setdefault(disposed, []).append(logged)


# Read as stored: a hand-made UPDATE can leave a value the column type cannot parse.
_ENTRY_COLUMNS = [
    *(c for c in entries_table.c if c.name not in ("review_date", "created_at")),
    type_coerce(entries_table.c.review_date, String).label("review_date"),
    type_coerce(entries_table.c.created_at, String).label("created_at"),
]


def _check_entries(
    conn: Connection, size: int, report: VerificationReport, progress: Progress, seen: _Seen
) -> tuple[list[bytes], set[int], bytes]:
    total = conn.execute(select(func.count()).select_from(entries_table)).scalar_one()
    leaves: list[bytes] = []
    bad: set[int] = set()
    carried: dict[int, Any] = {}
    chain, previous_clean, last, done = CHAIN_START, True, -1, 0
    progress("entries", 0, total)
    while True:
        rows = conn.execute(
            select(*_ENTRY_COLUMNS)
            .where(entries_table.c.idx > last)
            .order_by(entries_table.c.idx)
            .limit(_CHUNK)
        ).all()
        if not rows:
            break
        for row in rows:
            index = int(row.idx)
            last = index
            done += 1
            if index >= size:
                report.problems.append(
                    Problem(
                        ProblemKind.INSERTED,
                        index,
                        f"row beyond the tree size {size} recorded in the ledger head",
                    )
                )
                continue
            while len(leaves) < index:
                missing = len(leaves)
                report.problems.append(Problem(ProblemKind.DELETED, missing, "row is missing"))
                leaves.append(_MISSING)
                bad.add(missing)
                previous_clean = False
            leaf = compute_leaf_hash(_raw(row.entry))
            found = _row_problems(row, index, leaf, seen, carried)
            if not found and previous_clean and chain_link(chain, leaf) != _raw(row.chain_hash):
                found.append(
                    Problem(
                        ProblemKind.ALTERED,
                        index,
                        "chain link broken: the entry was rewritten together with its leaf hash",
                    )
                )
            report.problems.extend(found)
            if found:
                bad.add(index)
            chain, previous_clean = _raw(row.chain_hash), not found
            leaves.append(leaf)
        report.entries_checked = done
        progress("entries", done, total)
    for missing in range(len(leaves), size):
        report.problems.append(Problem(ProblemKind.DELETED, missing, "row is missing"))
        leaves.append(_MISSING)
        bad.add(missing)
    _explain_moves(report, carried)
    return leaves, bad, chain


def _raw(value: Any) -> bytes:
    # A hand-made UPDATE can leave text where bytes belong; compare what is there.
    return value.encode() if isinstance(value, str) else bytes(value)


def _row_problems(
    row: Any, index: int, leaf: bytes, seen: _Seen, carried: dict[int, Any]
) -> list[Problem]:
    try:
        entry = json.loads(_raw(row.entry))
        if not isinstance(entry, dict):
            raise ValueError
    except ValueError:
        return [Problem(ProblemKind.ALTERED, index, "stored bytes are not a ledger entry")]
    if entry.get("index") != index:
        carried[index] = entry.get("index")
        return [Problem(ProblemKind.REORDERED, index, f"row holds entry {entry.get('index')}")]
    if leaf != _raw(row.leaf_hash):
        return [Problem(ProblemKind.ALTERED, index, "content does not match its leaf hash")]
    seen.note(index, entry)
    problems = []
    columns = {
        "kind": row.kind,
        "case_ref": row.case_ref,
        "submitted_by": row.submitted_by,
        "review_date": _stored_date(row.review_date),
        "subject_key": row.subject_key,
    }
    for name, value in columns.items():
        if name == "subject_key" and value is None and entry.get(name) is not None:
            # Disposal takes a shredded entry out of subject look-ups on purpose; whether a
            # disposal entry in the log covers it is known only after the whole pass.
            seen.cleared_subject[index] = entry.get(name)
            continue
        if value != entry.get(name):
            problems.append(_column_problem(index, name, value, entry.get(name)))
    if not _same_time(row.created_at, entry.get("submitted_at")):
        problems.append(
            _column_problem(index, "created_at", row.created_at, entry.get("submitted_at"))
        )
    return problems


def _column_problem(index: int, name: str, value: Any, expected: Any) -> Problem:
    return Problem(
        ProblemKind.ALTERED, index, f"column {name} is {value!r} but the entry says {expected!r}"
    )


def _stored_date(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _same_time(stored: Any, written: Any) -> bool:
    """The created_at column against the entry's submitted_at (the same instant on append)."""
    try:
        when = datetime.fromisoformat(written)
        if isinstance(stored, str):
            stored = datetime.fromisoformat(stored)
    except (TypeError, ValueError):
        return False
    if not isinstance(stored, datetime):
        return False
    if stored.tzinfo is None:
        # SQLite keeps the wall-clock time the value was written with, without its offset.
        return stored == when.replace(tzinfo=None)
    return stored == when


def _check_side_tables(conn: Connection, seen: _Seen, report: VerificationReport) -> None:
    """Data keys and disposal rows agree with what the entries themselves say."""
    for index, subject in sorted(seen.cleared_subject.items()):
        if index not in seen.disposals:
            report.problems.append(_column_problem(index, "subject_key", None, subject))
    for disposed, logged in sorted(seen.disposals.items()):
        if not 0 <= disposed < seen.size or not seen.sealed[disposed]:
            where = ", ".join(str(item.entry) for item in logged)
            report.problems.append(
                Problem(
                    ProblemKind.DISPOSAL,
                    disposed,
                    f"disposal entry {where} disposes of an entry with no personal fields",
                )
            )
        if len(logged) > 1:
            where = ", ".join(str(item.entry) for item in logged)
            report.problems.append(
                Problem(ProblemKind.DISPOSAL, disposed, f"disposed of twice, by entries {where}")
            )
    _check_disposal_rows(conn, seen, report)
    _check_data_keys(conn, seen, report)


def _check_disposal_rows(conn: Connection, seen: _Seen, report: VerificationReport) -> None:
    recorded: set[int] = set()
    for row in conn.execute(select(disposals_table).order_by(disposals_table.c.idx)):
        index = int(row.idx)
        recorded.add(index)
        logged = seen.disposals.get(index)
        if not logged:
            report.problems.append(
                Problem(
                    ProblemKind.DISPOSAL,
                    index,
                    "a disposal row exists but no disposal entry in the log records it",
                )
            )
            continue
        expected = logged[0]
        stored = (int(row.disposal_idx), row.reason, row.disposed_by)
        if stored != (expected.entry, expected.reason, expected.disposed_by):
            report.problems.append(
                Problem(
                    ProblemKind.DISPOSAL,
                    index,
                    f"disposal row {stored!r} differs from disposal entry {expected.entry} "
                    f"({expected.reason!r}, by {expected.disposed_by!r})",
                )
            )
    for index in sorted(set(seen.disposals) - recorded):
        entry = seen.disposals[index][0].entry
        report.problems.append(
            Problem(
                ProblemKind.DISPOSAL,
                index,
                f"disposal entry {entry} is not in ledger_disposals: the row was deleted",
            )
        )


def _check_data_keys(conn: Connection, seen: _Seen, report: VerificationReport) -> None:
    has_key = bytearray(seen.size)
    rows = conn.execution_options(yield_per=_CHUNK).execute(
        select(data_keys_table.c.idx).order_by(data_keys_table.c.idx)
    )
    for (idx,) in rows:
        index = int(idx)
        if 0 <= index < seen.size and seen.sealed[index]:
            has_key[index] = 1
        elif not 0 <= index < seen.size or seen.checked[index]:
            # (An entry that is itself altered or missing is reported already.)
            report.problems.append(
                Problem(ProblemKind.DATA_KEY, index, "data key of an entry without personal fields")
            )
    for index in range(seen.size):
        if not seen.sealed[index]:
            continue
        disposed = index in seen.disposals
        if has_key[index] and disposed:
            report.problems.append(
                Problem(
                    ProblemKind.DATA_KEY,
                    index,
                    "data key still present after its disposal was logged: not shredded",
                )
            )
        elif not has_key[index] and not disposed:
            report.problems.append(
                Problem(
                    ProblemKind.DATA_KEY,
                    index,
                    "data key missing with no disposal logged: personal fields were "
                    "shredded outside a disposal",
                )
            )


def _explain_moves(report: VerificationReport, carried: dict[int, Any]) -> None:
    """Turn 'row i holds entry j' into 'entries i and j were swapped' where that is what it is."""
    for position, problem in enumerate(report.problems):
        if problem.kind != ProblemKind.REORDERED or problem.index is None:
            continue
        holds = carried.get(problem.index)
        if isinstance(holds, int) and carried.get(holds) == problem.index:
            first, second = sorted((problem.index, holds))
            detail = f"entries {first} and {second} were swapped (row holds entry {holds})"
            report.problems[position] = Problem(ProblemKind.REORDERED, problem.index, detail)


def _check_nodes(
    conn: Connection,
    leaves: list[bytes],
    bad: set[int],
    report: VerificationReport,
    progress: Progress,
) -> _Levels:
    levels = _Levels(leaves)
    size = len(leaves)
    height = size.bit_length()
    bad_below = set(bad)
    for level in range(1, height):
        progress("tree", level, height - 1)
        below = levels.levels[-1]
        count = size >> level
        current = [node_hash(below[2 * i], below[2 * i + 1]) for i in range(count)]
        bad_here = {i // 2 for i in bad_below if i // 2 < count}
        seen = 0
        stored = conn.execution_options(yield_per=_CHUNK).execute(
            select(nodes_table.c.idx, nodes_table.c.hash)
            .where(nodes_table.c.level == level)
            .order_by(nodes_table.c.idx)
        )
        for idx, value in stored:
            i = int(idx)
            if i >= count:
                report.problems.append(_node_problem(level, i, "stored beyond the tree"))
                continue
            seen += 1
            if _raw(value) != current[i]:
                explained = i in bad_here
                bad_here.add(i)
                if not explained:
                    report.problems.append(
                        _node_problem(level, i, "does not match the entries under it")
                    )
        if seen < count:
            report.problems.append(
                Problem(ProblemKind.NODE, None, f"{count - seen} tree nodes at level {level} lost")
            )
        levels.levels.append(current)
        bad_below = bad_here
    return levels


def _node_problem(level: int, index: int, what: str) -> Problem:
    first, last = index << level, ((index + 1) << level) - 1
    return Problem(
        ProblemKind.NODE,
        first,
        f"tree node over entries {first}..{last} {what}: one of them was rewritten",
    )


def _check_head(
    store: LedgerStore,
    conn: Connection,
    levels: _Levels,
    last_chain: bytes,
    report: VerificationReport,
) -> None:
    head = store.head(conn)
    size = head.tree_size
    recomputed = root_hash(size, levels)
    if recomputed != head.root_hash:
        report.problems.append(Problem(ProblemKind.HEAD, None, "stored root hash is wrong"))
    frontier = b"".join(levels.read_nodes(range_nodes(0, size)).values()) if size else b""
    if frontier != head.frontier:
        report.problems.append(Problem(ProblemKind.HEAD, None, "stored frontier is wrong"))
    if last_chain != head.chain_hash:
        report.problems.append(Problem(ProblemKind.HEAD, None, "chain head does not match"))
    report.root_hash = recomputed


def _check_checkpoints(
    store: LedgerStore,
    conn: Connection,
    origin: str,
    verifiers: list[NoteVerifier],
    levels: _Levels,
    bad: set[int],
    report: VerificationReport,
    progress: Progress,
    *,
    published: Sequence[PublishedCheckpoint] = (),
    require_signed_head: bool = False,
) -> None:
    rows = conn.execute(
        select(checkpoints_table).order_by(checkpoints_table.c.tree_size, checkpoints_table.c.id)
    ).all()
    size = len(levels.levels[0])
    first_bad = min(bad, default=None)
    good_size = 0
    signed_size = 0  # the most entries a stored checkpoint under a trusted key covers
    newest_good: tuple[int, bytes, str] | None = None
    if not verifiers and rows:
        report.notes.append("no trusted checkpoint key given: signatures were not checked")
    progress("checkpoints", 0, len(rows) + len(published))
    for done, row in enumerate(rows, start=1):
        label = f"checkpoint #{row.id} (size {row.tree_size})"
        try:
            checkpoint = (
                verify_checkpoint(row.note, verifiers)
                if verifiers
                else parse_checkpoint(row.note)[0]
            )
        except CheckpointError as exc:
            report.problems.append(Problem(ProblemKind.CHECKPOINT, None, f"{label}: {exc}"))
            continue
        if verifiers:
            signed_size = max(signed_size, checkpoint.tree_size)
        if (checkpoint.tree_size, checkpoint.root_hash) != (row.tree_size, bytes(row.root_hash)):
            report.problems.append(
                Problem(ProblemKind.CHECKPOINT, None, f"{label}: columns differ from the note")
            )
        if checkpoint.origin != origin:
            report.problems.append(
                Problem(ProblemKind.CHECKPOINT, None, f"{label}: origin {checkpoint.origin!r}")
            )
        if checkpoint.tree_size > size:
            report.problems.append(
                Problem(
                    ProblemKind.CHECKPOINT,
                    size,
                    f"{label} signed more entries than the log holds ({size}): "
                    f"entries {size}..{checkpoint.tree_size - 1} were removed",
                )
            )
            continue
        recomputed = root_hash(checkpoint.tree_size, levels)
        if recomputed != checkpoint.root_hash:
            if first_bad is None or first_bad >= checkpoint.tree_size:
                report.problems.append(
                    Problem(
                        ProblemKind.CHECKPOINT,
                        good_size,
                        f"{label} no longer matches the entries: an entry in "
                        f"{good_size}..{checkpoint.tree_size - 1} was rewritten consistently",
                    )
                )
            continue
        good_size = max(good_size, checkpoint.tree_size)
        newest_good = (checkpoint.tree_size, recomputed, label)
        report.checkpoints_checked += 1
        progress("checkpoints", done, len(rows) + len(published))
    if newest_good is not None:
        # Every stored node was compared with the recomputed tree above, so one served proof
        # (from the newest good checkpoint) is enough to show the proofs handed out hold.
        _check_served_consistency(store, conn, *newest_good, report)
    for done, item in enumerate(published, start=len(rows) + 1):
        if _check_published(item, origin, verifiers, levels, good_size, report):
            report.checkpoints_checked += 1
        progress("checkpoints", done, len(rows) + len(published))
    if require_signed_head:
        _check_head_is_signed(size, signed_size, verifiers, report)


def _check_published(
    item: PublishedCheckpoint,
    origin: str,
    verifiers: list[NoteVerifier],
    levels: _Levels,
    good_size: int,
    report: VerificationReport,
) -> bool:
    """A checkpoint published earlier (kept outside the database): the log must extend it."""
    size = len(levels.levels[0])
    label = f"published checkpoint {item.label}"

    def fail(index: int | None, detail: str) -> bool:
        report.problems.append(Problem(ProblemKind.CHECKPOINT, index, f"{label}: {detail}"))
        return False

    if not verifiers:
        return fail(None, "no checkpoint key to check its signature with (give --verifier-key)")
    try:
        checkpoint = verify_checkpoint(item.note, verifiers)
    except CheckpointError as exc:
        return fail(None, f"{exc} (not signed by the trusted checkpoint key)")
    if checkpoint.origin != origin:
        return fail(None, f"it is of the log {checkpoint.origin!r}, not {origin!r}")
    if checkpoint.tree_size > size:
        return fail(
            size,
            f"signed {checkpoint.tree_size} entries but the log now holds {size}: "
            f"entries {size}..{checkpoint.tree_size - 1} were deleted",
        )
    if root_hash(checkpoint.tree_size, levels) != checkpoint.root_hash:
        start = good_size if good_size < checkpoint.tree_size else 0
        return fail(
            start,
            f"the log's root at size {checkpoint.tree_size} differs from the signed one: "
            f"an entry in {start}..{checkpoint.tree_size - 1} was rewritten",
        )
    return True


def _check_head_is_signed(
    size: int, signed_size: int, verifiers: list[NoteVerifier], report: VerificationReport
) -> None:
    """Every append is signed over (the hub signs as it appends), so the head must be too."""
    if size == 0:
        return
    if not verifiers:
        report.problems.append(
            Problem(
                ProblemKind.CHECKPOINT,
                None,
                f"no checkpoint key is recorded or given, so nothing signed vouches for "
                f"entries 0..{size - 1}",
            )
        )
    elif signed_size < size:
        report.problems.append(
            Problem(
                ProblemKind.CHECKPOINT,
                signed_size,
                f"entries {signed_size}..{size - 1} are covered by no signed checkpoint: "
                "checkpoints were deleted, or entries appended without signing one",
            )
        )


def _check_served_consistency(
    store: LedgerStore,
    conn: Connection,
    old_size: int,
    old_root: bytes,
    label: str,
    report: VerificationReport,
) -> None:
    """The consistency proof the ledger would hand a witness must verify too."""
    head = store.head(conn)
    reader = store.node_reader(conn)
    try:
        path = make_consistency_proof(old_size, head.tree_size, reader)
        ok = verify_consistency(old_size, head.tree_size, old_root, head.root_hash, path)
    except LookupError as exc:
        ok, reason = False, str(exc)
    else:
        reason = "consistency proof to the current head fails"
    if not ok and not any(p.kind in (ProblemKind.NODE, ProblemKind.HEAD) for p in report.problems):
        report.problems.append(Problem(ProblemKind.CHECKPOINT, None, f"{label}: {reason}"))
