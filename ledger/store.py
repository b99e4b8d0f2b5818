"""SQL storage for the ledger (SQLAlchemy 2.0 Core; SQLite by default, PostgreSQL in production).

Tables:

* `ledger_head`: one row with the tree size, its right-edge frontier, root and chain head.
  Every append locks it, so appends are serialised across processes.
* `ledger_entries`: append-only; the canonical entry bytes, their leaf hash, a hash chain
  link, and lookup columns copied out of the entry (subject key, case, force, review date).
* `ledger_nodes`: every completed perfect subtree at level >= 1, so roots and proofs never
  rehash the log.
* `ledger_data_keys`: per-entry data keys, wrapped by the master key; deleted on disposal.
* `ledger_checkpoints`, `ledger_disposals`, `ledger_access_log`, `ledger_meta`.

Concurrency: on SQLite every write transaction starts with `BEGIN IMMEDIATE`, which takes the
database write lock up front (a deferred transaction that upgrades later can fail instead of
waiting). On PostgreSQL the head row is read `FOR UPDATE`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    create_engine,
    event,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from crossforce.adapters.sql.engine import create_private_file, lock_schema_creation
from crossforce.adapters.sql.migrate import SchemaSpec, prepare
from crossforce.contracts.errors import ContractError
from crossforce.ledger.errors import LedgerError, LedgerUnavailable, NoLedger
from crossforce.ledger.merkle import EMPTY_ROOT, Frontier, Node, leaf_hash

CHAIN_START = bytes(32)
"""The chain link before the first entry."""

metadata = MetaData()

head_table = Table(
    "ledger_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("tree_size", BigInteger, nullable=False),
    Column("frontier", LargeBinary, nullable=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("chain_hash", LargeBinary(32), nullable=False),
)

entries_table = Table(
    "ledger_entries",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("kind", String(16), nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    # chain_hash = SHA-256(previous chain_hash || leaf_hash): pins each entry to its place.
    Column("chain_hash", LargeBinary(32), nullable=False),
    Column("entry", LargeBinary, nullable=False),
    Column("subject_key", String(64), index=True),
    Column("case_ref", String(128), index=True),
    Column("submitted_by", String(32), nullable=False),
    Column("review_date", Date, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("idempotency_key", String(128), nullable=False, unique=True),
)

nodes_table = Table(
    "ledger_nodes",
    metadata,
    Column("level", SmallInteger, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

data_keys_table = Table(
    "ledger_data_keys",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("wrapped_key", LargeBinary, nullable=False),
)

checkpoints_table = Table(
    "ledger_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tree_size", BigInteger, nullable=False, index=True),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

disposals_table = Table(
    "ledger_disposals",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("disposal_idx", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("disposed_by", String(128), nullable=False),
    Column("disposed_at", DateTime(timezone=True), nullable=False),
)

access_log_table = Table(
    "ledger_access_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("who", String(128), nullable=False),
    Column("action", String(32), nullable=False),
    Column("justification", Text, nullable=False),
    Column("entry_index", BigInteger),
    Column("subject_key", String(64)),
    Column("detail", Text),
)

meta_table = Table(
    "ledger_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

HEAD_ID = 1

LEDGER_SCHEMA = SchemaSpec(
    name="ledger",
    metadata=metadata,
    script_location=Path(__file__).parent / "migrations",
    version_table="ledger_schema_version",
    lock_key=0x43524F53534C4447,  # "CROSSLDG": serialises schema changes
)


def chain_link(previous: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(previous + leaf).digest()


@dataclass(frozen=True)
class Head:
    tree_size: int
    frontier: bytes
    root_hash: bytes
    chain_hash: bytes


@dataclass(frozen=True)
class NewEntry:
    """What the caller builds once it knows the index the entry will take."""

    kind: str
    entry: bytes
    subject_key: str | None
    case_ref: str | None
    submitted_by: str
    review_date: date | None
    created_at: datetime
    wrapped_key: bytes | None = None


@dataclass(frozen=True)
class Appended:
    index: int
    leaf_hash: bytes
    duplicate: bool


def make_engine(url: str, *, create: bool = True) -> Engine:
    """An engine for the ledger; with `create`, a SQLite file's folder is made too."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if create and parsed.database and parsed.database != ":memory:":
            # Sealed entries are personal data: the file is the hub user's only (0600).
            create_private_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"timeout": 120})
        _sqlite_transactions(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_transactions(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 module so each transaction chooses its own mode.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=120000")
        # Overwrite deleted content so a shredded data key does not linger in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        writing = conn.get_execution_options().get("ledger_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")


def safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an unreadable database URL)"


def one_line(exc: BaseException) -> str:
    """A database error's own first line, without SQLAlchemy's SQL echo and links."""
    cause = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    return lines[0] if lines else type(cause).__name__


class LedgerStore:
    """Transactions and queries over the ledger tables.

    With `create` (the default, as the hub opens it) a missing schema is created; without,
    a database holding no ledger is refused with `NoLedger` and nothing is written to it.
    A schema older than the code is refused unless `upgrade` (see
    `crossforce.adapters.sql.migrate`).
    A database that cannot be opened at all raises `LedgerUnavailable`.
    """

    def __init__(self, url: str, *, create: bool = True, upgrade: bool = False) -> None:
        self.url = url
        try:
            if not create:
                _require_ledger(url)
            self.engine = make_engine(url, create=create)
        except (SQLAlchemyError, ImportError) as exc:
            raise LedgerUnavailable(
                f"cannot open the ledger database {safe_url(url)}: {one_line(exc)}"
            ) from None
        self.dialect = self.engine.dialect.name
        try:
            if create:
                self._create_schema(upgrade)
            else:
                with self.reading() as conn:
                    self.head(conn)
        except (SQLAlchemyError, ImportError) as exc:
            self.engine.dispose()
            raise LedgerUnavailable(
                f"cannot open the ledger database {safe_url(url)}: {one_line(exc)}"
            ) from None
        except (LedgerError, ContractError):  # ContractError: a schema to upgrade first
            self.engine.dispose()
            raise

    def close(self) -> None:
        self.engine.dispose()

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A write transaction holding the database write lock (SQLite) from its start."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(ledger_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def setting_up(self) -> Iterator[Connection]:
        """A write transaction under the schema lock: ledgers starting together on one
        PostgreSQL database take turns to record their settings, as they do for tables."""
        with self.writing() as conn:
            lock_schema_creation(conn, LEDGER_SCHEMA.lock_key)
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def _create_schema(self, upgrade: bool) -> None:
        with self.writing() as conn:
            prepare(conn, LEDGER_SCHEMA, upgrade=upgrade)
            if conn.execute(select(head_table.c.id)).first() is None:
                conn.execute(
                    insert(head_table).values(
                        id=HEAD_ID,
                        tree_size=0,
                        frontier=b"",
                        root_hash=EMPTY_ROOT,
                        chain_hash=CHAIN_START,
                    )
                )

    # -- head and appends -----------------------------------------------------------------

    def head(self, conn: Connection, *, lock: bool = False) -> Head:
        query = select(
            head_table.c.tree_size,
            head_table.c.frontier,
            head_table.c.root_hash,
            head_table.c.chain_hash,
        ).where(head_table.c.id == HEAD_ID)
        if lock and self.dialect != "sqlite":
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise LedgerError("the ledger head row is missing: the ledger was tampered with")
        return Head(int(row[0]), bytes(row[1]), bytes(row[2]), bytes(row[3]))

    def append(
        self, conn: Connection, idempotency_key: str, build: Callable[[int], NewEntry]
    ) -> Appended:
        """Append one entry inside a `writing()` transaction; a repeated key returns the first."""
        head = self.head(conn, lock=True)  # take the lock before looking for the duplicate
        existing = conn.execute(
            select(entries_table.c.idx, entries_table.c.leaf_hash).where(
                entries_table.c.idempotency_key == idempotency_key
            )
        ).first()
        if existing is not None:
            return Appended(int(existing[0]), bytes(existing[1]), duplicate=True)
        return self._append_many(conn, head, [(idempotency_key, build)])[0]

    def append_batch(
        self, conn: Connection, items: Iterable[tuple[str, Callable[[int], NewEntry]]]
    ) -> list[Appended]:
        """Append several entries in one transaction, skipping keys already present."""
        head = self.head(conn, lock=True)
        pending = list(items)
        keys = [key for key, _ in pending]
        found: dict[str, Appended] = {}
        for start in range(0, len(keys), 500):
            rows = conn.execute(
                select(
                    entries_table.c.idempotency_key, entries_table.c.idx, entries_table.c.leaf_hash
                ).where(entries_table.c.idempotency_key.in_(keys[start : start + 500]))
            )
            for key, idx, leaf in rows:
                found[key] = Appended(int(idx), bytes(leaf), duplicate=True)
        fresh: list[tuple[str, Callable[[int], NewEntry]]] = []
        seen: set[str] = set()
        for key, build in pending:
            if key not in found and key not in seen:
                fresh.append((key, build))
                seen.add(key)
        fresh_results = self._append_many(conn, head, fresh)
        appended = {key: result for (key, _), result in zip(fresh, fresh_results, strict=True)}
        results: list[Appended] = []
        for key, _ in pending:
            if key in found:
                results.append(found[key])
            else:
                result = appended[key]
                results.append(result)
                found[key] = Appended(result.index, result.leaf_hash, duplicate=True)
        return results

    def _append_many(
        self, conn: Connection, head: Head, items: list[tuple[str, Callable[[int], NewEntry]]]
    ) -> list[Appended]:
        frontier = Frontier.from_bytes(head.tree_size, head.frontier)
        chain = head.chain_hash
        entry_rows: list[dict[str, Any]] = []
        key_rows: list[dict[str, Any]] = []
        node_rows: list[dict[str, Any]] = []
        results: list[Appended] = []
        for key, build in items:
            index = frontier.size
            new = build(index)
            leaf = leaf_hash(new.entry)
            chain = chain_link(chain, leaf)
            for (level, node_index), value in frontier.append(leaf):
                node_rows.append({"level": level, "idx": node_index, "hash": value})
            entry_rows.append(
                {
                    "idx": index,
                    "kind": new.kind,
                    "leaf_hash": leaf,
                    "chain_hash": chain,
                    "entry": new.entry,
                    "subject_key": new.subject_key,
                    "case_ref": new.case_ref,
                    "submitted_by": new.submitted_by,
                    "review_date": new.review_date,
                    "created_at": new.created_at,
                    "idempotency_key": key,
                }
            )
            if new.wrapped_key is not None:
                key_rows.append({"idx": index, "wrapped_key": new.wrapped_key})
            results.append(Appended(index, leaf, duplicate=False))
        if not entry_rows:
            return results
        conn.execute(insert(entries_table), entry_rows)
        if key_rows:
            conn.execute(insert(data_keys_table), key_rows)
        if node_rows:
            conn.execute(insert(nodes_table), node_rows)
        conn.execute(
            update(head_table)
            .where(head_table.c.id == HEAD_ID)
            .values(
                tree_size=frontier.size,
                frontier=frontier.to_bytes(),
                root_hash=frontier.root(),
                chain_hash=chain,
            )
        )
        return results

    # -- reads ------------------------------------------------------------------------------

    def node_reader(self, conn: Connection) -> SqlNodeReader:
        return SqlNodeReader(conn)

    def entry_row(self, conn: Connection, index: int) -> Any:
        return conn.execute(select(entries_table).where(entries_table.c.idx == index)).first()

    def wrapped_key(self, conn: Connection, index: int) -> bytes | None:
        value = conn.execute(
            select(data_keys_table.c.wrapped_key).where(data_keys_table.c.idx == index)
        ).scalar()
        return None if value is None else bytes(value)

    def meta(self, conn: Connection, key: str) -> str | None:
        value = conn.execute(select(meta_table.c.value).where(meta_table.c.key == key)).scalar()
        return None if value is None else str(value)

    def set_meta_once(self, conn: Connection, key: str, value: str) -> str:
        """Record a value the first time; afterwards return what was recorded then.

        Under the schema lock, so replicas starting together on one PostgreSQL database take
        turns: otherwise both find nothing and both insert (a unique violation)."""
        lock_schema_creation(conn, LEDGER_SCHEMA.lock_key)
        current = self.meta(conn, key)
        if current is None:
            conn.execute(insert(meta_table).values(key=key, value=value))
            return value
        return current


class SqlNodeReader:
    """Reads perfect-subtree hashes: level 0 from entry leaf hashes, the rest from nodes."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def read_nodes(self, nodes: Iterable[Node]) -> dict[Node, bytes]:
        wanted = list(nodes)
        leaves = [index for level, index in wanted if level == 0]
        inner = [(level, index) for level, index in wanted if level > 0]
        found: dict[Node, bytes] = {}
        for start in range(0, len(leaves), 500):
            rows = self.conn.execute(
                select(entries_table.c.idx, entries_table.c.leaf_hash).where(
                    entries_table.c.idx.in_(leaves[start : start + 500])
                )
            )
            found.update({(0, int(idx)): bytes(value) for idx, value in rows})
        by_level: dict[int, list[int]] = {}
        for level, index in inner:
            by_level.setdefault(level, []).append(index)
        # One `level = ? AND idx IN (...)` per level: it walks the primary key, where a
        # row-value IN over (level, idx) makes SQLite scan the whole table.
        for level, indexes in by_level.items():
            for start in range(0, len(indexes), 500):
                node_rows = self.conn.execute(
                    select(nodes_table.c.idx, nodes_table.c.hash)
                    .where(nodes_table.c.level == level)
                    .where(nodes_table.c.idx.in_(indexes[start : start + 500]))
                )
                found.update({(level, int(idx)): bytes(value) for idx, value in node_rows})
        return found


def _require_ledger(url: str) -> None:
    """Refuse, without creating or changing anything, a database that holds no ledger."""
    parsed = make_url(url)
    where = safe_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:":
            raise NoLedger(f"no ledger in {where}: an in-memory database is empty")
        if not parsed.query.get("uri") and not Path(database).is_file():
            raise NoLedger(f"no ledger at {where}: {database} does not exist")
    # A plain engine (no WAL switch or other set-up) so a foreign database is left alone.
    probe = create_engine(url)
    try:
        with probe.connect() as conn:
            present = set(inspect(conn).get_table_names())
    finally:
        probe.dispose()
    missing = [table.name for table in metadata.sorted_tables if table.name not in present]
    if len(missing) == len(metadata.sorted_tables):
        raise NoLedger(f"no ledger in {where}: it has no ledger tables")
    if missing:
        raise LedgerError(f"{where} holds an incomplete ledger: no table {', '.join(missing)}")


def utcnow() -> datetime:
    return datetime.now(UTC)
