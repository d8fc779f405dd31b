"""consents are given on the confirmation page only

Before this, the sign form could set both consents for a mailbox its sender did not hold, and
the manage page could turn on sharing with the union "other". Clear what unconfirmed
signatures carry, clear sharing with "other", and make the first rule part of the schema.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 02:10:00

"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "UPDATE signature SET consent_updates = false, consent_share_union = false "
        "WHERE status NOT IN ('confirmed', 'invalid')"
    )
    op.execute(
        "UPDATE signature SET consent_share_union = false "
        "WHERE organisation_id IN (SELECT id FROM organisation WHERE slug = 'other')"
    )
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.create_check_constraint(
            "consent_on_confirmation",
            "status IN ('confirmed', 'invalid') OR NOT (consent_updates OR consent_share_union)",
        )


def downgrade():
    with op.batch_alter_table("signature", schema=None) as batch_op:
        batch_op.drop_constraint("ck_signature_consent_on_confirmation", type_="check")
