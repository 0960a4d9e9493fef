"""The read database: a read-only `Database` for the heavy readers, and how far behind it is.

Reports, analytics, LedgerGPT and the dashboard read from `LEDGERBANK_READ_DATABASE_URL` (a
PostgreSQL streaming replica or a MySQL/MariaDB replica) while postings go to the primary;
without it they read the primary. Every connection is read-only, so the database itself
refuses a write where none belongs:

- SQLite: the file opened with `mode=ro` and `PRAGMA query_only`;
- PostgreSQL: sessions with `default_transaction_read_only` (a hot standby refuses writes too);
- MySQL/MariaDB: sessions started with `SET SESSION TRANSACTION READ ONLY`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.pool import NullPool

from ledgerbank import errors
from ledgerbank.kit.clock import as_utc, utcnow
from ledgerbank.kit.db import Database, normalize_url

log = logging.getLogger(__name__)


def read_only_database(url: str, *, pool_size: int = 2) -> Database:
    """A `Database` whose every connection is read-only, for `Database.read()` only."""
    url = normalize_url(url)
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        path = parsed.database
        if not path or path == ":memory:":
            raise errors.ServiceUnavailable("a read-only database needs a database file")
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
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_pre_ping=True,  # a restarted replica drops its connections
        pool_recycle=1800,
        connect_args=connect_args,
    )
    return Database(engine)


def open_read_database(read_url: str, primary: Database, *, pool_size: int = 10) -> Database:
    """The database the readers use: the replica at `read_url`, else the primary itself."""
    if not read_url:
        return primary
    return read_only_database(read_url, pool_size=pool_size)


ReplicaState = Literal["no_replica", "streaming", "stopped", "not_a_replica", "unreachable"]


@dataclass(frozen=True)
class ReplicaStatus:
    """How far behind the read database is (figures are None where they cannot be known)."""

    state: ReplicaState
    dialect: str
    detail: str
    seconds_behind: float | None = None
    bytes_behind: int | None = None  # PostgreSQL: WAL received by the primary, not replayed
    last_replayed_at: datetime | None = None  # commit time of the last replayed transaction
    checked_at: datetime | None = None


def replica_status(primary: Database, read: Database) -> ReplicaStatus:
    """Measure the read database against the primary; never raises for an unreachable one."""
    now = utcnow()
    if read is primary:
        return ReplicaStatus(
            "no_replica", primary.dialect, "no replica: the readers use the primary", checked_at=now
        )
    try:
        if read.dialect == "postgresql":
            found = _postgres_status(primary, read)
        elif read.dialect in ("mysql", "mariadb"):
            found = _mysql_status(read)
        else:
            found = ReplicaStatus(
                "not_a_replica", read.dialect, "a separate read-only database, not a replica"
            )
    except (DBAPIError, OSError) as exc:
        log.warning("replica status: read database unreachable (%s)", type(exc).__name__)
        found = ReplicaStatus("unreachable", read.dialect, "the read database is unreachable")
    return ReplicaStatus(**{**found.__dict__, "checked_at": now})


def _postgres_status(primary: Database, read: Database) -> ReplicaStatus:
    with primary.read() as conn:
        primary_lsn = conn.exec_driver_sql("SELECT pg_current_wal_lsn()::text").scalar_one()
    with read.read() as conn:
        row = (
            conn.exec_driver_sql(
                "SELECT pg_is_in_recovery() AS standby,"
                " EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) AS delay,"
                " pg_last_xact_replay_timestamp() AS replayed_at,"
                " pg_wal_lsn_diff(%(lsn)s::pg_lsn, pg_last_wal_replay_lsn()) AS behind,"
                " (SELECT status FROM pg_stat_wal_receiver LIMIT 1) AS receiver",
                {"lsn": primary_lsn},
            )
            .mappings()
            .one()
        )
    if not row["standby"]:
        return ReplicaStatus(
            "not_a_replica", "postgresql", "the read database is not a standby: it is a primary"
        )
    # Read after the primary's position: a replica that moved on since is not behind.
    behind = max(0, int(row["behind"] or 0))
    replayed_at = as_utc(row["replayed_at"]) if row["replayed_at"] is not None else None
    # An idle primary commits nothing, so the last replayed commit ages while nothing is
    # missing: with no WAL left to replay the replica is not behind at all.
    seconds = 0.0 if behind == 0 else max(0.0, float(row["delay"] or 0))
    streaming = row["receiver"] == "streaming"
    return ReplicaStatus(
        "streaming" if streaming else "stopped",
        "postgresql",
        "a hot standby streaming from the primary"
        if streaming
        else "a standby that is not receiving WAL from the primary",
        seconds_behind=round(seconds, 3),
        bytes_behind=behind,
        last_replayed_at=replayed_at,
    )


def _mysql_status(read: Database) -> ReplicaStatus:
    rows = _replica_rows(read, "SHOW REPLICA STATUS")
    if rows is None:  # MySQL before 8.0.22, MariaDB before 10.5.1
        rows = _replica_rows(read, "SHOW SLAVE STATUS") or []
    if not rows:
        return ReplicaStatus(
            "not_a_replica", read.dialect, "the read database replicates from no source"
        )
    row = rows[0]
    seconds = _first(row, "Seconds_Behind_Source", "Seconds_Behind_Master")
    io = _first(row, "Replica_IO_Running", "Slave_IO_Running")
    sql = _first(row, "Replica_SQL_Running", "Slave_SQL_Running")
    running = io == "Yes" and sql == "Yes" and seconds is not None
    return ReplicaStatus(
        "streaming" if running else "stopped",
        read.dialect,
        "a replica applying the source's binary log"
        if running
        else "a replica whose replication threads are stopped",
        seconds_behind=float(seconds) if seconds is not None else None,
    )


def _replica_rows(read: Database, statement: str) -> list[dict[str, Any]] | None:
    try:
        with read.read() as conn:
            return [dict(r) for r in conn.exec_driver_sql(statement).mappings().all()]
    except ProgrammingError:  # a syntax this server does not know
        return None


def _first(row: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in row:
            return row[name]
    return None
