"""The web app's own small store: accounts, sessions and the s.62 consultation log.

It is a separate database from the hub's (decision 0020): the app reads the hub's tables
through a read-only connection and can never write them, so what the app itself must write
lives here. SQLite beside the hub's data by default; any SQLAlchemy URL in production.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)

from crossforce.adapters.sql.engine import lock_schema_creation, make_engine, stored_utc
from crossforce.contracts.envelope import ACTOR_PATTERN
from crossforce.contracts.errors import ContractError, ReasonCode
from crossforce.contracts.forces import get_force

WEB_SCHEMA_LOCK = 0x43524F5353574542  # "CROSSWEB"
SESSION_LIFETIME = timedelta(hours=8)  # one shift
SESSION_IDLE = timedelta(minutes=30)
MAX_FAILURES = 5  # then no sign-in for LOCKOUT, whatever the password
LOCKOUT = timedelta(minutes=15)

metadata = MetaData()

accounts = Table(
    "web_accounts",
    metadata,
    Column("username", String(120), primary_key=True),
    Column("force", String(32), nullable=False, index=True),
    Column("role", String(32), nullable=False),
    Column("password_hash", String(200), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Failed sign-ins in a row, and when the last one was: guessing is slowed to a stop.
    Column("failures", Integer, nullable=False, default=0),
    Column("failed_at", DateTime(timezone=True)),
)

sessions = Table(
    "web_sessions",
    metadata,
    Column("session_id", String(64), primary_key=True),
    Column("username", String(120), nullable=False, index=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
)

# DPA 2018 s.62: every consultation of a case through the app, shown or refused.
consultations = Table(
    "web_consultation_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("username", String(120), nullable=False),
    Column("force", String(32), nullable=False),
    Column("case_ref", String(64), nullable=False, index=True),
    Column("justification", String(200), nullable=False),
    Column("shown", Boolean, nullable=False),
)


class Role(StrEnum):
    SUPERVISOR = "supervisor"
    SENIOR_OFFICER = "senior-officer"  # receives escalations


@dataclass(frozen=True, slots=True)
class Account:
    username: str
    force: str
    role: Role
    disabled: bool


@dataclass(frozen=True, slots=True)
class Consultation:
    at: datetime
    username: str
    force: str
    case_ref: str
    justification: str
    shown: bool


_hasher = PasswordHasher()
# Verified against when the username is unknown, so both answers take the same time.
_UNKNOWN_USER_HASH = _hasher.hash(secrets.token_urlsafe(16))
MIN_PASSWORD_LENGTH = 12
NO_PASSWORD = "!oidc-only"


class WebStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # The app's own small store: tables are created if missing, never altered.
        with engine.begin() as connection:
            lock_schema_creation(connection, WEB_SCHEMA_LOCK)
            metadata.create_all(connection, checkfirst=True)

    @classmethod
    def open(cls, url: str) -> WebStore:
        return cls(make_engine(url))

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.engine.begin() as db:
            yield db

    # accounts ----------------------------------------------------------------------------
    def add_account(
        self, username: str, force: str, role: Role, password: str | None, now: datetime
    ) -> Account:
        """`password=None`: an account that signs in only through OpenID Connect."""
        username = username.strip()
        # The account name travels as the signed `actor` of every action the account takes,
        # so it must be a short id, never free text.
        if not re.fullmatch(ACTOR_PATTERN, username):
            raise ContractError(
                ReasonCode.ACCOUNT_ERROR,
                "a username of 1 to 64 letters, digits and . _ @ -, starting with a letter "
                "or digit (it names who acted in the messages the account sends)",
            )
        if password is not None and len(password) < MIN_PASSWORD_LENGTH:
            raise ContractError(
                ReasonCode.ACCOUNT_ERROR, f"a password of at least {MIN_PASSWORD_LENGTH} characters"
            )
        code = get_force(force.upper()).code
        with self._tx() as db:
            if db.execute(
                select(accounts.c.username).where(accounts.c.username == username)
            ).first():
                raise ContractError(ReasonCode.ACCOUNT_ERROR, f"account {username} exists already")
            db.execute(
                insert(accounts).values(
                    username=username,
                    force=code,
                    role=role.value,
                    # Not a hash any password can match: verifying it always fails.
                    password_hash=_hasher.hash(password) if password else NO_PASSWORD,
                    disabled=False,
                    created_at=now,
                    failures=0,
                )
            )
        return Account(username, code, role, False)

    def disable_account(self, username: str) -> None:
        with self._tx() as db:
            done = db.execute(
                update(accounts).where(accounts.c.username == username).values(disabled=True)
            )
            if done.rowcount != 1:
                raise ContractError(ReasonCode.ACCOUNT_ERROR, f"no account {username}")
            db.execute(delete(sessions).where(sessions.c.username == username))

    def account(self, username: str) -> Account | None:
        with self.engine.connect() as db:
            row = db.execute(select(accounts).where(accounts.c.username == username)).first()
        if row is None:
            return None
        return Account(row.username, row.force, Role(row.role), bool(row.disabled))

    def authenticate(self, username: str, password: str, now: datetime) -> Account | None:
        """The account, if the password is right, the account enabled and not locked out
        after MAX_FAILURES wrong passwords in a row; else None, the same answer for all."""
        with self.engine.connect() as db:
            row = db.execute(select(accounts).where(accounts.c.username == username)).first()
        stored = row.password_hash if row is not None else _UNKNOWN_USER_HASH
        locked = (
            row is not None
            and row.failures >= MAX_FAILURES
            and row.failed_at is not None
            and now - stored_utc(row.failed_at) < LOCKOUT
        )
        try:
            _hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            if row is not None and not locked:
                failures = 1 if row.failures >= MAX_FAILURES else row.failures + 1
                self._set(username, failures=failures, failed_at=now)
            return None
        if row is None or row.disabled or locked:
            return None
        values: dict[str, object] = {"failures": 0, "failed_at": None}
        if _hasher.check_needs_rehash(stored):
            values["password_hash"] = _hasher.hash(password)
        self._set(username, **values)
        return Account(row.username, row.force, Role(row.role), False)

    def _set(self, username: str, **values: object) -> None:
        with self._tx() as db:
            db.execute(update(accounts).where(accounts.c.username == username).values(**values))

    # sessions ----------------------------------------------------------------------------
    def start_session(self, username: str, now: datetime) -> str:
        session_id = secrets.token_urlsafe(32)
        with self._tx() as db:
            db.execute(
                insert(sessions).values(
                    session_id=session_id, username=username, created_at=now, seen_at=now
                )
            )
        return session_id

    def session_account(
        self, session_id: str, now: datetime, *, touch: bool = True
    ) -> Account | None:
        """The signed-in account, or None when the session ended, expired or idled out.
        `touch=False` checks without counting as activity (a live-update stream left open
        on an unattended screen must not keep the session alive)."""
        with self._tx() as db:
            row = db.execute(
                select(sessions, accounts.c.force, accounts.c.role, accounts.c.disabled)
                .join(accounts, accounts.c.username == sessions.c.username)
                .where(sessions.c.session_id == session_id)
            ).first()
            if row is None:
                return None
            expired = (
                now - stored_utc(row.created_at) > SESSION_LIFETIME
                or now - stored_utc(row.seen_at) > SESSION_IDLE
            )
            if expired or row.disabled:
                db.execute(delete(sessions).where(sessions.c.session_id == session_id))
                return None
            if touch:
                db.execute(
                    update(sessions).where(sessions.c.session_id == session_id).values(seen_at=now)
                )
        return Account(row.username, row.force, Role(row.role), False)

    def end_session(self, session_id: str) -> None:
        with self._tx() as db:
            db.execute(delete(sessions).where(sessions.c.session_id == session_id))

    # s.62 consultation log ---------------------------------------------------------------
    def log_consultation(
        self, account: Account, case_ref: str, justification: str, shown: bool, now: datetime
    ) -> None:
        with self._tx() as db:
            db.execute(
                insert(consultations).values(
                    at=now,
                    username=account.username,
                    force=account.force,
                    case_ref=case_ref[:64],
                    justification=justification,
                    shown=shown,
                )
            )

    def consultation_log(self, case_ref: str | None = None) -> list[Consultation]:
        query = select(consultations).order_by(consultations.c.id)
        if case_ref is not None:
            query = query.where(consultations.c.case_ref == case_ref)
        with self.engine.connect() as db:
            return [
                Consultation(
                    stored_utc(r.at), r.username, r.force, r.case_ref, r.justification, r.shown
                )
                for r in db.execute(query)
            ]
