"""Custom reports: transactions grouped by any of a fixed set of dimensions, with chosen metrics.

The grouping is the cube's (`analytics.cube`): a transaction's account type and customer come
from its account, its verdict from its risk score (UNSCORED when it has none). Metrics are over
the transaction amount; count, sum, min and max are computed by the database, an average is the
exact sum over the count. A money metric always groups by currency too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from sqlalchemy import Connection, Select, select

from ledgerbank import errors
from ledgerbank.analytics.amounts import average, money
from ledgerbank.analytics.cube import MEASURES, UNSCORED, Filters, aggregate
from ledgerbank.identity.tables import users
from ledgerbank.kit.exports import ColumnKind, ExportColumn

Dimension = Literal[
    "type", "status", "account_type", "currency", "day", "week", "month", "customer", "verdict"
]
Metric = Literal["count", "sum", "avg", "min", "max"]
VerdictName = Literal["SAFE", "SUSPICIOUS", "CRITICAL", "UNSCORED"]
DIMENSIONS: tuple[str, ...] = get_args(Dimension)
METRICS: tuple[str, ...] = get_args(Metric)
MONEY_METRICS = ("sum", "avg", "min", "max")
DEFAULT_ROW_LIMIT = 1000
MAX_ROW_LIMIT = 100_000

__all__ = ["UNSCORED", "Filters", "ReportSpec", "run_report"]

customer = users.alias("customer")


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


def build_query(spec: ReportSpec, dialect: str) -> tuple[Select[Any], list[str]]:
    """The report's SELECT: the cube's groups, customers named, ordered."""
    if not spec.metrics:
        raise errors.ValidationFailed("name at least one metric")
    unknown = [m for m in spec.metrics if m not in METRICS]
    if unknown:
        raise errors.ValidationFailed(f"unknown metrics: {', '.join(unknown)}")
    dims = _dimensions(spec)
    # The count always (an average needs it, and the sum); the rest as asked.
    needed = {"count", *spec.metrics} | ({"sum"} if "avg" in spec.metrics else set())
    measures = [m for m in MEASURES if m in needed]
    grouped = aggregate(dims, spec.filters, dialect, measures).subquery("report")
    outer: list[Any] = [grouped.c[name] for name in dims]
    source: Any = grouped
    if "customer" in dims:
        # Names are looked up for the few grouped rows, not joined to every transaction.
        outer.append(customer.c.username.label("customer_username"))
        source = grouped.outerjoin(customer, customer.c.id == grouped.c.customer)
    outer += [grouped.c[m] for m in measures]
    query = select(*outer).select_from(source)
    return query.order_by(*_order(spec, grouped, dims)), dims


def _order(spec: ReportSpec, grouped: Any, dims: list[str]) -> list[Any]:
    keys = [grouped.c[name] for name in dims]
    if spec.order_by is None:
        return keys
    name = spec.order_by.removeprefix("-")
    if name == "avg" or (name not in dims and name not in spec.metrics):
        raise errors.ValidationFailed(f"cannot order by {spec.order_by!r}: not in the report")
    target = grouped.c[name]
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
