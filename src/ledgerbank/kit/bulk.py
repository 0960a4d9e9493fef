"""Writing many rows in few round trips and little Python, the way each database does it best.

A group of postings writes dozens of rows to each table. On PostgreSQL every multi-row write is
one statement over arrays (`INSERT ... SELECT * FROM unnest(...)`, `UPDATE ... FROM unnest(...)`):
psycopg sends a Python list as one binary array, so a row costs almost no Python, where
SQLAlchemy's multi-row VALUES rewrites the statement text per row and an executemany sends one
statement per row. SQLite and PyMySQL are fastest with a plain executemany (SQLite loops in C,
PyMySQL folds the rows into one multi-row INSERT); an update of many rows is one `CASE`
statement on MySQL/MariaDB (PyMySQL would send an UPDATE per row) and an executemany on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Insert,
    Table,
    Update,
    and_,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import mysql, postgresql, sqlite


def insert_rows(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows (ids unneeded) in as few round trips as the driver allows."""
    if not rows:
        return
    if len(rows) == 1:
        conn.execute(_insert(table), rows[0])
    elif conn.dialect.name == "postgresql":
        names = tuple(rows[0])
        conn.execute(_unnest_insert(table, names), _arrays(conn, table, names, rows))
    else:
        conn.execute(_insert(table), list(rows))


@lru_cache(maxsize=32)
def insert_ignoring_duplicates(dialect: str, table: Table) -> Any:
    """An INSERT that leaves a row with the same primary key alone (its result's rowcount is 0
    then, 1 when the row went in)."""
    keys = [column.name for column in table.primary_key]
    statement: Any
    if dialect == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing(index_elements=keys)
    elif dialect == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=keys)
    else:
        statement = mysql.insert(table).prefix_with("IGNORE")
    return statement.execution_options(preserve_rowcount=True)


def insert_returning_ids(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]]
) -> list[int]:
    """Insert rows and return their new ids, in the rows' order.

    On SQLite the transaction holds the only write lock (BEGIN IMMEDIATE) and ids come from the
    largest one (rows of these tables are never deleted), so they are given explicitly and the
    rows go in with one executemany. One row, on any database, is one INSERT whose new id the
    driver reports.
    """
    if not rows:
        return []
    if len(rows) == 1:
        return [int(conn.execute(_insert(table), rows[0]).inserted_primary_key[0])]  # type: ignore[index]
    if conn.dialect.name == "sqlite":
        first = int(conn.execute(_largest_id(table)).scalar_one()) + 1
        ids = list(range(first, first + len(rows)))
        conn.execute(_insert(table), [{"id": i, **row} for i, row in zip(ids, rows, strict=True)])
        return ids
    if conn.dialect.name == "postgresql":  # ids drawn from the sequence, then one INSERT
        ids = [int(i) for i in conn.execute(_next_ids(table), {"n": len(rows)}).scalars()]
        insert_rows(conn, table, [{"id": i, **row} for i, row in zip(ids, rows, strict=True)])
        return ids
    result = conn.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), list(rows)
    )
    return [int(i) for i in result.scalars()]


@lru_cache(maxsize=64)
def _insert(table: Table) -> Insert:
    return insert(table)


@lru_cache(maxsize=16)
def _largest_id(table: Table) -> Any:
    return select(func.coalesce(func.max(table.c.id), 0))


@lru_cache(maxsize=16)
def _next_ids(table: Table) -> Any:
    return text(
        f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) FROM generate_series(1, :n)"
    )


@lru_cache(maxsize=64)
def _unnest_insert(table: Table, names: tuple[str, ...]) -> Any:
    """INSERT INTO t (c, ...) SELECT * FROM unnest(CAST(:c AS type[]), ...)."""
    arrays = ", ".join(f"CAST(:{name} AS {_sql_type(table.c[name])}[])" for name in names)
    listed = ", ".join(f'"{name}"' for name in names)
    return text(f'INSERT INTO "{table.name}" ({listed}) SELECT * FROM unnest({arrays})')


