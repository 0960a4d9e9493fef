"""Workers running at once on the same due standing orders post each payment once: through
the job's lease (`Worker.run_due`), and even when the job itself runs twice at once (its
Idempotency-Keys and the order's row lock); a worker killed with SIGKILL mid-job posts nothing
twice after a restart. Real threads and processes, each with its own connections."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from api_helpers import Bank
from sqlalchemy import func, select
from standing_helpers import schedule

from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.ledger.money import MoneyService
from ledgerbank.ledger.tables import transactions
from ledgerbank.payments.jobs import STANDING_ORDERS, pay_due
from ledgerbank.payments.tables import scheduled_payment_runs
from ledgerbank.worker.registry import JobContext, Registry
from ledgerbank.worker.runner import Worker
from ledgerbank.worker.tables import worker_job_runs

ORDERS = 8


def _due_today(bank: Bank, count: int, prefix: str) -> list[int]:
    source, payee = bank.open_account("alice"), bank.open_account("bob")
    bank.fund(source, "1000.00")
    today = utcnow().date()
    return [
        schedule(
            bank,
            "alice",
            from_account_id=source,
            to_account_id=payee,
            amount="1.00",
            first_date=today,
            frequency="once",
            description=f"{prefix} {i}",
        )["id"]
        for i in range(count)
    ]


def _posted_per_description(database: Database, prefix: str) -> dict[str, int]:
    with database.read() as conn:
        rows = conn.execute(
            select(transactions.c.description, func.count())
            .where(transactions.c.description.like(f"{prefix} %"))
            .where(transactions.c.status == "posted")
            .group_by(transactions.c.description)
        )
        return {str(d): int(n) for d, n in rows}


def _posted_runs(database: Database) -> dict[int, int]:
    runs = scheduled_payment_runs.c
    with database.read() as conn:
        rows = conn.execute(
            select(runs.payment_id, func.count())
            .where(runs.outcome == "posted")
            .group_by(runs.payment_id)
        )
        return {int(i): int(n) for i, n in rows}


def _at_once(database_url: str, bank: Bank, go: Callable[[Database, MoneyService], None]) -> None:
    settings = bank.app.state.settings
    databases = [Database.from_url(database_url, pool_size=3) for _ in range(3)]
    start = threading.Barrier(len(databases))
    errors: list[BaseException] = []

    def each(database: Database) -> None:
        money = MoneyService.from_settings(database, lambda: bank.app.state.screen, settings)
        start.wait()
        try:
            go(database, money)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=each, args=(db,)) for db in databases]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        for db in databases:
            db.dispose()
    assert errors == []


def test_workers_at_once_pay_each_due_order_once(bank: Bank, database_url: str) -> None:
    ids = _due_today(bank, ORDERS, "Lease")
    settings = bank.app.state.settings

    def work(database: Database, money: MoneyService) -> None:
        worker = Worker(database, Registry([STANDING_ORDERS]), settings=settings, money=money)
        worker.sync()
        worker.run_due()

    _at_once(database_url, bank, work)
    assert _posted_per_description(bank.database, "Lease") == {
        f"Lease {i}": 1 for i in range(ORDERS)
    }
    assert _posted_runs(bank.database) == dict.fromkeys(ids, 1)
    with bank.database.read() as conn:
        job_runs = conn.execute(select(func.count()).select_from(worker_job_runs)).scalar_one()
    assert job_runs == 1  # one worker held the lease; the others found nothing due


def test_the_job_running_twice_at_once_still_pays_each_order_once(
    bank: Bank, database_url: str
) -> None:
    ids = _due_today(bank, ORDERS, "Twice")
    settings = bank.app.state.settings

    def work(database: Database, money: MoneyService) -> None:
        pay_due(JobContext(database, settings, money, utcnow()))

    _at_once(database_url, bank, work)
    assert _posted_per_description(bank.database, "Twice") == {
        f"Twice {i}": 1 for i in range(ORDERS)
    }
    assert _posted_runs(bank.database) == dict.fromkeys(ids, 1)


def test_a_worker_killed_mid_job_pays_nothing_twice_after_a_restart(
    bank: Bank, database_url: str, tmp_path: Path
) -> None:
    count = 30
    ids = _due_today(bank, count, "Killed")
    env = {
        **os.environ,
        "LEDGERBANK_DATABASE_URL": database_url,
        "LEDGERBANK_DATA_DIR": str(tmp_path),
        "LEDGERBANK_RISK_ENABLED": "false",
        "LEDGERBANK_WORKER_POLL_SECONDS": "0.2",
        "LEDGERBANK_WORKER_LEASE_SECONDS": "2",
    }
    command = [sys.executable, "-m", "ledgerbank", "worker"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # kill it once it has paid something
            if _posted_per_description(bank.database, "Killed"):
                break
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    paid_before = sum(_posted_per_description(bank.database, "Killed").values())
    assert paid_before >= 1
    time.sleep(2.5)  # the dead worker's lease runs out
    again = subprocess.run([*command, "--once"], env=env, capture_output=True, timeout=180)
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    assert _posted_per_description(bank.database, "Killed") == {
        f"Killed {i}": 1 for i in range(count)
    }
    assert _posted_runs(bank.database) == dict.fromkeys(ids, 1)
    with bank.database.read() as conn:
        outcomes = [str(o) for o in conn.execute(select(worker_job_runs.c.outcome)).scalars()]
    assert "running" not in outcomes
    if paid_before < count:  # killed mid-job: the restart says what happened to that run
        assert "interrupted" in outcomes
