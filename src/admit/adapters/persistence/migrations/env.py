"""Alembic environment: runs against the engine Admit itself would use for the URL."""

from __future__ import annotations

from alembic import context

from admit.adapters.persistence.database import make_engine
from admit.adapters.persistence.tables import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "sqlalchemy.url must be set by admit.adapters.persistence.migrate"

engine = make_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
