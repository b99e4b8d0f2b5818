"""Reads of a case: the s.62 consultation log of `crossforce case`, and the queue of reads
to report to a Professional Standards Department (decision 0051)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 14:40:02.781418
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A database made before schema versions by a later `metadata.create_all` may hold them.
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "access_reports" not in existing:
        op.create_table(
            "access_reports",
            sa.Column("report_id", sa.String(length=64), nullable=False),
            sa.Column("case_ref", sa.String(length=64), nullable=False),
            sa.Column("channel", sa.String(length=16), nullable=False),
            sa.Column("reader_force", sa.String(length=32), nullable=True),
            sa.Column("reader", sa.String(length=200), nullable=False),
            sa.Column("allowed", sa.Boolean(), nullable=False),
            sa.Column("justification", sa.String(length=200), nullable=False),
            sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("ledger_entry", sa.Integer(), nullable=True),
            sa.Column("relayed_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("report_id"),
        )
        with op.batch_alter_table("access_reports", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_access_reports_relayed_at"), ["relayed_at"], unique=False
            )
    if "consultation_log" not in existing:
        op.create_table(
            "consultation_log",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("report_id", sa.String(length=64), nullable=False),
            sa.Column("case_ref", sa.String(length=64), nullable=False),
            sa.Column("channel", sa.String(length=16), nullable=False),
            sa.Column("reader_force", sa.String(length=32), nullable=True),
            sa.Column("reader", sa.String(length=200), nullable=False),
            sa.Column("justification", sa.String(length=200), nullable=False),
            sa.Column("shown", sa.Boolean(), nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("report_id"),
        )
        with op.batch_alter_table("consultation_log", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_consultation_log_case_ref"), ["case_ref"], unique=False
            )


def downgrade() -> None:
    with op.batch_alter_table("consultation_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consultation_log_case_ref"))

    op.drop_table("consultation_log")
    with op.batch_alter_table("access_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_reports_relayed_at"))

    op.drop_table("access_reports")
