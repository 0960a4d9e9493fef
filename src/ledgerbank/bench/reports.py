"""Timing every report on a loaded bank: the same service calls the routes make, in read
transactions, each repeated and its best and median wall-clock time kept."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from sqlalchemy import Connection, func, select

from ledgerbank.analytics import compliance_metrics, reports, spending
from ledgerbank.analytics.custom_reports import Filters, ReportSpec, run_report
from ledgerbank.analytics.periods import Period
from ledgerbank.bench import bulkload
from ledgerbank.config import Settings, get_settings
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.ledger import integrity
from ledgerbank.ledger.tables import accounts, entries
from ledgerbank.migrations import upgrade

Report = Callable[[Connection], Any]


@dataclass(frozen=True)
class Timing:
    name: str
    rows: int
    seconds: list[float]  # wall clock, per run
    cpu_seconds: list[float]  # this process's CPU time, per run (SQLite's work is in-process)

    @property
    def best_ms(self) -> float:
        return min(self.seconds) * 1000

    @property
    def median_ms(self) -> float:
        return statistics.median(self.seconds) * 1000

    @property
    def cpu_ms(self) -> float:
        return statistics.median(self.cpu_seconds) * 1000


def _size(answer: Any) -> int:
    """Rows (or points) in an answer, for the table."""
    if hasattr(answer, "rows"):
        return len(answer.rows)
    if isinstance(answer, dict):
        for key in ("points", "rows", "by_type", "by_month", "history", "alerts_by_rule"):
            if key in answer:
                return len(answer[key])
    return 1


def busiest_customer(conn: Connection) -> int:
    """A customer with plenty of history: the owner of the account with the most entries
    among a sample (a full scan for the very busiest would itself be a report)."""
    sample = (
        select(accounts.c.id, accounts.c.owner_id)
        .where(accounts.c.is_internal == 0)
        .order_by(accounts.c.id)
        .limit(200)
        .subquery()
    )
    found = conn.execute(
        select(sample.c.owner_id)
        .join(entries, entries.c.account_id == sample.c.id)
        .group_by(sample.c.owner_id)
        .order_by(func.count().desc())
        .limit(1)
    ).scalar()
    return int(found or 0)


def suite(now: datetime, customer: int, settings: Settings) -> list[tuple[str, Report]]:
    """Every report the API offers, with the parameters a busy day would use."""
    everything = Period()
    last_30 = Period(now - timedelta(days=30), None)
    last_year = Period(now - timedelta(days=365), None)

    def custom(group_by: list[str], metrics: list[str], **options: Any) -> Report:
        spec = ReportSpec(group_by=group_by, metrics=metrics, **options)
        return lambda conn: run_report(conn, spec)

    def trend(interval: str, metric: str, period: Period, by_type: bool = False) -> Report:
        query = reports.TrendQuery(interval, metric, period, by_type=by_type)
        return lambda conn: reports.trends(conn, query, now=now)

    return [
        ("kpis, all history", lambda conn: reports.kpis(conn, everything, now=now)),
        ("kpis, last 30 days", lambda conn: reports.kpis(conn, last_30, now=now)),
        ("trend: count by day, all history", trend("day", "count", everything)),
        ("trend: volume by week and type, last year", trend("week", "volume", last_year, True)),
        ("trend: volume by month, all history", trend("month", "volume", everything)),
        ("trend: new customers by month", trend("month", "new_customers", everything)),
        (
            "custom: type x status, all metrics",
            custom(["type", "status"], ["count", "sum", "avg", "min", "max"]),
        ),
        ("custom: month x currency, count+sum", custom(["month"], ["count", "sum"])),
        ("custom: account type, count+sum", custom(["account_type"], ["count", "sum"])),
        (
            "custom: top 100 customers by sum",
            custom(["customer"], ["count", "sum"], order_by="-sum", limit=100),
        ),
        ("custom: verdict x type, count", custom(["verdict", "type"], ["count"])),
        (
            "custom: withdrawals 100-500 by day, last year",
            custom(
                ["day"],
                ["count", "sum"],
                filters=Filters(
                    types=["withdrawal"],
                    min_amount=Decimal(100),
                    max_amount=Decimal(500),
                    period=last_year,
                ),
            ),
        ),
        (
            "spending summary (one customer)",
            lambda conn: spending.spending_summary(
                conn,
                owner_id=customer,
                account_id=None,
                currency=None,
                period=everything,
                today=now,
            ),
        ),
        (
            "spending prediction (one customer)",
            lambda conn: spending.spending_prediction(
                conn, owner_id=customer, account_id=None, currency=None, today=now
            ),
        ),
        (
            "compliance metrics, last 30 days",
            lambda conn: compliance_metrics.compliance_metrics(
                conn, last_30, settings=settings, now=now
            ),
        ),
        (
            "compliance metrics, all history",
            lambda conn: compliance_metrics.compliance_metrics(
                conn, everything, settings=settings, now=now
            ),
        ),
    ]


def time_reports(
    database: Database,
    settings: Settings,
    *,
    repeat: int = 3,
    on_report: Callable[[str], None] | None = None,
) -> list[Timing]:
    """Run each report `repeat` times, each in its own read transaction."""
    now = utcnow()
    with database.read() as conn:
        customer = busiest_customer(conn)
    found = []
    for name, report in suite(now, customer, settings):
        if on_report is not None:
            on_report(name)
        seconds, cpu, rows = [], [], 0
        for _ in range(repeat):
            started, used = time.perf_counter(), time.process_time()
            with database.read() as conn:
                rows = _size(report(conn))
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - used)
        found.append(Timing(name, rows, seconds, cpu))
    return found


console = Console()


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
    settings = get_settings()
    database = Database.from_url(database_url or settings.resolved_database_url, pool_size=2)
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
