"""A read-only `Database` for the dashboard: the database itself refuses any write.

- SQLite: the file opened with `mode=ro` and `PRAGMA query_only`;
- PostgreSQL: sessions with `default_transaction_read_only`;
- MySQL/MariaDB: sessions started with `SET SESSION TRANSACTION READ ONLY`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from ledgerbank import errors
from ledgerbank.kit.db import Database, normalize_url


def read_only_database(url: str) -> Database:
    """A `Database` whose every connection is read-only, for `Database.read()` only."""
    url = normalize_url(url)
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = parsed.database
        if not path or path == ":memory:":
            raise errors.ServiceUnavailable("the dashboard needs a database file")
        engine = create_engine(
            f"sqlite:///file:{path}?mode=ro&uri=true",
            poolclass=NullPool,
            connect_args={"check_same_thread": False},
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # transactions are begun below, deferred
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA query_only = ON")
            cursor.execute("PRAGMA busy_timeout = 5000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN DEFERRED")  # one snapshot per read, no write lock

        return Database(engine)
    connect_args: dict[str, Any] = {}
    if backend == "postgresql":
        connect_args["options"] = "-c default_transaction_read_only=on"
    else:
        connect_args["init_command"] = "SET SESSION TRANSACTION READ ONLY"
    engine = create_engine(url, pool_size=2, pool_pre_ping=True, connect_args=connect_args)
    return Database(engine)
