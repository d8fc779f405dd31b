"""milestones reached get a table of their own

Until now each reached step was a site_setting row "milestone:<scope>:<step>" holding the ISO
time. A table says what it holds, takes a CHECK on the step and a unique (scope, step), and
keeps run-time switches apart from history. The rows move across; downgrade moves them back.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 05:35:00

"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

PREFIX = "milestone:"


def upgrade():
    milestone = op.create_table(
        "milestone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("reached_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("step > 0", name=op.f("ck_milestone_step_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_milestone")),
        sa.UniqueConstraint("scope", "step", name="uq_milestone_scope_step"),
    )
    connection = op.get_bind()
    setting = sa.table("site_setting", sa.column("key", sa.String), sa.column("value", sa.String))
    rows = connection.execute(sa.select(setting.c.key, setting.c.value).where(setting.c.key.startswith(PREFIX)))
    moved = []
    for key, value in rows:
        scope, _, step = key.removeprefix(PREFIX).rpartition(":")
        moved.append({"scope": scope, "step": int(step), "reached_at": datetime.fromisoformat(value)})
    if moved:
        op.bulk_insert(milestone, moved)
    connection.execute(setting.delete().where(setting.c.key.startswith(PREFIX)))


def downgrade():
    connection = op.get_bind()
    milestone = sa.table(
        "milestone", sa.column("scope", sa.String), sa.column("step", sa.Integer), sa.column("reached_at", sa.DateTime)
    )
    setting = sa.table(
        "site_setting", sa.column("key", sa.String), sa.column("value", sa.String), sa.column("updated_at")
    )
    rows = connection.execute(sa.select(milestone.c.scope, milestone.c.step, milestone.c.reached_at)).all()
    if rows:
        op.bulk_insert(
            setting,
            [
                {"key": f"{PREFIX}{scope}:{step}", "value": reached.isoformat(), "updated_at": reached}
                for scope, step, reached in rows
            ],
        )
    op.drop_table("milestone")
