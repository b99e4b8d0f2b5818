"""Who acted (the envelope's signed `actor`), and what the escalation ladder sent

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 14:40:49.645185
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_ACTED_BY = ("case_history", "disclosure_log", "processed_envelopes")


def upgrade() -> None:
    # As the baseline does: a database made by `metadata.create_all` with no version recorded
    # may already hold these; add only what is missing.
    inspector = sa.inspect(op.get_bind())
    if "escalation_notices" not in inspector.get_table_names():
        _create_escalation_notices()
    # Nullable: rows written before, and messages that name no one, have no actor.
    for table in _ACTED_BY:
        if "acted_by" in {column["name"] for column in inspector.get_columns(table)}:
            continue
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("acted_by", sa.String(length=64), nullable=True))


def _create_escalation_notices() -> None:
    op.create_table(
        "escalation_notices",
        sa.Column("envelope_id", sa.String(length=64), nullable=False),
        sa.Column("case_ref", sa.String(length=64), nullable=False),
        sa.Column("deadline_id", sa.String(length=140), nullable=False),
        sa.Column("part_id", sa.String(length=64), nullable=False),
        sa.Column("step", sa.String(length=64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("message_type", sa.String(length=64), nullable=False),
        sa.Column("owner_force", sa.String(length=32), nullable=False),
        sa.Column("sent_to", sa.String(length=32), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("envelope_id"),
    )
    with op.batch_alter_table("escalation_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_escalation_notices_case_ref"), ["case_ref"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_escalation_notices_sent_to"), ["sent_to"], unique=False
        )


def downgrade() -> None:
    for table in reversed(_ACTED_BY):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("acted_by")
    with op.batch_alter_table("escalation_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_notices_sent_to"))
        batch_op.drop_index(batch_op.f("ix_escalation_notices_case_ref"))
    op.drop_table("escalation_notices")
