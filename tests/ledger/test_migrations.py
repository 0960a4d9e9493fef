"""Migrations run both ways: an operator can step a database back to any revision and forward
again (on an empty database; data written by a newer release may not fit an older schema)."""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from ledgerbank.kit.db import Database
from ledgerbank.migrations import alembic_config, is_current


def test_every_migration_downgrades_to_base_and_upgrades_again(database: Database) -> None:
    config = alembic_config(database.engine)
    revisions = [s.revision for s in ScriptDirectory.from_config(config).walk_revisions()]
    tables_at_head = set(inspect(database.engine).get_table_names())
    try:
        for revision in revisions[1:]:  # newest first: each step back is one downgrade
            command.downgrade(config, revision)
        command.downgrade(config, "base")
        assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    finally:  # MySQL's test database is shared by the tests that follow
        command.upgrade(config, "head")
    assert is_current(database.engine)
    assert set(inspect(database.engine).get_table_names()) == tables_at_head
