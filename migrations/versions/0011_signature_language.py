"""signature language: the language its signer used, for every email to them

signature gains language (a code from LANGUAGES, "en" for every existing signature): the
language of the form they signed, or of the confirmation page they pressed.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), server_default="en", nullable=False))


def downgrade():
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.drop_column("language")
