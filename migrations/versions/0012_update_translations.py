"""update translations: an update's subject and body in the site's other languages

campaign_update_text holds, for an update, its subject and body in one language other than the
default (whose words stay on campaign_update), at most one per language: the primary key is
(update_id, language). Signers get the version in their signature's language where there is one.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "campaign_update_text",
        sa.Column("update_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body_markdown", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["update_id"],
            ["campaign_update.id"],
            name=op.f("fk_campaign_update_text_update_id_campaign_update"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("update_id", "language", name=op.f("pk_campaign_update_text")),
    )


def downgrade():
    op.drop_table("campaign_update_text")
