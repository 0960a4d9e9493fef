"""The aggregation every report runs: transactions grouped and summed by the database.

PostgreSQL and MySQL get one GROUP BY with the joins it needs; they aggregate with hash tables.
SQLite aggregates by sorting unless an index already yields the rows in group order, so there
it runs in two steps. Step one groups the matching transactions by day (or, when an account's
attributes are asked for, by account first), currency, type and status: the leading columns
of a reporting index (migration 0003), which SQLite reads in order, aggregating as it goes
instead of sorting every row. Step two regroups those partial sums by the dimensions asked
for: day, week and month from the day, account type and customer from the account (joined
once per account, not once per transaction). Count, sum, min and max regroup exactly; an
average is a sum over a count.

A transaction's *account* is the account money left (withdrawal, transfer, fee) or, for a
deposit, the account it entered: COALESCE(from_account_id, to_account_id).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal,
    literal_column,
    select,
    true,
    union_all,
)

from ledgerbank import errors
from ledgerbank.analytics.amounts import amount_condition
from ledgerbank.analytics.periods import (
    INTERVALS,
    Period,
    bucket,
    bucket_key,
    bucket_label,
    label_of,
)
from ledgerbank.ledger.tables import accounts, transactions
from ledgerbank.risk.scores import newest_only
from ledgerbank.risk.tables import risk_scores

UNSCORED = "UNSCORED"
VERDICTS = ("SAFE", "SUSPICIOUS", "CRITICAL", UNSCORED)
TIME_DIMENSIONS = frozenset(INTERVALS)
ACCOUNT_DIMENSIONS = frozenset({"account_type", "customer"})
PLAIN_DIMENSIONS = ("currency", "type", "status")
MEASURES = ("count", "sum", "min", "max")

account = accounts.alias("account")


@dataclass(frozen=True)
class Filters:
    """What to count: every field narrows the transactions; empty means no restriction."""

    types: Sequence[str] = ()
    statuses: Sequence[str] = ()
    account_types: Sequence[str] = ()
    currencies: Sequence[str] = ()
    customer_ids: Sequence[int] = ()
    verdicts: Sequence[str] = ()
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    period: Period = field(default_factory=Period)


def day_key(dialect: str) -> ColumnElement[Any]:
    """A transaction's day, exactly as the SQLite reporting index spells it (migration 0003)."""
    created = transactions.c.created_at
    if dialect == "sqlite":
        return func.substr(created, literal_column("1"), literal_column("10"))
    if dialect == "postgresql":
        return func.date_trunc(literal_column("'day'"), created)
    return func.date(created)


def account_key() -> ColumnElement[Any]:
    """A transaction's account, as the SQLite account reporting index spells it."""
    return func.coalesce(transactions.c.from_account_id, transactions.c.to_account_id)


def _where(filters: Filters, dialect: str, verdict: ColumnElement[str]) -> list[Any]:
    period = filters.period
    where: list[Any] = period.clauses(transactions.c.created_at)
    if dialect == "sqlite":
        # The same bounds by day, which the day index can seek on (the exact ones still hold).
        if period.start is not None:
            where.append(day_key(dialect) >= label_of(period.start, "day"))
        if period.end is not None:
            where.append(
                day_key(dialect) <= label_of(period.end - timedelta(microseconds=1), "day")
            )
    if filters.types:
        where.append(transactions.c.type.in_(filters.types))
    if filters.statuses:
        where.append(transactions.c.status.in_(filters.statuses))
    if filters.currencies:
        where.append(transactions.c.currency.in_(filters.currencies))
    if filters.min_amount is not None or filters.max_amount is not None:
        where.append(amount_condition(filters.min_amount, filters.max_amount))
    if filters.customer_ids:
        owned = select(accounts.c.id).where(accounts.c.owner_id.in_(filters.customer_ids))
        where.append(account_key().in_(owned))
    if filters.account_types:
        kinds = select(accounts.c.id).where(accounts.c.account_type.in_(filters.account_types))
        where.append(account_key().in_(kinds))
    if filters.verdicts:
        where.append(verdict.in_(filters.verdicts))
    return where


def aggregate(
    dimensions: Sequence[str],
    filters: Filters,
    dialect: str,
    measures: Sequence[str] = MEASURES,
) -> Select[Any]:
    """SELECT <dimensions>, count [, sum, min, max of the amount]: one row per group."""
    dims = list(dict.fromkeys(dimensions))
    known = TIME_DIMENSIONS | ACCOUNT_DIMENSIONS | {"verdict", *PLAIN_DIMENSIONS}
    unknown = [d for d in dims if d not in known]
    if unknown:
        raise errors.ValidationFailed(f"cannot group by {', '.join(unknown)}")
    wanted = [m for m in MEASURES if m == "count" or m in measures]
    if dialect == "sqlite":
        return _two_steps(dims, filters, dialect, wanted)
    return _one_step(dims, filters, dialect, wanted)


