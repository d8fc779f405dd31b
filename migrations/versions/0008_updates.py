"""updates to signers, and a priority in the mail queue

campaign_update holds an update written by campaign staff and its audience's filters (never its
members). outbox_message gains the update it belongs to, with one row per recipient guaranteed
by a unique constraint, and a priority so that confirmations are always claimed before a
mailing. The old index on (sent_at, failed_at, next_attempt_at) grew with every message ever
sent; the claim index is partial: it holds only what is still to send, in claim order.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

STILL_TO_SEND = "sent_at IS NULL AND failed_at IS NULL"


def upgrade():
    op.create_table(
        "campaign_update",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body_markdown", sa.Text(), nullable=False),
        sa.Column("sector_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("draft", "sending", "paused", "cancelled", name="update_status", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("unsubscribed", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "(status = 'draft') = (queued_at IS NULL)", name=op.f("ck_campaign_update_queued_unless_draft")
        ),
        sa.CheckConstraint(
            "recipients >= 0 AND unsubscribed >= 0", name=op.f("ck_campaign_update_counts_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["organiser.id"],
            name=op.f("fk_campaign_update_created_by_id_organiser"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_campaign_update_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(["sector_id"], ["sector.id"], name=op.f("fk_campaign_update_sector_id_sector")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_update")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("update_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("priority", sa.SmallInteger(), server_default="0", nullable=False))
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_message_update_id_campaign_update"),
            "campaign_update",
            ["update_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint(
            "update_has_update", "(update_id IS NOT NULL) = (kind IN ('update', 'update_test'))"
        )
        batch_op.create_unique_constraint("uq_outbox_message_update_signature", ["update_id", "signature_id"])
        batch_op.drop_index("ix_outbox_message_due")
    op.create_index(
        "ix_outbox_message_claim",
        "outbox_message",
        ["priority", "next_attempt_at", "id"],
        postgresql_where=sa.text(STILL_TO_SEND),
        sqlite_where=sa.text(STILL_TO_SEND),
    )


def downgrade():
    op.drop_index("ix_outbox_message_claim", table_name="outbox_message")
    op.execute("DELETE FROM outbox_message WHERE update_id IS NOT NULL")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_message_due", ["sent_at", "failed_at", "next_attempt_at"], unique=False)
        batch_op.drop_constraint("uq_outbox_message_update_signature", type_="unique")
        batch_op.drop_constraint(op.f("ck_outbox_message_update_has_update"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_outbox_message_update_id_campaign_update"), type_="foreignkey")
        batch_op.drop_column("priority")
        batch_op.drop_column("update_id")
    op.drop_table("campaign_update")
