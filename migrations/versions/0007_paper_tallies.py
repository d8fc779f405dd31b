"""paper tallies and paper-form imports

paper_tally holds a number of people who signed a paper sheet at an event, with no personal
data: counted apart from the confirmed online signatures, withdrawn (never deleted) by an admin.
paper_import records one upload of typed-up paper forms: who, for which event, how many rows and
how far the import has got (its progress bar), never a name or an email; the rows go through the
normal signing service and wait for their owners to confirm like any web sign-up.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 09:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "paper_tally",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_name", sa.String(length=80), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=False),
        sa.Column("sector_id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_reason", sa.String(length=200), nullable=True),
        sa.CheckConstraint("count >= 1 AND count <= 100000", name=op.f("ck_paper_tally_count_in_range")),
        sa.CheckConstraint(
            "(withdrawn_at IS NULL) = (withdrawn_reason IS NULL)", name=op.f("ck_paper_tally_withdrawn_has_reason")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_paper_tally_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["organiser.id"],
            name=op.f("fk_paper_tally_recorded_by_id_organiser"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["sector_id"], ["sector.id"], name=op.f("fk_paper_tally_sector_id_sector")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_tally")),
    )
    op.create_table(
        "paper_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_name", sa.String(length=80), nullable=False),
        sa.Column("organiser_id", sa.Integer(), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("total_rows", sa.Integer(), nullable=False),
        sa.Column("processed_rows", sa.Integer(), nullable=False),
        sa.Column("queued_count", sa.Integer(), nullable=False),
        sa.Column("duplicate_count", sa.Integer(), nullable=False),
        sa.Column("rejected_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "processed_rows >= 0 AND processed_rows <= total_rows", name=op.f("ck_paper_import_progress_in_range")
        ),
        sa.CheckConstraint(
            "queued_count + duplicate_count + rejected_count = processed_rows",
            name=op.f("ck_paper_import_outcomes_add_up"),
        ),
        sa.CheckConstraint(
            "(finished_at IS NULL) = (processed_rows < total_rows)", name=op.f("ck_paper_import_finished_when_done")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"], ["organisation.id"], name=op.f("fk_paper_import_organisation_id_organisation")
        ),
        sa.ForeignKeyConstraint(
            ["organiser_id"], ["organiser.id"], name=op.f("fk_paper_import_organiser_id_organiser"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_import")),
    )


def downgrade():
    op.drop_table("paper_import")
    op.drop_table("paper_tally")
