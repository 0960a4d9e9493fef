"""The physical-limit references the benchmarks print their ratio to, measured in the same run.

PostgreSQL: pgbench running `benchmarks/pgbench-transfer.sql` (two balance updates in a fixed
order and two history rows per transaction) on a scratch database of the same server. SQLite:
a raw `sqlite3` loop doing the same two updates and two inserts per transaction, in WAL mode
with `synchronous=NORMAL` like ledgerbank's own connections, on a scratch file beside the
database.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from ledgerbank.kit.db import normalize_url

SCRIPT = Path(__file__).resolve().parents[3] / "benchmarks" / "pgbench-transfer.sql"
SCRATCH = f"lb_pgbench_reference_{os.getpid()}"
_TPS = re.compile(r"tps = ([0-9.]+) \(without initial connection time\)")


@dataclass(frozen=True)
class Reference:
    name: str  # "pgbench-transfer" or "raw sqlite3 loop"
    rate: float  # transfers per second
    detail: str


def measure(url: str, *, clients: int, seconds: float) -> Reference | None:
    """The reference for this database's server, or None (MySQL, or pgbench missing)."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite":
        return sqlite_loop(seconds=seconds)
    if parsed.get_backend_name() == "postgresql" and shutil.which("pgbench"):
        return pgbench(parsed, clients=clients, seconds=seconds)
    return None


def sqlite_loop(*, seconds: float, accounts: int = 100_000) -> Reference:
    """Transfers as bare SQL: two UPDATEs in id order and two INSERTs per transaction."""
    with tempfile.TemporaryDirectory(prefix="ledgerbank-sqlite-reference-") as folder:
        db = sqlite3.connect(Path(folder) / "reference.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)")
        db.execute(
            "CREATE TABLE history (id INTEGER PRIMARY KEY, account_id INTEGER, delta INTEGER, "
            "at TEXT)"
        )
        db.execute("BEGIN")
        db.executemany("INSERT INTO accounts VALUES (?, 0)", ((i,) for i in range(1, accounts + 1)))
        db.execute("COMMIT")
        rng = random.Random(7)
        done = 0
        deadline = time.perf_counter() + seconds
        started = time.perf_counter()
        while time.perf_counter() < deadline:
            for _ in range(100):
                x, y = rng.randint(1, accounts), rng.randint(1, accounts)
                delta = rng.randint(1, 100)
                db.execute("BEGIN IMMEDIATE")
                db.execute(
                    "UPDATE accounts SET balance = balance - ? WHERE id = ?", (delta, min(x, y))
                )
                db.execute(
                    "UPDATE accounts SET balance = balance + ? WHERE id = ?", (delta, max(x, y))
                )
                db.execute(
                    "INSERT INTO history (account_id, delta, at) VALUES (?, ?, datetime('now'))",
                    (x, -delta),
                )
                db.execute(
                    "INSERT INTO history (account_id, delta, at) VALUES (?, ?, datetime('now'))",
                    (y, delta),
                )
                db.execute("COMMIT")
                done += 1
        rate = done / (time.perf_counter() - started)
        db.close()
    return Reference("raw sqlite3 loop", rate, f"{done:,} transactions, WAL, one process")


def pgbench(url: URL, *, clients: int, seconds: float) -> Reference | None:
    """pgbench -c CLIENTS -j 2 -T SECONDS -f pgbench-transfer.sql on a scratch database."""
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {SCRATCH}"))
        base = [
            "-h", url.host or "127.0.0.1",
            "-p", str(url.port or 5432),
            "-U", url.username or "postgres",
        ]  # fmt: skip
        env = {"PGPASSWORD": url.password} if url.password else None
        _run(["pgbench", *base, "-i", "-s", "10", "-q", SCRATCH], env)
        found = _run(
            [
                "pgbench",
                *base,
                "-c",
                str(clients),
                "-j",
                str(min(clients, 2)),
                "-T",
                str(max(1, round(seconds))),
                "-f",
                str(SCRIPT),
                SCRATCH,
            ],
            env,
        )
        match = _TPS.search(found)
        if match is None:
            return None
        return Reference(
            "pgbench-transfer", float(match.group(1)), f"pgbench -c {clients} -j 2, scale 10"
        )
    except (subprocess.CalledProcessError, OSError):
        return None
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {SCRATCH} WITH (FORCE)"))
        admin.dispose()


def _run(command: list[str], env: dict[str, str] | None) -> str:
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=True,
        env=None if env is None else {**os.environ, **env},
    )
    return done.stdout
