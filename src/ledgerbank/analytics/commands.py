"""`ledgerbank analytics ...`: the forecast backtest."""

from __future__ import annotations

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
from ledgerbank.kit.read_database import read_only_database

app = typer.Typer(help="Analytics: the spending forecast and its backtest.", no_args_is_help=True)
console = Console()

DatabaseUrl = Annotated[
    str,
    typer.Option(
        help="Database to read (default: LEDGERBANK_READ_DATABASE_URL, else "
        "LEDGERBANK_DATABASE_URL)."
    ),
]


def _database(url: str) -> Database:
    settings = get_settings()
    return read_only_database(
        url or settings.read_database_url or settings.resolved_database_url, pool_size=2
    )


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
