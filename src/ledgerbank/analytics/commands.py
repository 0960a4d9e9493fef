"""`ledgerbank analytics ...` (the forecast backtest) and `ledgerbank bench reports`."""

from __future__ import annotations

import os
import statistics
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from ledgerbank.analytics import forecast
from ledgerbank.analytics.periods import label_of
from ledgerbank.analytics.spending import FORECAST_HISTORY_MONTHS, spending_histories
from ledgerbank.config import get_settings
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.ledger import integrity

app = typer.Typer(help="Analytics: the spending forecast and its backtest.", no_args_is_help=True)
console = Console()

DatabaseUrl = Annotated[
    str, typer.Option(help="Database to use (default: LEDGERBANK_DATABASE_URL).")
]


def _database(url: str) -> Database:
    settings = get_settings()
    return Database.from_url(url or settings.resolved_database_url, pool_size=2)


@app.command("backtest")
def backtest_command(
    database_url: DatabaseUrl = "",
    account_id: Annotated[
        int | None, typer.Option(help="Only this account (default: every customer account).")
    ] = None,
    min_history: Annotated[
        int, typer.Option(min=1, help="Months of history before the first forecast.")
    ] = 3,
    months: Annotated[
        int, typer.Option(min=2, help="Months of history to look at.")
    ] = FORECAST_HISTORY_MONTHS,
) -> None:
    """Forecast each past month from the months before it, by both methods; print the MAPE."""
    database = _database(database_url)
    try:
        with console.status("reading monthly spending"), database.read() as conn:
            current = label_of(utcnow(), "month")
            ids = [account_id] if account_id is not None else None
            histories = spending_histories(conn, ids, before_month=current, months=months)
        points: list[forecast.BacktestPoint] = []
        accounts = 0
        with _progress() as progress:
            task = progress.add_task("backtesting", total=len(histories))
            for history in histories.values():
                found = forecast.backtest(history.as_series(), min_history=min_history)
                accounts += bool(found)
                points.extend(found)
                progress.advance(task)
    finally:
        database.dispose()
    console.print(backtest_table(points, accounts))


def backtest_table(points: list[forecast.BacktestPoint], accounts: int) -> Table:
    """MAPE, median APE and wins of each method over the same forecasts."""
    table = Table(
        title=f"spending forecast backtest: {len(points):,} account-months of {accounts:,} series",
        caption="each month predicted from the months before it; months without spending skipped",
    )
    for column in ("method", "forecasts", "MAPE %", "median APE %", "closer"):
        table.add_column(column, justify="left" if column == "method" else "right")
    scored = [p for p in points if p.actual > 0]
    for method in forecast.METHODS:
        errors = [abs(p.predicted[method] - p.actual) / p.actual * 100 for p in scored]
        other = next(m for m in forecast.METHODS if m != method)
        closer = sum(
            abs(p.predicted[method] - p.actual) < abs(p.predicted[other] - p.actual) for p in scored
        )
        table.add_row(
            method,
            f"{len(errors):,}",
            f"{statistics.fmean(errors):.1f}" if errors else "-",
            f"{statistics.median(errors):.1f}" if errors else "-",
            f"{closer:,}",
        )
    return table


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )


def reports_bench_command(
    database_url: Annotated[
        str,
        typer.Option(help="A database of its own for the benchmark (default: the configured one)."),
    ] = "",
    transactions: Annotated[int, typer.Option(min=1, help="Transactions to load.")] = 1_000_000,
    customers: Annotated[int, typer.Option(min=2, help="Customers to create.")] = 10_000,
    months: Annotated[int, typer.Option(min=1, help="Months of history.")] = 24,
    seed: Annotated[int, typer.Option(help="Seed of the simulated history.")] = 7,
    force: Annotated[
        bool, typer.Option("--force", help="Load into a database that is not empty.")
    ] = False,
    load: Annotated[
        bool, typer.Option(help="Load the bank first (--no-load: time what is there).")
    ] = True,
    repeat: Annotated[int, typer.Option(min=1, help="Runs of each report.")] = 3,
    verify: Annotated[
        bool, typer.Option(help="Check the ledger's invariants after loading.")
    ] = True,
) -> None:
    """Load a bank of a million transactions, then time every report on it."""
    from ledgerbank.analytics import bulkload
    from ledgerbank.analytics.benchmark import time_reports
    from ledgerbank.migrations import upgrade

    settings = get_settings()
    database = _database(database_url)
    try:
        upgrade(database.engine)
        if load:
            bulkload.check_empty(database, force=force)
            plan = bulkload.Plan(
                transactions=transactions, customers=customers, months=months, seed=seed
            )
            loader = bulkload.Loader(database, plan)
            with _progress() as progress:
                task = progress.add_task("loading transactions", total=transactions)
                written = loader.run(lambda n: progress.advance(task, n))
            console.print(
                f"loaded {written:,} transactions of {customers:,} customers over {months} months"
            )
            if verify:
                with console.status("checking the ledger's invariants"), database.read() as conn:
                    found = integrity.violations(conn, limit=10)
                if found:
                    console.print(f"[red]ledger NOT sound after loading[/red]: {found}")
                    raise typer.Exit(1)
                console.print("[green]ledger sound[/green] after loading")
        with console.status("timing reports") as status:
            timings = time_reports(
                database, settings, repeat=repeat, on_report=lambda n: status.update(f"timing {n}")
            )
        busy = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        table = Table(
            title=f"reports on {database.dialect} ({repeat} runs each)",
            caption=(
                "wall clock of the service call in a read transaction; cpu: this process's "
                "CPU time (on SQLite the query's own work, elsewhere only the client's); "
                f"load average when done: {busy:.1f} on {os.cpu_count()} CPUs"
            ),
        )
        for column in ("report", "rows", "best ms", "median ms", "cpu ms", "< 1 s"):
            table.add_column(column, justify="left" if column == "report" else "right")
        for timing in timings:
            fast = timing.median_ms < 1000
            table.add_row(
                timing.name,
                f"{timing.rows:,}",
                f"{timing.best_ms:,.0f}",
                f"{timing.median_ms:,.0f}",
                f"{timing.cpu_ms:,.0f}",
                "[green]yes[/green]" if fast else "[red]no[/red]",
            )
        console.print(table)
    finally:
        database.dispose()
