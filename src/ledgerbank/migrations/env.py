"""Alembic environment: runs against the engine handed over in the config's attributes."""

from __future__ import annotations

from alembic import context

import ledgerbank.tables  # noqa: F401  (registers every domain's tables)
from ledgerbank.kit.db import metadata

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
