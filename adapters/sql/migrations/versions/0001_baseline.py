"""Baseline: the broker's tables as they were before schema versions

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-02 10:44:28.845289
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Databases made before schema versions already hold some or all of these tables:
    # create only what is missing, as `metadata.create_all` did, and keep every row.
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "case_history" not in existing:
        op.create_table(
            "case_history",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("case_ref", sa.String(length=64), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("actor", sa.String(length=32), nullable=False),
            sa.Column("event", sa.String(length=80), nullable=False),
            sa.Column("summary", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("case_history", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_case_history_case_ref"), ["case_ref"], unique=False
            )
    if "case_participants" not in existing:
        op.create_table(
            "case_participants",
            sa.Column("case_ref", sa.String(length=64), nullable=False),
            sa.Column("force", sa.String(length=32), nullable=False),
            sa.PrimaryKeyConstraint("case_ref", "force"),
        )
        with op.batch_alter_table("case_participants", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_case_participants_force"), ["force"], unique=False)
    if "cases" not in existing:
        op.create_table(
            "cases",
            sa.Column("case_ref", sa.String(length=64), nullable=False),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.Column("receiving_force", sa.String(length=32), nullable=False),
            sa.Column("coordinating_force", sa.String(length=32), nullable=False),
            sa.Column("status", sa.String(length=32), nullable=False),
            sa.Column("red", sa.Boolean(), nullable=False),
            sa.Column("state", sa.JSON(), nullable=False),
            sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("case_ref"),
        )
        with op.batch_alter_table("cases", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_cases_coordinating_force"), ["coordinating_force"], unique=False
            )
    if "deadlines" not in existing:
        op.create_table(
            "deadlines",
            sa.Column("deadline_id", sa.String(length=140), nullable=False),
            sa.Column("case_ref", sa.String(length=64), nullable=False),
            sa.Column("part_id", sa.String(length=64), nullable=False),
            sa.Column("step", sa.String(length=64), nullable=False),
            sa.Column("owner_force", sa.String(length=32), nullable=False),
            sa.Column("coordinating_force", sa.String(length=32), nullable=False),
            sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("immediate_risk", sa.Boolean(), nullable=False),
            sa.Column("in_clock_hours", sa.Boolean(), nullable=False),
            sa.Column("next_fire_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("fired_levels", sa.JSON(), nullable=False),
            sa.Column("status", sa.String(length=16), nullable=False),
            sa.Column("red", sa.Boolean(), nullable=False),
            sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
            sa.Column("version", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("deadline_id"),
        )
        with op.batch_alter_table("deadlines", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_deadlines_case_ref"), ["case_ref"], unique=False)
            batch_op.create_index(
                batch_op.f("ix_deadlines_next_fire_at"), ["next_fire_at"], unique=False
            )
            batch_op.create_index("ix_deadlines_open_due", ["status", "next_fire_at"], unique=False)
            batch_op.create_index(
                batch_op.f("ix_deadlines_owner_force"), ["owner_force"], unique=False
            )
            batch_op.create_index(batch_op.f("ix_deadlines_status"), ["status"], unique=False)
    if "disclosure_log" not in existing:
        op.create_table(
            "disclosure_log",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("envelope_id", sa.String(length=64), nullable=False),
            sa.Column("case_ref", sa.String(length=64), nullable=False),
            sa.Column("message_type", sa.String(length=120), nullable=False),
            sa.Column("disclosed_by", sa.String(length=32), nullable=False),
            sa.Column("disclosed_to", sa.String(length=32), nullable=False),
            sa.Column("disclosed_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("purpose", sa.String(length=200), nullable=False),
            sa.Column("lawful_basis", sa.String(length=200), nullable=False),
            sa.Column("marking", sa.String(length=40), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("envelope_id", "disclosed_to", name="uq_disclosure_once"),
        )
        with op.batch_alter_table("disclosure_log", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_disclosure_log_case_ref"), ["case_ref"], unique=False
            )
            batch_op.create_index(
                batch_op.f("ix_disclosure_log_disclosed_to"), ["disclosed_to"], unique=False
            )
            batch_op.create_index(
                batch_op.f("ix_disclosure_log_envelope_id"), ["envelope_id"], unique=False
            )
    if "outbox" not in existing:
        op.create_table(
            "outbox",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("msg_id", sa.String(length=160), nullable=False),
            sa.Column("subject", sa.String(length=200), nullable=False),
            sa.Column("headers", sa.JSON(), nullable=False),
            sa.Column("payload", sa.LargeBinary(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("msg_id"),
        )
        with op.batch_alter_table("outbox", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_outbox_sent_at"), ["sent_at"], unique=False)
    if "processed_envelopes" not in existing:
        op.create_table(
            "processed_envelopes",
            sa.Column("envelope_id", sa.String(length=64), nullable=False),
            sa.Column("case_ref", sa.String(length=64), nullable=False),
            sa.Column("type", sa.String(length=120), nullable=False),
            sa.Column("sender", sa.String(length=32), nullable=False),
            sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("envelope_id"),
        )
        with op.batch_alter_table("processed_envelopes", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_processed_envelopes_case_ref"), ["case_ref"], unique=False
            )
    if "rejections" not in existing:
        op.create_table(
            "rejections",
            sa.Column("inbound_key", sa.String(length=80), nullable=False),
            sa.Column("arrival_force", sa.String(length=32), nullable=False),
            sa.Column("envelope_id", sa.String(length=64), nullable=True),
            sa.Column("reason_code", sa.String(length=40), nullable=False),
            sa.Column("detail", sa.Text(), nullable=False),
            sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("inbound_key"),
        )
    if "subject_markers" not in existing:
        op.create_table(
            "subject_markers",
            sa.Column("subject_key", sa.String(length=128), nullable=False),
            sa.Column("marker", sa.String(length=40), nullable=False),
            sa.Column("case_ref", sa.String(length=64), nullable=False),
            sa.Column("marked_by", sa.String(length=32), nullable=False),
            sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("subject_key", "marker"),
        )


def downgrade() -> None:
    op.drop_table("subject_markers")
    op.drop_table("rejections")
    with op.batch_alter_table("processed_envelopes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_processed_envelopes_case_ref"))

    op.drop_table("processed_envelopes")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_sent_at"))

    op.drop_table("outbox")
    with op.batch_alter_table("disclosure_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_log_envelope_id"))
        batch_op.drop_index(batch_op.f("ix_disclosure_log_disclosed_to"))
        batch_op.drop_index(batch_op.f("ix_disclosure_log_case_ref"))

    op.drop_table("disclosure_log")
    with op.batch_alter_table("deadlines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deadlines_status"))
        batch_op.drop_index(batch_op.f("ix_deadlines_owner_force"))
        batch_op.drop_index("ix_deadlines_open_due")
        batch_op.drop_index(batch_op.f("ix_deadlines_next_fire_at"))
        batch_op.drop_index(batch_op.f("ix_deadlines_case_ref"))

    op.drop_table("deadlines")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_coordinating_force"))

    op.drop_table("cases")
    with op.batch_alter_table("case_participants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_participants_force"))

    op.drop_table("case_participants")
    with op.batch_alter_table("case_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_history_case_ref"))

    op.drop_table("case_history")
