"""Tables for the case projection, processed ids, the outbox and the s.62 disclosure log."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

cases = Table(
    "cases",
    metadata,
    Column("case_ref", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("receiving_force", String(32), nullable=False),
    Column("coordinating_force", String(32), nullable=False, index=True),
    Column("status", String(32), nullable=False),
    Column("red", Boolean, nullable=False, default=False),
    Column("state", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Forces that hold a part of a case, for "my cases" queries without scanning JSON.
case_participants = Table(
    "case_participants",
    metadata,
    Column("case_ref", String(64), primary_key=True),
    Column("force", String(32), primary_key=True, index=True),
)

# Envelope ids whose effects are committed: written in the same transaction as the effects.
processed_envelopes = Table(
    "processed_envelopes",
    metadata,
    Column("envelope_id", String(64), primary_key=True),
    Column("case_ref", String(64), nullable=False, index=True),
    Column("type", String(120), nullable=False),
    Column("sender", String(32), nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False),
    # The person who acted at the sending force (the envelope's signed `actor`), if named.
    Column("acted_by", String(64)),
)

# Rejections are keyed by the inbound stream sequence, never by the envelope id, so a forged
# copy of an id cannot block the genuine message.
rejections = Table(
    "rejections",
    metadata,
    Column("inbound_key", String(80), primary_key=True),
    Column("arrival_force", String(32), nullable=False),
    Column("envelope_id", String(64)),
    Column("reason_code", String(40), nullable=False),
    Column("detail", Text, nullable=False),
    Column("rejected_at", DateTime(timezone=True), nullable=False),
)

# Transactional outbox: what must be published once the transaction commits. The key is the
# Nats-Msg-Id, so republishing after a crash is deduplicated by JetStream.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("msg_id", String(160), nullable=False, unique=True),
    Column("subject", String(200), nullable=False),
    Column("headers", JSON, nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True), index=True),
)

# DPA 2018 s.62: every delivery is a disclosure and is logged with its justification.
disclosure_log = Table(
    "disclosure_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("envelope_id", String(64), nullable=False, index=True),
    Column("case_ref", String(64), nullable=False, index=True),
    Column("message_type", String(120), nullable=False),
    Column("disclosed_by", String(32), nullable=False),
    Column("disclosed_to", String(32), nullable=False, index=True),
    Column("disclosed_at", DateTime(timezone=True), nullable=False),
    Column("purpose", String(200), nullable=False),
    Column("lawful_basis", String(200), nullable=False),
    Column("marking", String(40), nullable=False),
    # s.62: who did it, where the sender named the person (the envelope's signed `actor`).
    Column("acted_by", String(64)),
    UniqueConstraint("envelope_id", "disclosed_to", name="uq_disclosure_once"),
)

# Malicious-application markers, keyed by a privacy-preserving subject key (domain.md §4.5).
subject_markers = Table(
    "subject_markers",
    metadata,
    Column("subject_key", String(128), primary_key=True),
    Column("marker", String(40), primary_key=True),
    Column("case_ref", String(64), nullable=False),
    Column("marked_by", String(32), nullable=False),
    Column("marked_at", DateTime(timezone=True), nullable=False),
)

case_history = Table(
    "case_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_ref", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(32), nullable=False),
    Column("event", String(80), nullable=False),
    Column("summary", Text, nullable=False),
    # The person at the `actor` force, where its envelope named one.
    Column("acted_by", String(64)),
)

# Open deadlines: the source of truth for timers (architecture decision 8). A JetStream
# scheduled message is armed for `next_fire_at`; the reconciliation sweep is the backstop.
deadlines = Table(
    "deadlines",
    metadata,
    Column("deadline_id", String(140), primary_key=True),
    Column("case_ref", String(64), nullable=False, index=True),
    Column("part_id", String(64), nullable=False),
    Column("step", String(64), nullable=False),
    Column("owner_force", String(32), nullable=False, index=True),
    Column("coordinating_force", String(32), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("immediate_risk", Boolean, nullable=False, default=False),
    Column("in_clock_hours", Boolean, nullable=False, default=False),
    Column("next_fire_at", DateTime(timezone=True), index=True),
    Column("fired_levels", JSON, nullable=False),
    Column("status", String(16), nullable=False, index=True),
    # A rung that marks the part red has fired; cases.red is "any open deadline is red".
    Column("red", Boolean, nullable=False, default=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("version", Integer, nullable=False, default=1),
)
# The sweep asks for open deadlines due by now, oldest first: one index answers it in order.
Index("ix_deadlines_open_due", deadlines.c.status, deadlines.c.next_fire_at)

# What the escalation ladder sent: one row per notice and recipient force (each recipient's
# envelope has its own id), so a force can acknowledge exactly the notice it received and the
# hub can check that it was the one the notice went to (escalation-acknowledged).
escalation_notices = Table(
    "escalation_notices",
    metadata,
    Column("envelope_id", String(64), primary_key=True),
    Column("case_ref", String(64), nullable=False, index=True),
    Column("deadline_id", String(140), nullable=False),
    Column("part_id", String(64), nullable=False),
    Column("step", String(64), nullable=False),
    Column("level", Integer, nullable=False),
    Column("message_type", String(64), nullable=False),  # e.g. escalation-raised
    Column("owner_force", String(32), nullable=False),
    Column("sent_to", String(32), nullable=False, index=True),
    Column("sent_at", DateTime(timezone=True), nullable=False),
)

# DPA 2018 s.62: every read of a case through `crossforce case`, shown or refused. The web
# app logs its own in its store (decision 0020), the ledger in its access log.
consultation_log = Table(
    "consultation_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report_id", String(64), nullable=False, unique=True),
    Column("case_ref", String(64), nullable=False, index=True),
    Column("channel", String(16), nullable=False),
    Column("reader_force", String(32)),  # NULL: the operator, reading as no force
    Column("reader", String(200), nullable=False),
    Column("justification", String(200), nullable=False),
    Column("shown", Boolean, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

# Reads of a case with a police employee among its parties, waiting for the hub to sign a
# case-access-reported to each employing force's PSD (decision 0051). Any read path queues
# here; the web app may only INSERT (decision 0020). Keyed by the read path's own id, with no
# sequence, so the insert needs no other privilege; `relayed_at` is set by the hub in the
# transaction that puts the signed reports in its outbox.
access_reports = Table(
    "access_reports",
    metadata,
    Column("report_id", String(64), primary_key=True),
    Column("case_ref", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("reader_force", String(32)),
    Column("reader", String(200), nullable=False),
    Column("allowed", Boolean, nullable=False),
    Column("justification", String(200), nullable=False),
    Column("read_at", DateTime(timezone=True), nullable=False),
    Column("ledger_entry", Integer),
    Column("relayed_at", DateTime(timezone=True), index=True),
)
