"""Reports for financial managers: KPIs, trends over time, and custom grouped reports.

Every figure is an aggregate the database computes (GROUP BY over indexed columns); Python only
formats the few rows that come back. Money is never summed across currencies: any money
figure is grouped by currency as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, or_, select

from ledgerbank import errors
from ledgerbank.analytics.amounts import BOOKED, average, money
from ledgerbank.analytics.cube import Filters, aggregate
from ledgerbank.analytics.periods import Period, bucket, span_labels
from ledgerbank.identity.tables import users
from ledgerbank.ledger.tables import accounts, entries

TREND_METRICS = ("count", "volume", "average", "blocked", "new_accounts", "new_customers")


def _customer_accounts() -> ColumnElement[bool]:
    return accounts.c.is_internal == 0


# --- KPIs -----------------------------------------------------------------------------------


def kpis(conn: Connection, period: Period, *, now: datetime) -> dict[str, Any]:
    """Counts and volumes by type, blocked attempts, activity, growth and average balances."""
    dialect = conn.dialect.name
    booked = Filters(statuses=BOOKED, period=period)
    by_type = [
        {
            "type": row.type,
            "currency": row.currency,
            "count": int(row.count),
            "volume": money(row.sum, row.currency),
        }
        for row in conn.execute(
            aggregate(["type", "currency"], booked, dialect, ("count", "sum")).order_by(
                "type", "currency"
            )
        ).mappings()
    ]
    blocked = (
        conn.execute(
            aggregate([], Filters(statuses=["blocked"], period=period), dialect, ("count",))
        )
        .mappings()
        .one()["count"]
    )
    active = active_accounts(conn, period)
    new_customers = conn.execute(
        select(func.count()).where(users.c.role == "customer", *period.clauses(users.c.created_at))
    ).scalar_one()
    new_accounts = conn.execute(
        select(func.count()).where(_customer_accounts(), *period.clauses(accounts.c.created_at))
    ).scalar_one()
    as_of = period.end if period.end is not None and period.end <= now else None
    return {
        **period.as_dict(),
        "transaction_count": sum(item["count"] for item in by_type),
        "by_type": by_type,
        "blocked_count": int(blocked),
        "active_accounts": active,
        "new_customers": int(new_customers),
        "new_accounts": int(new_accounts),
        "balance_as_of": as_of or now,
        "average_balance": average_balances(conn, as_of),
        "alert_counts": alert_counts(conn, period),
    }


def active_accounts(conn: Connection, period: Period) -> int:
    """Customer accounts with an entry in the period: one index probe per account
    (entries are indexed by account and time), never a scan of every entry."""
    moved = (
        select(entries.c.id)
        .where(entries.c.account_id == accounts.c.id, *period.clauses(entries.c.posted_at))
        .correlate(accounts)
        .exists()
    )
    query = select(func.count()).where(accounts.c.is_internal == 0, moved)
    return int(conn.execute(query).scalar_one())


def average_balances(conn: Connection, as_of: datetime | None) -> list[dict[str, Any]]:
    """Customer accounts' average balance per currency, now or at a past moment."""
    if as_of is None:
        balance: Any = accounts.c.balance
        opened = _customer_accounts()
    else:
        # The balance at a moment is the balance after the account's last entry before it.
        balance = func.coalesce(
            select(entries.c.balance_after)
            .where(entries.c.account_id == accounts.c.id, entries.c.posted_at < as_of)
            .order_by(entries.c.posted_at.desc(), entries.c.id.desc())
            .limit(1)
            .correlate(accounts)
            .scalar_subquery(),
            0,
        )
        # Opened before the moment, or holding entries from before it (imported history).
        earlier = (
            select(entries.c.id)
            .where(entries.c.account_id == accounts.c.id, entries.c.posted_at < as_of)
            .correlate(accounts)
            .exists()
        )
        opened = and_(_customer_accounts(), or_(accounts.c.created_at < as_of, earlier))
    rows = conn.execute(
        select(
            accounts.c.currency,
            func.count().label("accounts"),
            func.sum(balance).label("total"),
        )
        .where(opened)
        .group_by(accounts.c.currency)
        .order_by(accounts.c.currency)
    )
    return [
        {
            "currency": row.currency,
            "accounts": int(row.accounts),
            "total_balance": money(int(row.total or 0), row.currency),
            "average_balance": average(int(row.total or 0), int(row.accounts), row.currency),
        }
        for row in rows
    ]


def alert_counts(conn: Connection, period: Period) -> dict[str, Any]:
    """Alerts raised in the period and open now, per queue; empty until risk alerts exist."""
    from ledgerbank.analytics import compliance_metrics

    return compliance_metrics.alert_counts(conn, period)


# --- trends ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrendQuery:
    interval: str
    metric: str
    period: Period
    types: Sequence[str] = ()
    currencies: Sequence[str] = ()
    by_type: bool = False


def trends(conn: Connection, query: TrendQuery, *, now: datetime) -> dict[str, Any]:
    """A time series of one metric, by day, week or month; money metrics per currency."""
    if query.metric not in TREND_METRICS:
        raise errors.ValidationFailed(f"metric must be one of {', '.join(TREND_METRICS)}")
    dialect = conn.dialect.name
    if query.metric in ("new_accounts", "new_customers"):
        table = accounts if query.metric == "new_accounts" else users
        period_column = bucket(table.c.created_at, query.interval, dialect).label("period")
        where: list[ColumnElement[bool]] = [
            _customer_accounts() if table is accounts else users.c.role == "customer",
            *query.period.clauses(table.c.created_at),
        ]
        stmt: Any = select(period_column, func.count().label("value")).where(*where)
        series_keys: list[str] = []
        stmt = stmt.group_by(period_column)
    else:
        status = ["blocked"] if query.metric == "blocked" else list(BOOKED)
        filters = Filters(
            types=query.types, currencies=query.currencies, statuses=status, period=query.period
        )
        dims = [query.interval] + (["type"] if query.by_type else [])
        if query.metric in ("volume", "average"):
            dims.append("currency")
        series_keys = dims[1:]
        stmt = aggregate(dims, filters, dialect, ("count", "sum")).subquery("trend")
        stmt = select(
            stmt.c[query.interval].label("period"),
            *(stmt.c[k] for k in series_keys),
            stmt.c["count"].label("value"),
            stmt.c["sum"].label("total"),
        )
    rows = list(conn.execute(stmt).mappings())
    labels = span_labels(query.period, {row["period"] for row in rows}, query.interval, now)
    # One series per type and/or currency, each listing every period, empty ones too.
    names = series_keys
    series: dict[tuple[str, ...], dict[str, Any]] = {} if names else {(): {}}
    for row in rows:
        series.setdefault(tuple(row[name] for name in names), {})[row["period"]] = row
    points = []
    for key in sorted(series):
        fields = dict(zip(names, key, strict=True))
        currency = str(fields.get("currency"))
        for label in labels:
            found = series[key].get(label)
            count = int(found["value"]) if found is not None else 0
            total = int(found.get("total") or 0) if found is not None else 0
            value: int | str | None = count
            if query.metric == "volume":
                value = money(total, currency)
            elif query.metric == "average":
                value = average(total, count, currency)
            points.append({"period": label, **fields, "value": value})
    return {
        "interval": query.interval,
        "metric": query.metric,
        **query.period.as_dict(),
        "points": points,
    }
