"""The migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db


def test_models_and_migrations_agree(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_dedup_key_is_unique_in_the_schema(app):
    from sqlalchemy import inspect

    inspector = inspect(db.engine)
    uniques = inspector.get_unique_constraints("signature")
    indexes = [i for i in inspector.get_indexes("signature") if i["unique"]]
    columns = [c["column_names"] for c in uniques] + [i["column_names"] for i in indexes]
    assert ["email_key"] in columns
