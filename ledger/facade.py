"""The `Ledger`: one object for the hub and the CLI over store, tree, keys and logs."""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, insert, select

from crossforce.contracts.keys import Signer
from crossforce.ledger import merkle, retention, sealing
from crossforce.ledger.access import AccessAction, AccessRecord, read_access_log, record_access
from crossforce.ledger.checkpoints import Checkpoint, CheckpointError, NoteVerifier, sign_checkpoint
from crossforce.ledger.entry import (
    DisposalRecord,
    LedgerEntry,
    as_json_object,
    open_personal,
    seal_personal,
)
from crossforce.ledger.errors import EntryNotFound, LedgerError, MissingSecret
from crossforce.ledger.key_material import master_key_from_env, subject_key_from_env
from crossforce.ledger.proofs import ConsistencyProof, InclusionProof, TreeHead
from crossforce.ledger.store import (
    Appended,
    LedgerStore,
    NewEntry,
    checkpoints_table,
    disposals_table,
    entries_table,
    utcnow,
)
from crossforce.ledger.subject_key import is_complete, subject_key
from crossforce.ledger.verify import Progress, PublishedCheckpoint, VerificationReport, verify_store

DEFAULT_ORIGIN = "crossforce.police.uk/ledger"


@dataclass(frozen=True)
class Submission:
    """One end-of-case intelligence submission, ready to append."""

    submission: BaseModel | Mapping[str, Any]
    personal: BaseModel | Mapping[str, Any]
    subject_identity: Mapping[str, Any]
    case_ref: str
    submitted_by: str
    review_date: date
    idempotency_key: str | None = None
    submitted_at: datetime | None = None


@dataclass(frozen=True)
class StoredEntry:
    """An entry as read back; `personal` is None once disposed of or without the master key."""

    index: int
    kind: str
    case_ref: str | None
    submitted_by: str
    submitted_at: datetime
    review_date: date | None
    subject_key: str | None
    submission: dict[str, Any] | None
    personal: dict[str, Any] | None
    disposed: bool
    disposal: DisposalRecord | None
    leaf_hash: bytes