def update_rows(
    conn: Connection, table: Table, keys: str | tuple[str, ...], rows: Sequence[dict[str, Any]]
) -> None:
    """Set columns of many rows found by their key column(s) (each row: the key values and the
    new values; every row names the same columns)."""
    if not rows:
        return
    keys = (keys,) if isinstance(keys, str) else keys
    columns = tuple(name for name in rows[0] if name not in keys)
    dialect = conn.dialect.name
    if dialect == "postgresql" and len(rows) > 1:
        conn.execute(
            _unnest_update(table, keys, columns), _arrays(conn, table, keys + columns, rows)
        )
    elif dialect in ("mysql", "mariadb") and len(rows) > 1:
        params: dict[str, Any] = {}
        for index, row in enumerate(rows):
            for name in keys + columns:
                params[f"{name}_{index}"] = row[name]
        conn.execute(_case_update(table, keys, columns, len(rows)), params)
    else:
        conn.execute(
            _single_update(table, keys, columns),
            [{**{f"b_{k}": row[k] for k in keys}, **{c: row[c] for c in columns}} for row in rows],
        )


@lru_cache(maxsize=64)
def _single_update(table: Table, keys: tuple[str, ...], columns: tuple[str, ...]) -> Update:
    return (
        update(table)
        .where(*(table.c[k] == bindparam(f"b_{k}", type_=table.c[k].type) for k in keys))
        .values({name: bindparam(name, type_=table.c[name].type) for name in columns})
    )


@lru_cache(maxsize=256)
def _case_update(
    table: Table, keys: tuple[str, ...], columns: tuple[str, ...], count: int
) -> Update:
    """UPDATE t SET c = CASE WHEN key = :key_0 THEN :c_0 ... END, ... WHERE (the keys), built
    once per shape so that SQLAlchemy compiles it once."""

    def matches(i: int) -> Any:
        return and_(*(table.c[k] == bindparam(f"{k}_{i}", type_=table.c[k].type) for k in keys))

    values = {
        name: case(
            *[
                (matches(i), bindparam(f"{name}_{i}", type_=table.c[name].type))
                for i in range(count)
            ]
        )
        for name in columns
    }
    return update(table).where(or_(*(matches(i) for i in range(count)))).values(values)


@lru_cache(maxsize=64)
def _unnest_update(table: Table, keys: tuple[str, ...], columns: tuple[str, ...]) -> Any:
    """UPDATE t SET c = u.c FROM unnest(CAST(:key AS type[]), ...) AS u(key, c, ...)."""
    names = keys + columns
    arrays = ", ".join(f"CAST(:{name} AS {_sql_type(table.c[name])}[])" for name in names)
    sets = ", ".join(f'"{name}" = u."{name}"' for name in columns)
    listed = ", ".join(f'"{name}"' for name in names)
    joined = " AND ".join(f't."{k}" = u."{k}"' for k in keys)
    return text(
        f'UPDATE "{table.name}" AS t SET {sets} FROM unnest({arrays}) AS u({listed}) WHERE {joined}'
    )


def _sql_type(column: Column[Any]) -> str:
    return str(column.type.compile(dialect=_POSTGRESQL))


_POSTGRESQL = postgresql.dialect()  # type: ignore[no-untyped-call]


def _arrays(
    conn: Connection, table: Table, names: tuple[str, ...], rows: Sequence[dict[str, Any]]
) -> dict[str, list[Any]]:
    """One array per column, each value made what the column's type binds (aware UTC
    datetimes stored naive, ...)."""
    found: dict[str, list[Any]] = {}
    for name in names:
        processor = table.c[name].type.bind_processor(conn.dialect)
        values = [row[name] for row in rows]
        found[name] = [processor(v) for v in values] if processor else values
    return found
