"""confirmed signatures by postcode area and region, kept as counters

A cell per (count cell, postcode area, region), built here from the confirmed signatures and
kept in step by the transactions that keep count_cell. The area and region are worked out in
Python with app.services.geography, not in SQL: the region depends on cross-border district
overrides (CH5 is in Wales, CH1 in the North West) that live in app/content/postcode_areas.yaml,
and a copy of them in SQL would drift from the one the app uses. Signatures anonymised before
this revision have lost their postcode, so they count as "not given"; later anonymisation leaves
the cells as they are, as it does count_cell.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 02:30:00

"""

from collections import Counter
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from app.services import geography

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    area_count_cell = op.create_table(
        "area_count_cell",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("count_cell_id", sa.Integer(), nullable=False),
        sa.Column("area_code", sa.String(length=2), nullable=False),
        sa.Column("region", sa.String(length=40), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("count >= 0", name=op.f("ck_area_count_cell_count_not_negative")),
        sa.CheckConstraint(
            "(area_code = '') = (region = 'not-given')", name=op.f("ck_area_count_cell_not_given_has_no_area")
        ),
        sa.ForeignKeyConstraint(
            ["count_cell_id"], ["count_cell.id"], name=op.f("fk_area_count_cell_count_cell_id_count_cell")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_area_count_cell")),
        sa.UniqueConstraint("count_cell_id", "area_code", "region", name="uq_area_count_cell_place"),
    )
    _build_cells(area_count_cell)


def _build_cells(area_count_cell: sa.Table) -> None:
    """One cell per place that confirmed signatures of each count cell come from."""
    connection = op.get_bind()
    count_cell = sa.table(
        "count_cell",
        sa.column("id", sa.Integer),
        sa.column("sector_id", sa.Integer),
        sa.column("organisation_id", sa.Integer),
        sa.column("count", sa.Integer),
        sa.column("updated_at", sa.DateTime(timezone=True)),
    )
    signature = sa.table(
        "signature",
        sa.column("sector_id", sa.Integer),
        sa.column("organisation_id", sa.Integer),
        sa.column("postcode_outward", sa.String),
        sa.column("status", sa.String),
    )
    cells = {
        (row.sector_id, row.organisation_id): row.id
        for row in connection.execute(sa.select(count_cell.c.id, count_cell.c.sector_id, count_cell.c.organisation_id))
    }
    by_place: Counter = Counter()
    rows = connection.execute(
        sa.select(signature.c.sector_id, signature.c.organisation_id, signature.c.postcode_outward, sa.func.count())
        .where(signature.c.status == "confirmed")
        .group_by(signature.c.sector_id, signature.c.organisation_id, signature.c.postcode_outward)
    )
    for sector_id, organisation_id, outward, how_many in rows:
        place = (geography.area_code(outward) or "", geography.region_of(outward))
        by_place[(sector_id, organisation_id, *place)] += how_many
    now = datetime.now(UTC)
    for (sector_id, organisation_id, area_code, region), how_many in by_place.items():
        cell_id = cells.get((sector_id, organisation_id))
        if cell_id is None:  # a count cell is made on first confirmation, so this is not expected
            cell_id = connection.execute(
                sa.insert(count_cell)
                .values(sector_id=sector_id, organisation_id=organisation_id, count=0, updated_at=now)
                .returning(count_cell.c.id)
            ).scalar_one()
            cells[(sector_id, organisation_id)] = cell_id
        connection.execute(
            sa.insert(area_count_cell).values(
                count_cell_id=cell_id, area_code=area_code, region=region, count=how_many, updated_at=now
            )
        )


def downgrade():
    op.drop_table("area_count_cell")