class Ledger:
    """The end-of-case intelligence-submission ledger.

    `origin` names the log in its checkpoints (default: the one recorded in the database,
    else DEFAULT_ORIGIN). `signing_key` signs checkpoints, `hmac_key` makes subject keys
    and `master_key` wraps data keys; the last two default to the environment (see
    `crossforce.ledger.key_material`). Each may be absent for a process that does not need it:
    verification needs none of them. Without `create`, a database with no ledger is
    refused (`NoLedger`) instead of given an empty one: for tools that only read. A schema
    older than the code is refused unless `upgrade`.
    """

    def __init__(
        self,
        db_url: str,
        signing_key: Signer | None = None,
        hmac_key: bytes | None = None,
        origin: str | None = None,
        *,
        master_key: bytes | None = None,
        key_name: str | None = None,
        trusted_keys: Iterable[NoteVerifier] = (),
        create: bool = True,
        upgrade: bool = False,
    ) -> None:
        self.store = LedgerStore(db_url, create=create, upgrade=upgrade)
        try:
            self._set_up(signing_key, hmac_key, origin, master_key, key_name, trusted_keys)
        except BaseException:
            self.store.close()
            raise

    def _set_up(
        self,
        signing_key: Signer | None,
        hmac_key: bytes | None,
        origin: str | None,
        master_key: bytes | None,
        key_name: str | None,
        trusted_keys: Iterable[NoteVerifier],
    ) -> None:
        if origin is None:
            with self.store.reading() as conn:
                origin = self.store.meta(conn, "origin") or DEFAULT_ORIGIN
        self.origin = origin
        self.signing_key = signing_key
        # tlog-checkpoint: the log's key name is conventionally its origin.
        self.key_name = key_name or origin
        self._hmac_key = hmac_key if hmac_key is not None else subject_key_from_env()
        self._master_key = master_key if master_key is not None else master_key_from_env()
        self.trusted_keys = list(trusted_keys)
        Checkpoint(origin, 0, merkle.EMPTY_ROOT).body()  # rejects a malformed origin early
        # Check-then-insert, so under the lock: replicas start together on a fresh database.
        with self.store.setting_up() as conn:
            recorded = self.store.set_meta_once(conn, "origin", origin)
            if self.signing_key is not None:
                self.store.set_meta_once(conn, "checkpoint_key", self.verifier().to_string())
        if recorded != origin:
            raise LedgerError(f"this database holds the ledger {recorded!r}, not {origin!r}")

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- keys -----------------------------------------------------------------------------

    def verifier(self) -> NoteVerifier:
        """The signed-note verifier key of this ledger's checkpoint key."""
        if self.signing_key is None:
            raise MissingSecret("no checkpoint signing key was given")
        return NoteVerifier.for_signing_key(self.signing_key, self.key_name)

    def subject_key(self, identity: Mapping[str, Any]) -> str:
        if self._hmac_key is None:
            raise MissingSecret("no subject key secret: set CROSSFORCE_LEDGER_SUBJECT_KEY")
        return subject_key(self._hmac_key, identity)

    def _require_master_key(self) -> bytes:
        if self._master_key is None:
            raise MissingSecret("no master key: set CROSSFORCE_LEDGER_MASTER_KEY")
        return self._master_key

    # -- appends --------------------------------------------------------------------------

    def append_submission(
        self,
        submission: BaseModel | Mapping[str, Any],
        *,
        personal: BaseModel | Mapping[str, Any],
        subject_identity: Mapping[str, Any],
        case_ref: str,
        submitted_by: str,
        review_date: date,
        idempotency_key: str | None = None,
        submitted_at: datetime | None = None,
        checkpoint: bool = False,
    ) -> Appended:
        """Append a submission; the same submission (or idempotency key) again returns the first.

        With `checkpoint`, the new head is signed and stored in the same transaction, so no
        entry is ever left outside a signed checkpoint (what the hub does on every append).
        """
        item = Submission(
            submission,
            personal,
            subject_identity,
            case_ref,
            submitted_by,
            review_date,
            idempotency_key,
            submitted_at,
        )
        if checkpoint:
            self._require_signing_key()
        key, build = self._prepare(item)
        with self.store.writing() as conn:
            appended = self.store.append(conn, key, build)
            if checkpoint:
                self._sign_head(conn)
            return appended

    def append_submissions(
        self, items: Iterable[Submission], *, checkpoint: bool = False
    ) -> list[Appended]:
        """Append many submissions in one transaction (bulk loads and replays).

        With `checkpoint`, the head after the batch is signed in the same transaction.
        """
        if checkpoint:
            self._require_signing_key()
        prepared = [self._prepare(item) for item in items]
        with self.store.writing() as conn:
            appended = self.store.append_batch(conn, prepared)
            if checkpoint:
                self._sign_head(conn)
            return appended

    def _prepare(self, item: Submission) -> tuple[str, Any]:
        master = self._require_master_key()
        public = as_json_object(item.submission)
        personal = as_json_object(item.personal)
        # A subject whose identity is not known (an anonymous route), or known only in part
        # (a name without a date of birth), has no subject key; the entry is still appended.
        identity = item.subject_identity
        subject = self.subject_key(identity) if identity and is_complete(identity) else None
        when = item.submitted_at or utcnow()
        key = item.idempotency_key or self._content_key(item, public, personal, subject)
        if len(key) > 128:
            raise LedgerError("an idempotency key is at most 128 characters")

        def build(index: int) -> NewEntry:
            data_key = sealing.new_data_key()
            entry = LedgerEntry(
                index=index,
                kind="submission",
                case_ref=item.case_ref,
                submitted_by=item.submitted_by,
                submitted_at=when,
                review_date=item.review_date,
                subject_key=subject,
                submission=public,
                personal=seal_personal(data_key, index, personal),
            )
            return NewEntry(
                kind="submission",
                entry=entry.to_bytes(),
                subject_key=subject,
                case_ref=item.case_ref,
                submitted_by=item.submitted_by,
                review_date=item.review_date,
                created_at=when,
                wrapped_key=sealing.wrap_data_key(master, data_key, index),
            )

        return key, build

    def _content_key(
        self,
        item: Submission,
        public: dict[str, Any],
        personal: dict[str, Any],
        subject: str | None,
    ) -> str:
        # Keyed, because a plain hash of personal data stored in the clear could be guessed.
        assert self._hmac_key is not None
        content = {
            "submission": public,
            "personal": personal,
            "subject_key": subject,
            "case_ref": item.case_ref,
            "submitted_by": item.submitted_by,
            "review_date": item.review_date.isoformat(),
        }
        # Sorted-key JSON is deterministic, which is all a duplicate check needs, and much
        # cheaper than RFC 8785 on the append path.
        text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        digest = hmac.new(
            self._hmac_key, b"crossforce-ledger-idempotency\n" + text.encode(), "sha256"
        )
        return "content:" + digest.hexdigest()

    # -- tree -----------------------------------------------------------------------------

    @property
    def size(self) -> int:
        with self.store.reading() as conn:
            return self.store.head(conn).tree_size

    def tree_head(self) -> TreeHead:
        with self.store.reading() as conn:
            head = self.store.head(conn)
        return TreeHead(head.tree_size, head.root_hash)

    def root(self, tree_size: int | None = None) -> bytes:
        with self.store.reading() as conn:
            size = self._size_or_head(conn, tree_size)
            return merkle.root_hash(size, self.store.node_reader(conn))

    def _size_or_head(self, conn: Connection, tree_size: int | None) -> int:
        head = self.store.head(conn).tree_size
        if tree_size is None:
            return head
        if not 0 <= tree_size <= head:
            raise LedgerError(f"tree size {tree_size} is outside 0..{head}")
        return tree_size

    def inclusion_proof(
        self, index: int, *, by: str, justification: str, tree_size: int | None = None
    ) -> InclusionProof:
        """Audit path for entry `index`; logged as a consultation (s.62)."""
        with self.store.writing() as conn:
            size = self._size_or_head(conn, tree_size)
            if not 0 <= index < size:
                raise EntryNotFound(index)
            record_access(
                conn,
                who=by,
                action=AccessAction.CONSULTATION,
                justification=justification,
                entry_index=index,
                detail=f"inclusion proof at tree size {size}",
            )
            reader = self.store.node_reader(conn)
            row = self.store.entry_row(conn, index)
            if row is None:
                raise EntryNotFound(index)
            path = merkle.inclusion_proof(index, size, reader)
            root = merkle.root_hash(size, reader)
            note = self._checkpoint_note(conn, size)
            recorded = self.store.meta(conn, "checkpoint_key")
        given = [self.verifier()] if self.signing_key is not None else self.trusted_keys
        vkey = given[0].to_string() if given else recorded
        return InclusionProof(
            index,
            size,
            bytes(row.leaf_hash),
            path,
            root,
            note,
            entry=bytes(row.entry),
            verifier_key=vkey,
        )

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> ConsistencyProof:
        """Proof that the log only grew from `old_size`; carries no personal data."""
        with self.store.reading() as conn:
            new = self._size_or_head(conn, new_size)
            if not 0 <= old_size <= new:
                raise LedgerError(f"no consistency proof from {old_size} to {new}")
            reader = self.store.node_reader(conn)
            path = merkle.consistency_proof(old_size, new, reader)
            old_root = merkle.root_hash(old_size, reader)
            new_root = merkle.root_hash(new, reader)
        return ConsistencyProof(old_size, new, old_root, new_root, path)

    # -- checkpoints ----------------------------------------------------------------------

    def checkpoint(self) -> str:
        """Sign the current tree head, store the note and return it."""
        self._require_signing_key()
        with self.store.writing() as conn:
            return self._sign_head(conn)

    def _require_signing_key(self) -> Signer:
        if self.signing_key is None:
            raise MissingSecret("no checkpoint signing key was given")
        return self.signing_key

    def _sign_head(self, conn: Connection) -> str:
        """Inside a write transaction: the stored note for the head, signing one if none."""
        key = self._require_signing_key()
        head = self.store.head(conn, lock=True)
        existing = self._checkpoint_note(conn, head.tree_size)
        if existing is not None:
            return existing
        body = Checkpoint(self.origin, head.tree_size, head.root_hash)
        note = sign_checkpoint(body, key, self.key_name)
        conn.execute(
            insert(checkpoints_table).values(
                tree_size=head.tree_size,
                root_hash=head.root_hash,
                note=note,
                created_at=utcnow(),
            )
        )
        return note

    def latest_checkpoint(self, *, covering: int = 0) -> str | None:
        """The newest stored checkpoint with at least `covering` entries."""
        with self.store.reading() as conn:
            note = conn.execute(
                select(checkpoints_table.c.note)
                .where(checkpoints_table.c.tree_size >= covering)
                .order_by(checkpoints_table.c.tree_size.desc(), checkpoints_table.c.id.desc())
                .limit(1)
            ).scalar()
        return None if note is None else str(note)

    def _checkpoint_note(self, conn: Connection, size: int) -> str | None:
        note = conn.execute(
            select(checkpoints_table.c.note)
            .where(checkpoints_table.c.tree_size == size)
            .order_by(checkpoints_table.c.id.desc())
            .limit(1)
        ).scalar()
        return None if note is None else str(note)

    # -- reads ----------------------------------------------------------------------------

    def case_refs(
        self, *, index: int | None = None, subject_key: str | None = None
    ) -> dict[int, str | None]:
        """Which case each entry is about (entry index -> case reference): the entry at
        `index`, or every entry about `subject_key`. References only, no personal field, so
        not a consultation itself: a read path asks first, to report the read it is about to
        make (a case with a police employee among its parties, decision 0051)."""
        query = select(entries_table.c.idx, entries_table.c.case_ref).order_by(entries_table.c.idx)
        if index is not None:
            query = query.where(entries_table.c.idx == index)
        if subject_key is not None:
            query = query.where(entries_table.c.subject_key == subject_key)
        with self.store.reading() as conn:
            return {int(row.idx): row.case_ref for row in conn.execute(query)}

    def entry(self, index: int, *, by: str, justification: str) -> StoredEntry:
        """Read one entry with its personal fields; logged as a consultation (s.62)."""
        with self.store.writing() as conn:
            record_access(
                conn,
                who=by,
                action=AccessAction.CONSULTATION,
                justification=justification,
                entry_index=index,
                detail="entry read",
            )
            return self._stored_entry(conn, index)

    def find_by_subject(self, key: str, *, by: str, justification: str) -> list[StoredEntry]:
        """Every live submission about the same subject, whichever force wrote it (001 ¶93)."""
        with self.store.writing() as conn:
            indexes = [
                int(i)
                for i in conn.execute(
                    select(entries_table.c.idx)
                    .where(entries_table.c.subject_key == key)
                    .order_by(entries_table.c.idx)
                ).scalars()
            ]
            record_access(
                conn,
                who=by,
                action=AccessAction.CONSULTATION,
                justification=justification,
                subject_key=key,
                detail=f"subject look-up returned entries {indexes}",
            )
            return [self._stored_entry(conn, index) for index in indexes]

    def _stored_entry(self, conn: Connection, index: int) -> StoredEntry:
        row = self.store.entry_row(conn, index)
        if row is None:
            raise EntryNotFound(index)
        entry = LedgerEntry.from_bytes(bytes(row.entry))
        disposed = (
            conn.execute(
                select(disposals_table.c.idx).where(disposals_table.c.idx == index)
            ).first()
            is not None
        )
        personal = None
        wrapped = self.store.wrapped_key(conn, index)
        if entry.personal is not None and wrapped is not None and self._master_key is not None:
            data_key = sealing.unwrap_data_key(self._master_key, wrapped, index)
            personal = open_personal(data_key, index, entry.personal)
        return StoredEntry(
            index=index,
            kind=entry.kind,
            case_ref=entry.case_ref,
            submitted_by=entry.submitted_by,
            submitted_at=entry.submitted_at,
            review_date=entry.review_date,
            subject_key=entry.subject_key,
            submission=entry.submission,
            personal=personal,
            disposed=disposed,
            disposal=entry.disposal,
            leaf_hash=bytes(row.leaf_hash),
        )

    def access_log(self, *, entry_index: int | None = None) -> list[AccessRecord]:
        return read_access_log(self.store, entry_index=entry_index)

    # -- retention ------------------------------------------------------------------------

    def due_for_review(self, on: date) -> list[int]:
        return retention.due_for_review(self.store, on)

    def dispose(self, index: int, *, reason: str, by: str) -> retention.Disposal:
        """Shred entry `index`'s personal fields under its MOPI review; the tree still verifies."""

        def record(position: int, when: datetime) -> NewEntry:
            entry = LedgerEntry(
                index=position,
                kind="disposal",
                submitted_by=by,
                submitted_at=when,
                disposal=DisposalRecord(disposed_index=index, reason=reason, disposed_by=by),
            )
            return NewEntry(
                kind="disposal",
                entry=entry.to_bytes(),
                subject_key=None,
                case_ref=None,
                submitted_by=by,
                review_date=None,
                created_at=when,
            )

        # With the checkpoint key, the disposal entry is signed over like any other append.
        sign = self._sign_head if self.signing_key is not None else None
        return retention.dispose(
            self.store, index, reason=reason, by=by, build_record=record, after_append=sign
        )

    # -- verification ---------------------------------------------------------------------

    def checkpoint_verifiers(self) -> tuple[list[NoteVerifier], list[str]]:
        """The keys checkpoints are checked against, and a note on where they came from.

        The keys given (`trusted_keys`, the signing key), else the key recorded in the
        database when it was first signed into: trust on first use, which someone able to
        rewrite the database can also replace; a key given from outside is the real anchor.
        """
        trusted = list(self.trusted_keys)
        if self.signing_key is not None:
            trusted.append(self.verifier())
        if trusted:
            return trusted, []
        with self.store.reading() as conn:
            recorded = self.store.meta(conn, "checkpoint_key")
        if recorded is None:
            return [], []
        try:
            verifier = NoteVerifier.from_string(recorded)
        except CheckpointError as exc:
            return [], [f"the checkpoint key recorded in the database is unusable: {exc}"]
        return [verifier], ["checkpoint key taken from the database itself (trust on first use)"]

    def verify(
        self,
        progress: Progress | None = None,
        *,
        published: Iterable[PublishedCheckpoint] = (),
        require_signed_head: bool | None = None,
    ) -> VerificationReport:
        """Recompute everything from the stored entries; see `crossforce.ledger.verify`.

        `published`: signed notes kept outside the database; the log must still extend
        each. `require_signed_head` (default: whenever a checkpoint key is known) makes
        entries that no signed checkpoint covers a problem.
        """
        trusted, notes = self.checkpoint_verifiers()
        if require_signed_head is None:
            require_signed_head = bool(trusted)
        report = verify_store(
            self.store,
            origin=self.origin,
            verifiers=trusted,
            progress=progress,
            published=list(published),
            require_signed_head=require_signed_head,
        )
        report.notes[:0] = notes
        return report
