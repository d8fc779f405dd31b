"""organiser sessions held on the server; last accepted TOTP step; no per-account lockout

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 01:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "organiser_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organiser_id"],
            ["organiser.id"],
            name=op.f("fk_organiser_session_organiser_id_organiser"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organiser_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_organiser_session_token_hash")),
    )
    with op.batch_alter_table("organiser_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organiser_session_organiser_id"), ["organiser_id"], unique=False)
    with op.batch_alter_table("organiser", schema=None) as batch_op:
        batch_op.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
        # Failed sign-ins are now limited per address and per account-and-address, not by
        # locking the account (which let anyone lock its owner out).
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")
        batch_op.create_check_constraint(
            op.f("ck_organiser_totp_has_secret"), "NOT totp_enabled OR totp_secret_encrypted IS NOT NULL"
        )


def downgrade():
    with op.batch_alter_table("organiser", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_organiser_totp_has_secret"), type_="check")
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_column("totp_last_step")
    with op.batch_alter_table("organiser_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organiser_session_organiser_id"))
    op.drop_table("organiser_session")
