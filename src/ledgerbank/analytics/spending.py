"""A customer's own money: income, expenses and net flow by month, and next month's spending.

Income is money credited to the customer's accounts, expenses money debited (withdrawals,
transfers out, fees). A transfer between two accounts of the same customer is neither.
Reversed transactions and their reversals are left out: together they moved nothing.
Every figure is summed by the database, grouped by month and currency.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, case, func, or_, select
from sqlalchemy.sql import ColumnElement

from ledgerbank import errors
from ledgerbank.analytics import forecast
from ledgerbank.analytics.periods import (
    Period,
    bucket,
    label_of,
    label_start,
    labels_between,
    previous_month,
    span_labels,
)
from ledgerbank.kit.money import normalize_currency, to_decimal_string
from ledgerbank.ledger.tables import accounts, entries, transactions

# Months of history a forecast looks at (enough for two seasons and a bit).
FORECAST_HISTORY_MONTHS = 36


def customer_accounts(
    conn: Connection, *, owner_id: int, account_id: int | None = None
) -> list[RowMapping]:
    """The customer's accounts, or the one asked for; another customer's account is not found."""
    query = (
        select(accounts)
        .where(accounts.c.owner_id == owner_id, accounts.c.is_internal == 0)
        .order_by(accounts.c.id)
    )
    if account_id is not None:
        query = query.where(accounts.c.id == account_id)
    found = list(conn.execute(query).mappings())
    if account_id is not None and not found:
        raise errors.NotFound(f"account {account_id} not found")
    return found


def pick_currency(owned: list[RowMapping], currency: str | None) -> str | None:
    """The currency the answer leads with: asked for, else that of the oldest account."""
    if currency:
        return normalize_currency(currency)
    return str(owned[0]["currency"]) if owned else None


def counts_as_flow() -> ColumnElement[bool]:
    """Transactions that are income or expense: posted, not reversals, not own transfers."""
    source = accounts.alias("source")
    destination = accounts.alias("destination")
    own_transfer = (
        select(source.c.id)
        .join(destination, destination.c.owner_id == source.c.owner_id)
        .where(
            source.c.id == transactions.c.from_account_id,
            destination.c.id == transactions.c.to_account_id,
        )
        .exists()
    )
    return and_(
        transactions.c.status == "posted",
        transactions.c.type != "reversal",
        or_(transactions.c.type != "transfer", ~own_transfer),
    )


@dataclass
class Flow:
    income: int = 0
    expenses: int = 0

    @property
    def net(self) -> int:
        return self.income - self.expenses


def monthly_flows(
    conn: Connection, account_ids: list[int], period: Period
) -> dict[str, dict[str, Flow]]:
    """{currency: {month: Flow}} over the accounts, summed by the database."""
    if not account_ids:
        return {}
    month = bucket(entries.c.posted_at, "month", conn.dialect.name).label("month")
    income = func.sum(case((entries.c.amount > 0, entries.c.amount), else_=0))
    expenses = func.sum(case((entries.c.amount < 0, -entries.c.amount), else_=0))
    query = (
        select(month, entries.c.currency, income.label("income"), expenses.label("expenses"))
        .join(transactions, transactions.c.id == entries.c.transaction_id)
        .where(
            entries.c.account_id.in_(account_ids),
            counts_as_flow(),
            *period.clauses(entries.c.posted_at),
        )
        .group_by(month, entries.c.currency)
    )
    flows: dict[str, dict[str, Flow]] = defaultdict(dict)
    for row in conn.execute(query):
        flows[row.currency][row.month] = Flow(int(row.income or 0), int(row.expenses or 0))
    return flows


def _summary_block(currency: str, by_month: dict[str, Flow], labels: list[str]) -> dict[str, Any]:
    total = Flow(
        sum(f.income for f in by_month.values()), sum(f.expenses for f in by_month.values())
    )

    def money(minor: int) -> str:
        return to_decimal_string(minor, currency)

    return {
        "currency": currency,
        "income": money(total.income),
        "expenses": money(total.expenses),
        "net_flow": money(total.net),
        "by_month": [
            {
                "month": label,
                "income": money(by_month.get(label, Flow()).income),
                "expenses": money(by_month.get(label, Flow()).expenses),
                "net_flow": money(by_month.get(label, Flow()).net),
            }
            for label in labels
        ],
    }


def spending_summary(
    conn: Connection,
    *,
    owner_id: int,
    account_id: int | None,
    currency: str | None,
    period: Period,
    today: datetime,
) -> dict[str, Any]:
    """Income, expenses and net flow for the period, by month, per currency."""
    owned = customer_accounts(conn, owner_id=owner_id, account_id=account_id)
    lead = pick_currency(owned, currency)
    flows = monthly_flows(conn, [int(a["id"]) for a in owned], period)
    months = {m for by_month in flows.values() for m in by_month}
    labels = span_labels(period, months, "month", today)
    currencies = sorted({str(a["currency"]) for a in owned} | set(flows))
    blocks = [_summary_block(c, flows.get(c, {}), labels) for c in currencies]
    head = next((b for b in blocks if b["currency"] == lead), None)
    if head is None:
        head = _summary_block(lead, {}, labels) if lead else _empty_block()
    return {
        **head,
        "account_id": account_id,
        **period.as_dict(),
        "currencies": blocks,
    }


def _empty_block() -> dict[str, Any]:
    return {"currency": None, "income": "0", "expenses": "0", "net_flow": "0", "by_month": []}


# --- spending history for forecasts ----------------------------------------------------


@dataclass
class SpendingHistory:
    """Complete months of spending (oldest first, gaps filled) and its recurring streams."""

    currency: str
    months: list[str] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    # Spending per payee (a counterparty account, or a type and description) and month.
    streams: dict[tuple[Any, ...], dict[str, int]] = field(default_factory=dict)

    def as_series(self) -> forecast.Series:
        return forecast.Series(self.months, self.totals, self.streams)


def _payee_columns() -> list[ColumnElement[Any]]:
    """Who the money went to: the other account of a transfer, else type and description."""
    is_transfer = transactions.c.type == "transfer"
    return [
        transactions.c.type.label("payee_type"),
        case((is_transfer, transactions.c.to_account_id), else_=None).label("payee_account"),
        case((is_transfer, None), else_=transactions.c.description).label("payee_text"),
    ]


def spending_histories(
    conn: Connection, account_ids: list[int] | None, *, before_month: str, months: int
) -> dict[tuple[int | None, str], SpendingHistory]:
    """{(account id or None, currency): history} of the complete months before `before_month`.

    With `account_ids` those accounts are taken together (under account None); with None every
    customer account of the bank gets its own history (the backtest uses that).
    """
    month = bucket(entries.c.posted_at, "month", conn.dialect.name).label("month")
    start = before_month
    for _ in range(months):
        start = previous_month(start)
    window = Period(label_start(start, "month"), label_start(before_month, "month"))
    scope = window.clauses(entries.c.posted_at)
    per_account: list[Any] = []
    if account_ids is None:
        internal = select(accounts.c.id).where(accounts.c.is_internal == 1).scalar_subquery()
        scope.append(entries.c.account_id.not_in(internal))
        per_account = [entries.c.account_id]
    else:
        scope.append(entries.c.account_id.in_(account_ids))
    spent = func.sum(case((entries.c.amount < 0, -entries.c.amount), else_=0)).label("spent")
    # Any entry at all (an own transfer too) starts an account's history.
    first_seen = (
        select(*per_account, entries.c.currency, func.min(entries.c.posted_at).label("first"))
        .where(*scope)
        .group_by(*per_account, entries.c.currency)
    )
    monthly = (
        select(*per_account, entries.c.currency, month, spent)
        .join(transactions, transactions.c.id == entries.c.transaction_id)
        .where(*scope, counts_as_flow())
        .group_by(*per_account, entries.c.currency, month)
    )
    payees = _payee_columns()
    by_payee = (
        select(*per_account, entries.c.currency, month, *payees, spent)
        .join(transactions, transactions.c.id == entries.c.transaction_id)
        .where(*scope, counts_as_flow(), entries.c.amount < 0)
        .group_by(*per_account, entries.c.currency, month, *payees)
    )

    def key(row: Any) -> tuple[int | None, str]:
        return (int(row.account_id) if account_ids is None else None, str(row.currency))

    last = previous_month(before_month)
    histories: dict[tuple[int | None, str], SpendingHistory] = {}
    for row in conn.execute(first_seen):
        labels = labels_between(label_of(row.first, "month"), last, "month")
        histories[key(row)] = SpendingHistory(str(row.currency), labels, [0] * len(labels))
    for row in conn.execute(monthly):
        history = histories[key(row)]
        history.totals[history.months.index(row.month)] = int(row.spent or 0)
    for row in conn.execute(by_payee):
        payee = (row.payee_type, row.payee_account, row.payee_text)
        streams = histories[key(row)].streams
        streams.setdefault(payee, {})[row.month] = int(row.spent or 0)
    return histories


def _payee_label(payee: tuple[Any, ...], numbers: dict[int, str]) -> str:
    kind, account_id, text = payee
    if account_id is not None:
        return f"{kind} to account {numbers.get(int(account_id), account_id)}"
    return f"{kind}: {text}" if text else str(kind)


def spending_prediction(
    conn: Connection,
    *,
    owner_id: int,
    account_id: int | None,
    currency: str | None,
    today: datetime,
    method: str = forecast.ROBUST,
) -> dict[str, Any]:
    """Next month's spending (the month after the last complete one) with a range.

    The history is the complete months of the account, or of all the customer's accounts in
    the currency; the month under way is not part of it.
    """
    if method not in forecast.FORECASTERS:
        raise errors.ValidationFailed(f"method must be one of {', '.join(forecast.METHODS)}")
    owned = customer_accounts(conn, owner_id=owner_id, account_id=account_id)
    lead = pick_currency(owned, currency)
    target = label_of(today, "month")
    ids = [int(a["id"]) for a in owned if a["currency"] == lead]
    histories = (
        spending_histories(conn, ids, before_month=target, months=FORECAST_HISTORY_MONTHS)
        if ids
        else {}
    )
    history = histories.get((None, lead or "")) or SpendingHistory(lead or "")
    series = history.as_series()
    chosen = forecast.FORECASTERS[method](series)
    baseline = forecast.linear_regression(series)
    payees = [p[1] for p in chosen.recurring if p[1] is not None]
    numbers = (
        {
            int(r.id): str(r.account_number)
            for r in conn.execute(
                select(accounts.c.id, accounts.c.account_number).where(accounts.c.id.in_(payees))
            )
        }
        if payees
        else {}
    )

    def amount(minor: int) -> str:
        return to_decimal_string(minor, lead) if lead else "0"

    return {
        "account_id": account_id,
        "currency": lead,
        "month": target,
        "method": chosen.method,
        "predicted_next_month": amount(chosen.predicted),
        "lower": amount(chosen.lower),
        "upper": amount(chosen.upper),
        "history": [
            {"month": m, "spending": amount(v)}
            for m, v in zip(history.months, history.totals, strict=True)
        ],
        "recurring_payments": [
            {"payee": _payee_label(p, numbers), "amount": amount(v)}
            for p, v in sorted(chosen.recurring.items(), key=lambda item: -item[1])
        ],
        "baseline": {
            "method": baseline.method,
            "predicted_next_month": amount(baseline.predicted),
            "lower": amount(baseline.lower),
            "upper": amount(baseline.upper),
        },
    }