def _one_step(dims: list[str], filters: Filters, dialect: str, wanted: list[str]) -> Select[Any]:
    """PostgreSQL and MySQL: one hash GROUP BY; with an account's attributes, the transactions
    are first summed per account (cheaper than joining the account to every transaction)."""
    verdict = func.coalesce(risk_scores.c.verdict, UNSCORED)
    source: Any = transactions
    if "verdict" in dims or filters.verdicts:
        source = source.outerjoin(
            risk_scores, and_(risk_scores.c.transaction_id == transactions.c.id, newest_only())
        )
    by_account = bool(ACCOUNT_DIMENSIONS & set(dims))
    keys: list[Any] = [account_key().label("account_id")] if by_account else []
    for name in dims:
        if name in TIME_DIMENSIONS:
            keys.append(bucket_key(transactions.c.created_at, name, dialect).label(name))
        elif name == "verdict":
            keys.append(verdict.label(name))
        elif name not in ACCOUNT_DIMENSIONS:
            keys.append(transactions.c[name].label(name))
    amount = transactions.c.amount
    summed = (
        select(
            *keys,
            func.count().label("count"),
            *(getattr(func, m)(amount).label(m) for m in wanted if m != "count"),
        )
        .select_from(source)
        .where(*_where(filters, dialect, verdict))
    )
    if keys:
        summed = summed.group_by(*keys)
    if not by_account:
        if not TIME_DIMENSIONS & set(dims):
            return summed
        partial = summed.subquery("partial")  # the time buckets get their labels per group
        labels = [
            bucket_label(partial.c[d], d, dialect).label(d)
            if d in TIME_DIMENSIONS
            else partial.c[d]
            for d in dims
        ]
        return select(*labels, *(partial.c[m] for m in wanted))
    partial = summed.subquery("partial")
    columns: list[Any] = []
    for name in dims:
        if name == "account_type":
            columns.append(account.c.account_type.label(name))
        elif name == "customer":
            columns.append(account.c.owner_id.label(name))
        elif name in TIME_DIMENSIONS:
            columns.append(bucket_label(partial.c[name], name, dialect).label(name))
        else:
            columns.append(partial.c[name])
    regroup: dict[str, Any] = {"count": func.sum, "sum": func.sum, "min": func.min, "max": func.max}
    return (
        select(*columns, *(regroup[m](partial.c[m]).label(m) for m in wanted))
        .select_from(partial.outerjoin(account, account.c.id == partial.c.account_id))
        .group_by(*columns)
    )


def _two_steps(dims: list[str], filters: Filters, dialect: str, wanted: list[str]) -> Select[Any]:
    """SQLite: partial sums in a reporting index's order, then regrouped (see the module)."""
    by_time = bool(TIME_DIMENSIONS & set(dims))
    by_account = bool(ACCOUNT_DIMENSIONS & set(dims))
    with_verdict = "verdict" in dims or bool(filters.verdicts)
    verdict = func.coalesce(risk_scores.c.verdict, UNSCORED)
    # Step one: partial sums by the reporting index's leading columns.
    keys: list[Any] = []
    if by_account:
        keys.append(account_key().label("account_id"))
    if by_time or not by_account:
        keys.append(day_key(dialect).label("day"))
    if by_account:  # the account index has the day after these
        keys = [keys[0], *(transactions.c[c] for c in PLAIN_DIMENSIONS), *keys[1:]]
    else:
        keys += [transactions.c[c] for c in PLAIN_DIMENSIONS]
    source: Any = transactions
    if with_verdict:
        source = source.outerjoin(
            risk_scores, and_(risk_scores.c.transaction_id == transactions.c.id, newest_only())
        )
    amount = transactions.c.amount
    # By verdict: one set of measures per verdict (conditional aggregates), so that the
    # partial sums still follow the index's order; step two turns them back into rows.
    names = [v for v in VERDICTS if not filters.verdicts or v in filters.verdicts]
    splits: list[str | None] = list(names) if "verdict" in dims else [None]
    partial_measures: list[Any] = []
    for name in splits:
        suffix = "" if name is None else f"_{name.lower()}"
        is_it = (
            risk_scores.c.verdict.is_(None) if name == UNSCORED else risk_scores.c.verdict == name
        )
        picked = amount if name is None else case((is_it, amount))
        for measure in wanted:
            if measure == "count":
                counted = func.count() if name is None else func.sum(case((is_it, 1), else_=0))
                partial_measures.append(counted.label(f"count{suffix}"))
            else:
                partial_measures.append(getattr(func, measure)(picked).label(f"{measure}{suffix}"))
    partial = (
        select(*keys, *partial_measures)
        .select_from(source)
        .where(*_where(filters, dialect, verdict))
        .group_by(*keys)
        .subquery("partial")
    )
    # Step two: regroup by what was asked.
    regrouped: Any = partial
    if by_account:
        regrouped = regrouped.outerjoin(account, account.c.id == partial.c.account_id)
    verdicts: Any = None
    if "verdict" in dims:
        listed = union_all(*(select(literal(name).label("verdict")) for name in names))
        verdicts = listed.subquery("verdicts")
        regrouped = regrouped.join(verdicts, true())

    def partial_of(measure: str) -> Any:
        if verdicts is None:
            return partial.c[measure]
        return case(
            *((verdicts.c.verdict == n, partial.c[f"{measure}_{n.lower()}"]) for n in names)
        )

    columns: list[Any] = []
    for name in dims:
        if name in TIME_DIMENSIONS:
            columns.append(bucket(partial.c.day, name, dialect).label(name))
        elif name == "account_type":
            columns.append(account.c.account_type.label(name))
        elif name == "customer":
            columns.append(account.c.owner_id.label(name))
        elif name == "verdict":
            columns.append(verdicts.c.verdict.label(name))
        else:
            columns.append(partial.c[name].label(name))
    count = func.coalesce(func.sum(partial_of("count")), 0)
    regroup: dict[str, Any] = {"sum": func.sum, "min": func.min, "max": func.max}
    query = select(
        *columns,
        count.label("count"),
        *(regroup[m](partial_of(m)).label(m) for m in wanted if m != "count"),
    ).select_from(regrouped)
    if verdicts is not None:
        query = query.having(count > 0)  # no row for a verdict no transaction had
    return query.group_by(*columns) if columns else query
