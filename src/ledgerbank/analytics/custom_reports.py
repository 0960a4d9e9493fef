"""Custom reports: transactions grouped by any of a fixed set of dimensions, with chosen metrics.

A transaction belongs to one customer account, its *account*: the account money left (a
withdrawal, transfer, fee) or, for a deposit, the account it entered. Its account type and
customer come from that account; its verdict from the risk score (UNSCORED when it has none).
Metrics are over the transaction amount; count, sum, min and max are computed by the database,
an average is the exact sum over the count. A money metric always groups by currency too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal, get_args

from sqlalchemy import Connection, Select, func, select
from sqlalchemy.sql import ColumnElement

from ledgerbank import errors
from ledgerbank.analytics.periods import Period, bucket
from ledgerbank.analytics.reports import amount_condition, average, money
from ledgerbank.identity.tables import users
from ledgerbank.kit.exports import ColumnKind, ExportColumn
from ledgerbank.ledger.tables import accounts, transactions

Dimension = Literal[
    "type", "status", "account_type", "currency", "day", "week", "month", "customer", "verdict"
]
Metric = Literal["count", "sum", "avg", "min", "max"]
VerdictName = Literal["SAFE", "SUSPICIOUS", "CRITICAL", "UNSCORED"]
DIMENSIONS: tuple[str, ...] = get_args(Dimension)
METRICS: tuple[str, ...] = get_args(Metric)
MONEY_METRICS = ("sum", "avg", "min", "max")
UNSCORED = "UNSCORED"
DEFAULT_ROW_LIMIT = 1000
MAX_ROW_LIMIT = 100_000

account = accounts.alias("account")
customer = users.alias("customer")


@dataclass(frozen=True)
class Filters:
    types: Sequence[str] = ()
    statuses: Sequence[str] = ()
    account_types: Sequence[str] = ()
    currencies: Sequence[str] = ()
    customer_ids: Sequence[int] = ()
    verdicts: Sequence[str] = ()
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    period: Period = field(default_factory=Period)


@dataclass(frozen=True)
class ReportSpec:
    group_by: Sequence[str]
    metrics: Sequence[str] = ("count", "sum")
    filters: Filters = field(default_factory=Filters)
    order_by: str | None = None
    limit: int = DEFAULT_ROW_LIMIT


@dataclass(frozen=True)
class Report:
    group_by: list[str]
    metrics: list[str]
    columns: list[ExportColumn]
    rows: list[dict[str, Any]]
    truncated: bool


def _risk_scores() -> Any:
    """The risk score table, once the risk domain has created it."""
    from ledgerbank.risk.tables import risk_scores

    return risk_scores


def _verdict() -> ColumnElement[str]:
    return func.coalesce(_risk_scores().c.verdict, UNSCORED)


# Each dimension: its SQL expression (given the dialect) and the joins it needs.
_EXPRESSIONS: dict[str, tuple[Callable[[str], ColumnElement[Any]], frozenset[str]]] = {
    "type": (lambda d: transactions.c.type, frozenset()),
    "status": (lambda d: transactions.c.status, frozenset()),
    "currency": (lambda d: transactions.c.currency, frozenset()),
    "account_type": (lambda d: account.c.account_type, frozenset({"account"})),
    "customer": (lambda d: account.c.owner_id, frozenset({"account"})),
    "verdict": (lambda d: _verdict(), frozenset({"risk"})),
    "day": (lambda d: bucket(transactions.c.created_at, "day", d), frozenset()),
    "week": (lambda d: bucket(transactions.c.created_at, "week", d), frozenset()),
    "month": (lambda d: bucket(transactions.c.created_at, "month", d), frozenset()),
}
_KINDS: dict[str, ColumnKind] = {
    "customer": "integer",
    "day": "date",
    "week": "date",
    "month": "month",
}


def _dimensions(spec: ReportSpec) -> list[str]:
    dims = list(dict.fromkeys(spec.group_by))
    unknown = [d for d in dims if d not in DIMENSIONS]
    if unknown:
        raise errors.ValidationFailed(f"cannot group by {', '.join(unknown)}")
    if any(m in MONEY_METRICS for m in spec.metrics) and "currency" not in dims:
        dims.append("currency")  # amounts are never added up across currencies
    return dims


def _where(spec: ReportSpec) -> tuple[list[ColumnElement[bool]], set[str]]:
    f = spec.filters
    where: list[ColumnElement[bool]] = f.period.clauses(transactions.c.created_at)
    joins: set[str] = set()
    if f.types:
        where.append(transactions.c.type.in_(f.types))
    if f.statuses:
        where.append(transactions.c.status.in_(f.statuses))
    if f.currencies:
        where.append(transactions.c.currency.in_(f.currencies))
    if f.account_types:
        where.append(account.c.account_type.in_(f.account_types))
        joins.add("account")
    if f.customer_ids:
        where.append(account.c.owner_id.in_(f.customer_ids))
        joins.add("account")
    if f.verdicts:
        where.append(_verdict().in_(f.verdicts))
        joins.add("risk")
    if f.min_amount is not None or f.max_amount is not None:
        where.append(amount_condition(f.min_amount, f.max_amount))
    return where, joins


def _source(joins: set[str]) -> Any:
    source: Any = transactions
    if "account" in joins:
        source = source.join(
            account,
            account.c.id
            == func.coalesce(transactions.c.from_account_id, transactions.c.to_account_id),
            isouter=True,
        )
    if "risk" in joins:
        scores = _risk_scores()
        source = source.join(scores, scores.c.transaction_id == transactions.c.id, isouter=True)
    return source


def build_query(spec: ReportSpec, dialect: str) -> tuple[Select[Any], list[str]]:
    """The one SELECT ... GROUP BY that computes the report (customers named afterwards)."""
    if not spec.metrics:
        raise errors.ValidationFailed("name at least one metric")
    unknown = [m for m in spec.metrics if m not in METRICS]
    if unknown:
        raise errors.ValidationFailed(f"unknown metrics: {', '.join(unknown)}")
    dims = _dimensions(spec)
    where, joins = _where(spec)
    columns: list[ColumnElement[Any]] = []
    for name in dims:
        expression, needs = _EXPRESSIONS[name]
        joins |= needs
        columns.append(expression(dialect).label(name))
    amount = transactions.c.amount
    wanted = set(spec.metrics) | ({"count", "sum"} if "avg" in spec.metrics else set())
    measures = [
        getattr(func, m)(amount).label(m) if m != "count" else func.count().label("count")
        for m in ("count", "sum", "min", "max")
        if m in wanted
    ]
    grouped = select(*columns, *measures).select_from(_source(joins)).where(*where)
    if columns:
        grouped = grouped.group_by(*columns)
    inner = grouped.subquery("report")
    outer: list[Any] = [inner.c[name] for name in dims]
    source: Any = inner
    if "customer" in dims:
        # Names are looked up for the few grouped rows, not joined to every transaction.
        outer.append(customer.c.username.label("customer_username"))
        source = inner.outerjoin(customer, customer.c.id == inner.c.customer)
    outer += [inner.c[m.name] for m in measures]
    query = select(*outer).select_from(source)
    return query.order_by(*_order(spec, inner, dims)), dims


def _order(spec: ReportSpec, inner: Any, dims: list[str]) -> list[Any]:
    keys = [inner.c[name] for name in dims]
    if spec.order_by is None:
        return keys
    name = spec.order_by.removeprefix("-")
    if name == "avg" or (name not in dims and name not in spec.metrics):
        raise errors.ValidationFailed(f"cannot order by {spec.order_by!r}: not in the report")
    target = inner.c[name]
    return [target.desc() if spec.order_by.startswith("-") else target.asc(), *keys]


def run_report(conn: Connection, spec: ReportSpec) -> Report:
    """Run the report; `truncated` says more groups existed than `limit`."""
    if not 1 <= spec.limit <= MAX_ROW_LIMIT:
        raise errors.ValidationFailed(f"limit must be between 1 and {MAX_ROW_LIMIT}")
    query, dims = build_query(spec, conn.dialect.name)
    found = list(conn.execute(query.limit(spec.limit + 1)).mappings())
    truncated = len(found) > spec.limit
    rows = [_row(raw, dims, spec.metrics) for raw in found[: spec.limit]]
    names = dims + (["customer_username"] if "customer" in dims else [])
    columns = [ExportColumn(d, _KINDS.get(d, "text")) for d in names] + [
        ExportColumn(m, "integer")
        if m == "count"
        else ExportColumn(m, "decimal", currency_column="currency")
        for m in spec.metrics
    ]
    return Report(dims, list(spec.metrics), columns, rows, truncated)


def _row(raw: Any, dims: list[str], metrics: Sequence[str]) -> dict[str, Any]:
    row: dict[str, Any] = {d: raw[d] for d in dims}
    if "customer" in row:
        row["customer"] = None if row["customer"] is None else int(row["customer"])
        row["customer_username"] = raw["customer_username"]
    currency = str(row.get("currency"))
    for metric in metrics:
        if metric == "count":
            row["count"] = int(raw["count"])
        elif metric == "avg":
            row["avg"] = average(int(raw["sum"] or 0), int(raw["count"]), currency)
        else:
            row[metric] = money(raw[metric], currency)
    return row
