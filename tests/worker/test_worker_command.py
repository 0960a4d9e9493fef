"""`ledgerbank worker`: --once runs what is due and exits; on SQLite one worker runs at a time;
SIGTERM lets the worker stop cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from ledgerbank.kit.db import Database
from ledgerbank.worker.runner import single_worker
from ledgerbank.worker.tables import worker_job_runs


def _env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "LEDGERBANK_DATABASE_URL": database_url,
        "LEDGERBANK_DATA_DIR": str(tmp_path),
        "LEDGERBANK_RISK_ENABLED": "false",
        "LEDGERBANK_WORKER_POLL_SECONDS": "0.2",
    }


def _worker(*args: str) -> list[str]:
    return [sys.executable, "-m", "ledgerbank", "worker", *args]


def test_once_runs_what_is_due_and_exits(database_url: str, tmp_path: Path) -> None:
    done = subprocess.run(
        _worker("--once"), env=_env(database_url, tmp_path), capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()
    database = Database.from_url(database_url)
    try:
        with database.read() as conn:
            runs = conn.execute(select(worker_job_runs.c.job_name, worker_job_runs.c.outcome))
            assert ("approvals.expire", "ok") in [tuple(r) for r in runs]
    finally:
        database.dispose()


def test_one_worker_at_a_time_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bank.db'}"
    database = Database.from_url(url)
    try:
        with single_worker(database):
            second = subprocess.run(
                _worker("--once"), env=_env(url, tmp_path), capture_output=True, timeout=120
            )
    finally:
        database.dispose()
    assert second.returncode == 1
    assert b"another worker is running" in second.stderr


def test_sigterm_stops_a_running_worker(database_url: str, tmp_path: Path) -> None:
    process = subprocess.Popen(_worker(), env=_env(database_url, tmp_path), stderr=subprocess.PIPE)
    database = Database.from_url(database_url)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until it has run its first jobs
            with database.read() as conn:
                if conn.execute(select(worker_job_runs.c.id)).first() is not None:
                    break
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        assert process.stderr is not None
        assert b"SIGTERM" in process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
        database.dispose()
