"""Read-only execution with a statement timeout, on a connection of its own.

- SQLite: the file opened read-only (`mode=ro` URI) with `PRAGMA query_only`, and a progress
  handler that interrupts the statement at the deadline.
- PostgreSQL: a READ ONLY transaction (the session defaults to read-only too) with
  `SET LOCAL statement_timeout`.
- MySQL/MariaDB: a read-only session (so DDL, which commits implicitly, is refused too) and
  `START TRANSACTION READ ONLY`, with `max_statement_time` (MariaDB, seconds) or
  `max_execution_time` (MySQL, milliseconds), whichever the server has.

Every transaction is rolled back. The runner keeps a small pool of its own connections, all
of them read-only for their whole life, apart from the application's.

Sizes are bounded too: the gate refuses statements that could build values far larger than
what they read, SQLite refuses any value over `max_value_bytes`, rows are fetched in small
batches and an answer stops at `max_result_bytes`, and at most `concurrency` statements run at
once per process (the rest wait for a slot up to the time limit).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ledgerbank import errors
from ledgerbank.kit.clock import as_utc
from ledgerbank.kit.db import normalize_url
from ledgerbank.ledgergpt.gate import PARAM_SENTINEL, CheckedQuery


@dataclass(frozen=True)
class Rows:
    columns: list[str]
    rows: list[tuple[Any, ...]]


def _sqlite_read_only_url(url: str) -> str:
    path = make_url(url).database
    if not path or path == ":memory:":
        raise errors.ServiceUnavailable("LedgerGPT needs a database file, not an in-memory one")
    if path.startswith("file:"):  # already a URI (a read-only database's)
        return url
    return f"sqlite:///file:{path}?mode=ro&uri=true"


FETCH_BATCH = 100
MAX_VALUE_BYTES = 1_000_000


class ReadOnlyRunner:
    """Runs checked queries on read-only connections with a time limit and size limits."""

    def __init__(
        self,
        database_url: str,
        *,
        max_result_bytes: int = 4_000_000,
        concurrency: int = 2,
        max_value_bytes: int = MAX_VALUE_BYTES,
    ) -> None:
        self.max_result_bytes = max_result_bytes
        self.max_value_bytes = max_value_bytes
        self._slots = threading.BoundedSemaphore(concurrency)
        url = normalize_url(database_url)
        self.dialect = make_url(url).get_backend_name()
        pool: dict[str, Any] = {"pool_size": 2, "max_overflow": 4, "pool_recycle": 600}
        if self.dialect == "sqlite":
            self.engine = create_engine(
                _sqlite_read_only_url(url),
                connect_args={"check_same_thread": False},
                **pool,
            )
            event.listen(self.engine, "connect", self._sqlite_read_only)
        else:
            connect_args: dict[str, Any] = {}
            if self.dialect == "postgresql":
                connect_args["options"] = "-c default_transaction_read_only=on"
            self.engine = create_engine(url, connect_args=connect_args, pool_pre_ping=True, **pool)
        self._mariadb: bool | None = None

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self, *, timeout_seconds: float) -> Iterator[Connection]:
        """A read-only connection whose statements stop at the time limit; rolled back.

        Waiting for a free slot counts against the limit: a question never takes longer."""
        deadline = time.monotonic() + timeout_seconds
        if not self._slots.acquire(timeout=timeout_seconds):
            raise errors.QueryTimeout(
                "LedgerGPT is answering as many questions as it may at once; ask again shortly"
            )
        try:
            remaining = round(deadline - time.monotonic(), 3)
            if remaining < 0.05:
                raise errors.QueryTimeout("the time limit passed while waiting for a free slot")
            with self._session(remaining) as conn:
                yield conn
        finally:
            self._slots.release()

    @contextmanager
    def _session(self, timeout_seconds: float) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            try:
                if self.dialect == "sqlite":
                    deadline = time.monotonic() + timeout_seconds
                    raw = conn.connection.dbapi_connection
                    raw.set_progress_handler(  # type: ignore[union-attr]
                        lambda: 1 if time.monotonic() > deadline else 0, 1000
                    )
                    conn.exec_driver_sql("PRAGMA query_only = ON")
                elif self.dialect == "postgresql":
                    conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                    milliseconds = max(1, int(timeout_seconds * 1000))
                    conn.exec_driver_sql(f"SET LOCAL statement_timeout = {milliseconds}")
                else:
                    self._mysql_session(conn, timeout_seconds)
                    conn.exec_driver_sql("START TRANSACTION READ ONLY")
                yield conn
            except DBAPIError as exc:
                raise _translate(exc) from None
            finally:
                if not conn.invalidated:
                    conn.rollback()
                if self.dialect == "sqlite" and not conn.invalidated:
                    # a pooled connection must not keep the deadline
                    conn.connection.dbapi_connection.set_progress_handler(None, 0)  # type: ignore[union-attr]

    def run(
        self,
        query: CheckedQuery,
        params: dict[str, Any],
        *,
        timeout_seconds: float,
        conn: Connection | None = None,
    ) -> Rows:
        """Run a checked query, on `conn` (from `session`) or on a session of its own."""
        if conn is None:
            with self.session(timeout_seconds=timeout_seconds) as own:
                return self.run(query, params, timeout_seconds=timeout_seconds, conn=own)
        sql, bound = self._driver_sql(query.template, params)
        try:
            # Fetched in small batches (a server-side cursor on PostgreSQL and MySQL), so a
            # result too large is stopped before it is all in memory.
            result = conn.execution_options(stream_results=True).exec_driver_sql(sql, bound)
            columns = list(result.keys())
            rows: list[tuple[Any, ...]] = []
            size = 0
            while len(rows) < query.row_limit:
                batch = result.fetchmany(min(FETCH_BATCH, query.row_limit - len(rows)))
                if not batch:
                    break
                for row in batch:
                    size += sum(_size(value) for value in row)
                    rows.append(tuple(row))
                if size > self.max_result_bytes:
                    self._abandon(conn, result)
                    raise errors.ResultTooLarge(
                        f"the answer is larger than {self.max_result_bytes:,} bytes: ask for "
                        "fewer rows or columns"
                    )
            result.close()
        except DBAPIError as exc:
            raise _translate(exc) from None
        return Rows(columns, rows)

    def _abandon(self, conn: Connection, result: Any) -> None:
        """Stop a statement whose result is too large, keeping none of the rest of it.

        PostgreSQL closes its server-side cursor; MySQL's unbuffered result is read to its end
        and dropped (at most until the statement's time limit)."""
        try:
            result.close()
        except DBAPIError:
            conn.invalidate()

    def execute_unchecked(self, sql: str) -> Rows:
        """Run raw SQL on the read-only connection (tests use it to prove writes fail)."""
        with self.engine.connect() as conn:
            try:
                if self.dialect == "sqlite":
                    conn.exec_driver_sql("PRAGMA query_only = ON")
                elif self.dialect == "postgresql":
                    conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                else:
                    self._mysql_session(conn, 5.0)
                    conn.exec_driver_sql("START TRANSACTION READ ONLY")
                result = conn.exec_driver_sql(sql)
                if result.returns_rows:
                    return Rows(list(result.keys()), [tuple(r) for r in result.fetchall()])
                return Rows([], [])
            finally:
                conn.rollback()

    def _mysql_session(self, conn: Connection, timeout_seconds: float) -> None:
        """Read-only for the whole session (DDL commits implicitly, ending any one transaction)
        and the statement time limit; each set once per pooled connection."""
        info = conn.connection.info
        if not info.get("ledgergpt_read_only"):
            conn.exec_driver_sql("SET SESSION TRANSACTION READ ONLY")
            info["ledgergpt_read_only"] = True
        if info.get("ledgergpt_timeout") != timeout_seconds:
            conn.exec_driver_sql(self._mysql_time_limit(conn, timeout_seconds))
            info["ledgergpt_timeout"] = timeout_seconds

    def _mysql_time_limit(self, conn: Any, timeout_seconds: float) -> str:
        if self._mariadb is None:
            version = str(conn.exec_driver_sql("SELECT VERSION()").scalar())
            self._mariadb = "mariadb" in version.lower()
        if self._mariadb:
            return f"SET SESSION max_statement_time = {max(0.001, timeout_seconds):.3f}"
        return f"SET SESSION max_execution_time = {max(1, int(timeout_seconds * 1000))}"

    def _driver_sql(self, template: str, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The checked SQL in the driver's parameter style, with values the driver takes."""
        bound: dict[str, Any] = {}
        sql = template
        if self.dialect != "sqlite":
            sql = sql.replace("%", "%%")
        for name, value in params.items():
            marker = PARAM_SENTINEL.format(name)
            if marker not in sql:
                continue
            style = f":{name}" if self.dialect == "sqlite" else f"%({name})s"
            sql = sql.replace(marker, style)
            bound[name] = self._value(value)
        if "__ledgergpt_param_" in sql:
            raise errors.UnsafeQuery("refused: a parameter was not supplied", reason="parameter")
        return sql, bound

    def _value(self, value: Any) -> Any:
        if isinstance(value, datetime):
            moment = as_utc(value).replace(tzinfo=None)
            if self.dialect == "sqlite":  # the text form SQLAlchemy stores
                return moment.strftime("%Y-%m-%d %H:%M:%S.%f")
            return moment
        if isinstance(value, Decimal) and self.dialect == "sqlite":
            # SQLite keeps decimals as REAL; a compared bound is rounded the same way.
            return float(value)
        if isinstance(value, bool) and self.dialect == "sqlite":
            return int(value)
        return value

    def _sqlite_read_only(self, dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA query_only = ON")
        cursor.execute("PRAGMA busy_timeout = 5000")
        cursor.close()
        # No value may grow past this: printf() or replace() building gigabytes in one step
        # would run on between two checks of the progress handler.
        dbapi_conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, self.max_value_bytes)


def _size(value: Any) -> int:
    if isinstance(value, str | bytes | bytearray | memoryview):
        return len(value)
    return 8


def _translate(exc: DBAPIError) -> errors.LedgerbankError:
    """Time limits become QueryTimeout; other failures a short, SQL-free QueryFailed."""
    orig = exc.orig
    text = str(orig).lower()
    code = getattr(orig, "args", [None])[0] if getattr(orig, "args", None) else None
    sqlstate = getattr(orig, "sqlstate", None)
    if (
        sqlstate == "57014"
        or code in (1969, 3024, 1317)
        or "interrupted" in text
        or "statement timeout" in text
    ):
        return errors.QueryTimeout("the query took longer than the time limit and was stopped")
    if "too big" in text:  # SQLite's length limit
        return errors.ResultTooLarge("the query built a value larger than LedgerGPT allows")
    if sqlstate == "25006" or code == 1792 or "readonly" in text or "read-only" in text:
        return errors.UnsafeQuery(
            "refused by the database: the connection is read-only", reason="read_only"
        )
    return errors.QueryFailed(
        f"the database could not run this query ({type(orig).__name__})",
    )
