"""Baseline: the ledger's tables as they were before schema versions

Revision ID: 0001
Revises: (none)
Create Date: 2026-12-02 10:44:28.862929
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
    if "ledger_access_log" not in existing:
        op.create_table(
            "ledger_access_log",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("who", sa.String(length=128), nullable=False),
            sa.Column("action", sa.String(length=32), nullable=False),
            sa.Column("justification", sa.Text(), nullable=False),
            sa.Column("entry_index", sa.BigInteger(), nullable=True),
            sa.Column("subject_key", sa.String(length=64), nullable=True),
            sa.Column("detail", sa.Text(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )
    if "ledger_checkpoints" not in existing:
        op.create_table(
            "ledger_checkpoints",
            sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
            sa.Column("tree_size", sa.BigInteger(), nullable=False),
            sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
            sa.Column("note", sa.Text(), nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("ledger_checkpoints", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_ledger_checkpoints_tree_size"), ["tree_size"], unique=False
            )
    if "ledger_data_keys" not in existing:
        op.create_table(
            "ledger_data_keys",
            sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("wrapped_key", sa.LargeBinary(), nullable=False),
            sa.PrimaryKeyConstraint("idx"),
        )
    if "ledger_disposals" not in existing:
        op.create_table(
            "ledger_disposals",
            sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("disposal_idx", sa.BigInteger(), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.Column("disposed_by", sa.String(length=128), nullable=False),
            sa.Column("disposed_at", sa.DateTime(timezone=True), nullable=False),
            sa.PrimaryKeyConstraint("idx"),
        )
    if "ledger_entries" not in existing:
        op.create_table(
            "ledger_entries",
            sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("kind", sa.String(length=16), nullable=False),
            sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
            sa.Column("chain_hash", sa.LargeBinary(length=32), nullable=False),
            sa.Column("entry", sa.LargeBinary(), nullable=False),
            sa.Column("subject_key", sa.String(length=64), nullable=True),
            sa.Column("case_ref", sa.String(length=128), nullable=True),
            sa.Column("submitted_by", sa.String(length=32), nullable=False),
            sa.Column("review_date", sa.Date(), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("idempotency_key", sa.String(length=128), nullable=False),
            sa.PrimaryKeyConstraint("idx"),
            sa.UniqueConstraint("idempotency_key"),
        )
        with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_ledger_entries_case_ref"), ["case_ref"], unique=False
            )
            batch_op.create_index(
                batch_op.f("ix_ledger_entries_review_date"), ["review_date"], unique=False
            )
            batch_op.create_index(
                batch_op.f("ix_ledger_entries_subject_key"), ["subject_key"], unique=False
            )
    if "ledger_head" not in existing:
        op.create_table(
            "ledger_head",
            sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
            sa.Column("tree_size", sa.BigInteger(), nullable=False),
            sa.Column("frontier", sa.LargeBinary(), nullable=False),
            sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
            sa.Column("chain_hash", sa.LargeBinary(length=32), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    if "ledger_meta" not in existing:
        op.create_table(
            "ledger_meta",
            sa.Column("key", sa.String(length=64), nullable=False),
            sa.Column("value", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("key"),
        )
    if "ledger_nodes" not in existing:
        op.create_table(
            "ledger_nodes",
            sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
            sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
            sa.PrimaryKeyConstraint("level", "idx"),
        )


def downgrade() -> None:
    op.drop_table("ledger_nodes")
    op.drop_table("ledger_meta")
    op.drop_table("ledger_head")
    with op.batch_alter_table("ledger_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entries_subject_key"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_review_date"))
        batch_op.drop_index(batch_op.f("ix_ledger_entries_case_ref"))

    op.drop_table("ledger_entries")
    op.drop_table("ledger_disposals")
    op.drop_table("ledger_data_keys")
    with op.batch_alter_table("ledger_checkpoints", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_checkpoints_tree_size"))

    op.drop_table("ledger_checkpoints")
    op.drop_table("ledger_access_log")
