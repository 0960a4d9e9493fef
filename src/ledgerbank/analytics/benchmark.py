"""Timing every report on a loaded bank: the same service calls the routes make, in read
transactions, each repeated and its best and median wall-clock time kept."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from ledgerbank.analytics import compliance_metrics, reports, spending
from ledgerbank.analytics.custom_reports import Filters, ReportSpec, run_report
from ledgerbank.analytics.periods import Period
from ledgerbank.config import Settings
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.ledger.tables import accounts, entries

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
