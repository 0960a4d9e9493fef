"""`ledgerbank worker`: run the bank's due jobs, in a loop or once."""

from __future__ import annotations

import signal
import sys
from datetime import timedelta
from types import FrameType

import typer
from rich.console import Console

from ledgerbank.config import get_settings
from ledgerbank.kit.commands import open_database
from ledgerbank.kit.composition import composed
from ledgerbank.kit.logging import configure_logging
from ledgerbank.ledger.money import MoneyService
from ledgerbank.worker.runner import AnotherWorker, Worker, single_worker

console = Console(stderr=True)


def worker_command(
    context: typer.Context,
    once: bool = typer.Option(False, "--once", help="Run what is due now, then exit."),
) -> None:
    """Run due jobs (standing orders, expiries, ...) until SIGTERM or Ctrl-C; the job in hand
    finishes first. `--once` runs what is due and exits."""
    from ledgerbank import jobs
    from ledgerbank.migrations import upgrade

    settings = get_settings()
    configure_logging(level=settings.log_level, json_lines=settings.environment == "production")
    database = open_database()
    upgrade(database.engine)
    screen = composed(context).screen(settings)
    money = MoneyService.from_settings(database, lambda: screen, settings)
    worker = Worker(
        database,
        jobs.registry(),
        settings=settings,
        money=money,
        lease=timedelta(seconds=settings.worker_lease_seconds),
        poll=timedelta(seconds=settings.worker_poll_seconds),
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        console.print(f"worker: {signal.Signals(signum).name}: finishing the job in hand")
        worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)  # also when started in the background by `make run`
    try:
        with single_worker(database):
            if once:
                worker.sync()
                ran = worker.run_due()
                console.print(f"worker: {ran} job runs")
            else:
                worker.run_forever()
    except AnotherWorker as exc:
        console.print(f"[red]error[/red]: {exc}")
        sys.exit(1)
    finally:
        money.close()
        database.dispose()
