"""The migrations build exactly the schema the code describes (tables.py), on both databases:
autogenerate finds nothing to add, drop or change after ``migrate.upgrade``."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Engine

from admit.adapters.persistence.tables import metadata


def test_migrated_database_matches_the_tables(engine: Engine) -> None:
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []
