"""verified public-sector workers (work email verification)

signature gains the fact of verification (verified_at, verified_sector_id), the keyed hash of
the work mailbox that verified it (unique: one mailbox, one signature) and a count of
verification emails (capped). outbox_message gains recipient_encrypted, the work address to
verify, which a check constraint allows only while the message is still to be sent.
count_cell gains verified, the cell's verified signatures.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified_sector_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("work_mailbox_key", sa.LargeBinary(length=32), nullable=True))
        batch_op.add_column(sa.Column("work_emails_queued", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_foreign_key(
            batch_op.f("fk_signature_verified_sector_id_sector"), "sector", ["verified_sector_id"], ["id"]
        )
        batch_op.create_unique_constraint(batch_op.f("uq_signature_work_mailbox_key"), ["work_mailbox_key"])
        batch_op.create_check_constraint("verified_has_sector", "(verified_at IS NULL) = (verified_sector_id IS NULL)")
        batch_op.create_check_constraint(
            "work_key_when_verified", "work_mailbox_key IS NULL OR verified_at IS NOT NULL"
        )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recipient_encrypted", sa.LargeBinary(), nullable=True))
        batch_op.create_check_constraint(
            "recipient_until_done",
            "recipient_encrypted IS NULL OR (kind = 'work_verification' AND sent_at IS NULL AND failed_at IS NULL)",
        )
    with op.batch_alter_table("count_cell", schema=None) as batch_op:
        batch_op.add_column(sa.Column("verified", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_check_constraint("verified_within_count", "verified >= 0 AND verified <= count")


def downgrade():
    with op.batch_alter_table("count_cell", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_count_cell_verified_within_count"), type_="check")
        batch_op.drop_column("verified")
    op.execute("DELETE FROM outbox_message WHERE kind = 'work_verification'")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_message_recipient_until_done"), type_="check")
        batch_op.drop_column("recipient_encrypted")
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_signature_work_key_when_verified"), type_="check")
        batch_op.drop_constraint(op.f("ck_signature_verified_has_sector"), type_="check")
        batch_op.drop_constraint(batch_op.f("uq_signature_work_mailbox_key"), type_="unique")
        batch_op.drop_constraint(batch_op.f("fk_signature_verified_sector_id_sector"), type_="foreignkey")
        batch_op.drop_column("work_emails_queued")
        batch_op.drop_column("work_mailbox_key")
        batch_op.drop_column("verified_at")
        batch_op.drop_column("verified_sector_id")
