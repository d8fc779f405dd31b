"""count shards: each (sector, organisation) count spread over COUNT_SHARDS rows

A surge of confirmations in one sector all updated one count_cell row (and one area_count_cell
row per place), queueing on its lock. count_cell gains a shard (0 to COUNT_SHARDS - 1) and its
unique key includes it; a signature records the shard it is counted in (signature.count_shard),
so a withdrawal takes it out of the same one. Existing counts stay in shard 0, where every
signature confirmed so far is recorded (count_shard defaults to 0): nothing is moved. The other
shards start at zero for every existing pair.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 10:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COUNT_SHARDS = 8  # as app/services/counts.py had it when this ran


def upgrade():
    with op.batch_alter_table("signature") as batch_op:
        batch_op.add_column(sa.Column("count_shard", sa.SmallInteger(), server_default="0", nullable=False))
    with op.batch_alter_table("count_cell") as batch_op:
        batch_op.add_column(sa.Column("shard", sa.SmallInteger(), server_default="0", nullable=False))
        batch_op.drop_constraint("uq_count_cell_sector_organisation", type_="unique")
        batch_op.create_unique_constraint(
            "uq_count_cell_sector_organisation_shard", ["sector_id", "organisation_id", "shard"]
        )
    op.execute(
        sa.text(
            "INSERT INTO count_cell (sector_id, organisation_id, shard, count, verified, updated_at)"
            " SELECT cell.sector_id, cell.organisation_id, shards.n, 0, 0, cell.updated_at"
            " FROM count_cell AS cell CROSS JOIN ("
            + " UNION ALL ".join(f"SELECT {n} AS n" for n in range(1, COUNT_SHARDS))
            + ") AS shards"
            " WHERE cell.shard = 0"
        )
    )


def downgrade():
    # Fold every shard, its places included, back into one cell per pair, then drop the columns.
    bind = op.get_bind()
    cells = bind.execute(
        sa.text("SELECT id, sector_id, organisation_id, shard, count, verified FROM count_cell ORDER BY shard, id")
    ).all()
    home: dict[tuple, int] = {}
    for cell in cells:
        pair = (cell.sector_id, cell.organisation_id)
        if pair not in home:
            home[pair] = cell.id
            bind.execute(sa.text("UPDATE count_cell SET shard = 0 WHERE id = :id"), {"id": cell.id})
            continue
        into = home[pair]
        bind.execute(
            sa.text("UPDATE count_cell SET count = count + :n, verified = verified + :v WHERE id = :id"),
            {"n": cell.count, "v": cell.verified, "id": into},
        )
        places = bind.execute(
            sa.text("SELECT area_code, region, count FROM area_count_cell WHERE count_cell_id = :id"), {"id": cell.id}
        ).all()
        for place in places:
            moved = bind.execute(
                sa.text(
                    "UPDATE area_count_cell SET count = count + :n"
                    " WHERE count_cell_id = :id AND area_code = :area AND region = :region"
                ),
                {"n": place.count, "id": into, "area": place.area_code, "region": place.region},
            ).rowcount
            if not moved:
                bind.execute(
                    sa.text(
                        "UPDATE area_count_cell SET count_cell_id = :into"
                        " WHERE count_cell_id = :id AND area_code = :area AND region = :region"
                    ),
                    {"into": into, "id": cell.id, "area": place.area_code, "region": place.region},
                )
        bind.execute(sa.text("DELETE FROM area_count_cell WHERE count_cell_id = :id"), {"id": cell.id})
        bind.execute(sa.text("DELETE FROM count_cell WHERE id = :id"), {"id": cell.id})
    with op.batch_alter_table("count_cell") as batch_op:
        batch_op.drop_constraint("uq_count_cell_sector_organisation_shard", type_="unique")
        batch_op.create_unique_constraint("uq_count_cell_sector_organisation", ["sector_id", "organisation_id"])
        batch_op.drop_column("shard")
    with op.batch_alter_table("signature") as batch_op:
        batch_op.drop_column("count_shard")
