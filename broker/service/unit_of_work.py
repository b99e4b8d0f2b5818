"""The unit of work: one database transaction around load, apply and save.

Processed ids, the case projection, the s.62 disclosure log and the outbox all commit
together, or not at all (architecture decisions 4 and 7).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Self

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crossforce.adapters.sql import schema
from crossforce.adapters.sql.engine import stored_utc
from crossforce.broker.service.outbox import OutboundMessage


class ConcurrentUpdate(Exception):
    """The case changed under us (another hub replica): retry the whole unit of work."""


class SqlUnitOfWork:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        self.outbound: list[OutboundMessage] = []

    def __enter__(self) -> Self:
        self._connection = self._engine.connect()
        self._connection.begin()
        self.outbound = []
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        assert self._connection is not None
        try:
            if exc_type is None:
                self._connection.commit()
            else:
                self._connection.rollback()
        finally:
            self._connection.close()
            self._connection = None

    @property
    def db(self) -> Connection:
        assert self._connection is not None, "use the unit of work as a context manager"
        return self._connection

    # processed ids ---------------------------------------------------------------------
    def processed_as(self, envelope_id: str) -> tuple[str, str, str] | None:
        """(sender, type, case reference) of the envelope already processed under this id."""
        table = schema.processed_envelopes
        query = select(table.c.sender, table.c.type, table.c.case_ref).where(
            table.c.envelope_id == envelope_id
        )
        row = self.db.execute(query).first()
        return None if row is None else (row.sender, row.type, row.case_ref)

    def mark_processed(
        self,
        envelope_id: str,
        case_ref: str,
        type_: str,
        sender: str,
        at: datetime,
        acted_by: str | None = None,
    ) -> None:
        self.db.execute(
            insert(schema.processed_envelopes).values(
                envelope_id=envelope_id,
                case_ref=case_ref,
                type=type_,
                sender=sender,
                processed_at=at,
                acted_by=acted_by,
            )
        )

    def already_rejected(self, inbound_key: str) -> bool:
        query = select(schema.rejections.c.inbound_key).where(
            schema.rejections.c.inbound_key == inbound_key
        )
        return self.db.execute(query).first() is not None

    def record_rejection(self, **values: Any) -> None:
        self.db.execute(insert(schema.rejections).values(**values))

    # cases -----------------------------------------------------------------------------
    def load_case_row(self, case_ref: str) -> dict[str, Any] | None:
        row = (
            self.db.execute(select(schema.cases).where(schema.cases.c.case_ref == case_ref))
            .mappings()
            .first()
        )
        return dict(row) if row else None

    def save_case_row(self, values: dict[str, Any], expected_version: int | None) -> None:
        """Insert a new case, or update it only if nobody else did since we loaded it."""
        values = dict(values)
        participants = set(values.pop("participants", ()))
        if expected_version is None:
            self.db.execute(insert(schema.cases).values(red=False, **values))
        else:
            result = self.db.execute(
                update(schema.cases)
                .where(schema.cases.c.case_ref == values["case_ref"])
                .where(schema.cases.c.version == expected_version)
                .values(**values)
            )
            if result.rowcount != 1:
                raise ConcurrentUpdate(values["case_ref"])
        existing = {
            row[0]
            for row in self.db.execute(
                select(schema.case_participants.c.force).where(
                    schema.case_participants.c.case_ref == values["case_ref"]
                )
            )
        }
        for force in sorted(participants - existing):
            self.db.execute(
                insert(schema.case_participants).values(case_ref=values["case_ref"], force=force)
            )

    def add_history(
        self,
        case_ref: str,
        at: datetime,
        actor: str,
        event: str,
        summary: str,
        acted_by: str | None = None,
    ) -> None:
        """`actor` is the force; `acted_by` the person there, when its envelope named one."""
        self.db.execute(
            insert(schema.case_history).values(
                case_ref=case_ref,
                at=at,
                actor=actor,
                event=event,
                summary=summary,
                acted_by=acted_by,
            )
        )

    # s.62 disclosure log ---------------------------------------------------------------
    def log_disclosure(self, **values: Any) -> None:
        self.db.execute(insert(schema.disclosure_log).values(**values))

    # outbox ----------------------------------------------------------------------------
    def publish_later(self, message: OutboundMessage, now: datetime) -> None:
        """Queue a publish; it becomes visible to the relay only if this transaction commits.

        The Nats-Msg-Id is the outbox's unique key: a row queued twice is kept once, in one
        statement (no read first)."""
        insert_row = _insert_for(self.db)(schema.outbox).values(
            msg_id=message.msg_id,
            subject=message.subject,
            headers=message.headers,
            payload=message.payload,
            created_at=now,
        )
        row_id = self.db.execute(
            insert_row.on_conflict_do_nothing(index_elements=["msg_id"]).returning(
                schema.outbox.c.id
            )
        ).scalar_one_or_none()
        if row_id is None:
            return
        self.outbound.append(
            OutboundMessage(
                message.msg_id, message.subject, message.payload, message.headers, row_id
            )
        )

    def outbound_message(self, msg_id: str) -> OutboundMessage | None:
        """The outbox row published (or to be published) under this Nats-Msg-Id."""
        row = (
            self.db.execute(select(schema.outbox).where(schema.outbox.c.msg_id == msg_id))
            .mappings()
            .first()
        )
        if row is None:
            return None
        return OutboundMessage(
            row["msg_id"], row["subject"], row["payload"], dict(row["headers"]), row["id"]
        )

    def unsent(self, msg_id_prefix: str | None = None, limit: int = 1000) -> list[OutboundMessage]:
        query = select(schema.outbox).where(schema.outbox.c.sent_at.is_(None))
        if msg_id_prefix is not None:
            query = query.where(schema.outbox.c.msg_id.startswith(msg_id_prefix))
        rows = self.db.execute(query.order_by(schema.outbox.c.id).limit(limit)).mappings()
        return [
            OutboundMessage(
                r["msg_id"],
                r["subject"],
                r["payload"],
                dict(r["headers"]),
                r["id"],
                stored_utc(r["created_at"]),
            )
            for r in rows
        ]

    def mark_sent(self, row_ids: list[int], at: datetime) -> None:
        if row_ids:
            self.db.execute(
                update(schema.outbox).where(schema.outbox.c.id.in_(row_ids)).values(sent_at=at)
            )


def _insert_for(connection: Connection) -> Any:
    """The dialect's INSERT, which knows ON CONFLICT (SQLite and PostgreSQL both do)."""
    if connection.dialect.name == "postgresql":
        return postgresql_insert
    return sqlite_insert
