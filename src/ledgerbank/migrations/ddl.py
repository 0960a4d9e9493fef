"""Dialect-aware DDL the migrations share: append-only triggers and views."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import op


def _dialect() -> str:
    return op.get_bind().dialect.name


def refuse_changes(table: str, operations: tuple[str, ...] = ("UPDATE", "DELETE")) -> None:
    """Install triggers that refuse the given operations on every row of `table`."""
    dialect = _dialect()
    if dialect == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION ledgerbank_refuse_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '% on % is refused: the table is append-only', TG_OP, TG_TABLE_NAME
                    USING ERRCODE = 'integrity_constraint_violation';
            END
            $$ LANGUAGE plpgsql
            """
        )
        ops = " OR ".join(operations)
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE {ops} ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION ledgerbank_refuse_change()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ledgerbank_refuse_change()"
        )
        return
    for operation in operations:
        name = f"{table}_no_{operation.lower()}"
        message = f"{operation} on {table} is refused: the table is append-only"
        if dialect == "sqlite":
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {operation} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {operation} ON {table} FOR EACH ROW "
                f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{message}'"
            )


def allow_changes(table: str, operations: tuple[str, ...] = ("UPDATE", "DELETE")) -> None:
    dialect = _dialect()
    if dialect == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        return
    for operation in operations:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{operation.lower()}")


def create_view(name: str, select_sql: str) -> None:
    if _dialect() == "sqlite":
        op.execute(f"DROP VIEW IF EXISTS {name}")
        op.execute(f"CREATE VIEW {name} AS {select_sql}")
    else:
        op.execute(f"CREATE OR REPLACE VIEW {name} AS {select_sql}")


@contextmanager
def views_left_alone() -> Iterator[None]:
    """On SQLite, a batch rebuild of a table that views read (copy, drop, rename back) without
    SQLite checking every view against the half-built schema at the rename."""
    sqlite = _dialect() == "sqlite"
    if sqlite:
        op.execute("PRAGMA legacy_alter_table=ON")
    try:
        yield
    finally:
        if sqlite:
            op.execute("PRAGMA legacy_alter_table=OFF")


def drop_view(name: str) -> None:
    op.execute(f"DROP VIEW IF EXISTS {name}")


def replace_check(table: str, name: str, old: str, new: str) -> None:
    """Replace the condition of the CHECK constraint `name` on `table` (`old` as the table was
    created with it). PostgreSQL and MySQL drop and re-add it; SQLite, which cannot alter a
    constraint, has its stored table definition edited in place, the way SQLite documents for
    changes that leave the stored rows as they are (a widened list of allowed values)."""
    dialect = _dialect()
    if dialect != "sqlite":
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({new})")
        return
    conn = op.get_bind()
    before = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
    ).scalar_one()
    clause = f"CONSTRAINT {name} CHECK ({old})"
    if before.count(clause) != 1:
        raise RuntimeError(f"{table}: the constraint {name} is not `CHECK ({old})`")
    version = conn.exec_driver_sql("PRAGMA schema_version").scalar_one()
    conn.exec_driver_sql("PRAGMA writable_schema = ON")
    conn.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?",
        (before.replace(clause, f"CONSTRAINT {name} CHECK ({new})"), table),
    )
    conn.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    conn.exec_driver_sql("PRAGMA writable_schema = OFF")
