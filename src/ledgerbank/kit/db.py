"""Engines and transactions for SQLite, PostgreSQL and MySQL/MariaDB.

One owner per transaction: `Database.write` runs a unit of work in one database transaction,
commits it, and retries it from the start when the database reports a deadlock or a
serialization failure. Services take the `Connection` and never commit.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

try:
    import fcntl
except ImportError:  # not on Windows: SQLite's own busy handler orders the writers there
    fcntl = None  # type: ignore[assignment]

from sqlalchemy import (
    BigInteger,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    create_engine,
    event,
)
from sqlalchemy.dialects import mysql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator

from ledgerbank.kit.clock import as_utc
from ledgerbank.kit.files import private_file

log = logging.getLogger(__name__)
T = TypeVar("T")

# BIGINT everywhere, but SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")
Money = BigInteger()


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC (microseconds kept on MySQL), returns aware UTC datetimes."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Any) -> Any:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sqlite.DATETIME(truncate_microseconds=False))  # type: ignore[no-untyped-call]
        return dialect.type_descriptor(DateTime(timezone=False))

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return as_utc(value).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


def normalize_url(url: str) -> str:
    """Accept plain `postgresql://` and `mysql://` URLs and pick ledgerbank's drivers."""
    parsed = make_url(url)
    driver = {
        "postgresql": "postgresql+psycopg",
        "postgres": "postgresql+psycopg",
        "mysql": "mysql+pymysql",
        "mariadb": "mysql+pymysql",
    }.get(parsed.drivername)
    if driver:
        parsed = parsed.set(drivername=driver)
    if parsed.drivername.startswith("mysql") and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return parsed.render_as_string(hide_password=False)


def create_db_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> Engine:
    url = normalize_url(url)
    dialect = make_url(url).get_backend_name()
    if dialect == "sqlite":
        path = make_url(url).database
        if path and path != ":memory:" and not path.startswith("file:"):
            private_file(Path(path))  # 0600 (and in a new folder, 0700); SQLite's -wal and
            # -shm files take the database file's permissions
        # Pooled connections: opening one per transaction costs the pragmas and, on the last
        # close, a WAL checkpoint.
        engine = create_engine(
            url,
            echo=echo,
            poolclass=QueuePool,
            pool_size=pool_size,
            max_overflow=pool_size * 2,
            connect_args={"check_same_thread": False},
        )
        _configure_sqlite(engine)
    else:
        kwargs: dict[str, Any] = {"pool_size": pool_size, "max_overflow": pool_size * 2}
        if dialect == "mysql":
            kwargs["isolation_level"] = "READ COMMITTED"
        # No pre-ping (it costs a round trip per transaction): stale connections are recycled,
        # and a connection found dead mid-transaction is retried by Database.write.
        engine = create_engine(url, echo=echo, pool_recycle=1800, **kwargs)
    _forget_caches_on_rollback(engine)
    return engine


def connection_cache(conn: Connection, name: str) -> dict[Any, Any]:
    """A cache kept with the database connection, emptied whenever a transaction rolls back.

    For facts read from the database that never change once committed (such as the ids of
    the bank's internal accounts): a rollback may have undone the write that created them.
    """
    cache: dict[Any, Any] = conn.info.setdefault(f"ledgerbank.{name}", {})
    return cache


def _forget_caches_on_rollback(engine: Engine) -> None:
    def forget(conn: Connection, *_args: Any) -> None:
        for key in [k for k in conn.info if isinstance(k, str) and k.startswith("ledgerbank.")]:
            del conn.info[key]

    event.listen(engine, "rollback", forget)
    event.listen(engine, "rollback_savepoint", forget)


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE so writers queue up front."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")


# Errors after which the whole unit of work is safely retried from the start.
_RETRYABLE_PG = {"40001", "40P01"}  # serialization_failure, deadlock_detected
_RETRYABLE_MYSQL = {1213, 1205}  # deadlock, lock wait timeout


def is_retryable(exc: BaseException) -> bool:
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate in _RETRYABLE_PG:
        return True
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int) and args[0] in _RETRYABLE_MYSQL:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(orig)


class _SqliteWriters:
    """One SQLite writer at a time across threads and processes, waiting in the kernel.

    SQLite's busy handler polls with sleeps that grow to 100 ms, so a writer queued behind
    another wakes late and a busy server's slowest answers wait for nothing. An exclusive
    `flock` on a file beside the database wakes the next writer the moment the last one
    commits (a thread lock does the same between the threads of one process, which share
    the file). Readers never take it: WAL lets them read alongside the writer.
    """

    def __init__(self, database_path: str) -> None:
        self.path = f"{database_path}-writer.lock"
        self.local = threading.Lock()
        self.fd: int | None = None

    @contextmanager
    def held(self) -> Iterator[None]:
        with self.local:
            if self.fd is None:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self.fd, fcntl.LOCK_UN)


class Database:
    """The engine and the two ways to use it: `write` (retried) and `read`."""

    def __init__(self, engine: Engine, *, max_attempts: int = 8) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.max_attempts = max_attempts
        self.retries = 0  # units of work run again after a deadlock or lost connection
        path = engine.url.database if self.dialect == "sqlite" else None
        self._writers = (
            _SqliteWriters(path)
            if path and path != ":memory:" and not path.startswith("file:") and fcntl is not None
            else None  # a `file:` URI is a read-only database's: it has no writers
        )

    @classmethod
    def from_url(cls, url: str, *, pool_size: int = 10) -> Database:
        return cls(create_db_engine(url, pool_size=pool_size))

    def write(self, unit_of_work: Callable[[Connection], T]) -> T:
        """Run `unit_of_work` in one transaction and commit; retry on deadlock."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                with self._writer_turn(), self.engine.begin() as conn:
                    return unit_of_work(conn)
            except DBAPIError as exc:
                if attempt == self.max_attempts or not is_retryable(exc):
                    raise
                self.retries += 1
                log.info("retrying after %s (attempt %d)", type(exc.orig).__name__, attempt)
                time.sleep(random.uniform(0, 0.002 * 2**attempt))
        raise AssertionError("unreachable")

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        if self._writers is None:
            yield
            return
        with self._writers.held():
            yield

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads; on SQLite a deferred transaction that takes no write lock."""
        with self.engine.connect() as conn:
            if self.dialect == "sqlite":
                conn = conn.execution_options(sqlite_begin="DEFERRED")
            with conn.begin():
                yield conn

    def dispose(self) -> None:
        self.engine.dispose()


# One MetaData for every domain's tables, with constraint names the migrations can rely on.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)
