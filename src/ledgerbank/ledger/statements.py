"""Balances at any moment, statements for a period and keyset-paged account history.

Every entry carries the account's `balance_after`, so a balance at a past moment is one
indexed read of the latest entry before it, never a sum over history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select

from ledgerbank.ledger.tables import entries, transactions


def balance_at(conn: Connection, account_id: int, at: datetime) -> int:
    """The customer account's balance right after everything posted at or before `at`."""
    found = conn.execute(
        select(entries.c.balance_after)
        .where(entries.c.account_id == account_id, entries.c.posted_at <= at)
        .order_by(entries.c.posted_at.desc(), entries.c.id.desc())
        .limit(1)
    ).scalar()
    return int(found) if found is not None else 0


@dataclass(frozen=True)
class Statement:
    account_id: int
    opening_balance: int
    closing_balance: int
    entries: list[dict[str, Any]]


def statement(
    conn: Connection, account_id: int, *, start: datetime | None, end: datetime | None
) -> Statement:
    """Entries posted in [start, end] with the balance before the first and after the last."""
    query = (
        select(
            entries.c.id.label("entry_id"),
            entries.c.transaction_id,
            entries.c.posted_at,
            entries.c.amount,
            entries.c.balance_after,
            transactions.c.type,
            transactions.c.status,
            transactions.c.description,
        )
        .join(transactions, transactions.c.id == entries.c.transaction_id)
        .where(entries.c.account_id == account_id)
        .order_by(entries.c.posted_at, entries.c.id)
    )
    opening = 0
    if start is not None:
        query = query.where(entries.c.posted_at >= start)
        opening = (
            conn.execute(
                select(entries.c.balance_after)
                .where(entries.c.account_id == account_id, entries.c.posted_at < start)
                .order_by(entries.c.posted_at.desc(), entries.c.id.desc())
                .limit(1)
            ).scalar()
            or 0
        )
    if end is not None:
        query = query.where(entries.c.posted_at <= end)
    rows = [dict(row) for row in conn.execute(query).mappings()]
    closing = int(rows[-1]["balance_after"]) if rows else int(opening)
    return Statement(account_id, int(opening), closing, rows)


def entries_page(
    conn: Connection, account_id: int, *, limit: int, before: tuple[datetime, int] | None
) -> list[dict[str, Any]]:
    """Newest-first entries of an account, `limit` at a time, after a keyset cursor."""
    query = (
        select(entries, transactions.c.type, transactions.c.description)
        .join(transactions, transactions.c.id == entries.c.transaction_id)
        .where(entries.c.account_id == account_id)
        .order_by(entries.c.posted_at.desc(), entries.c.id.desc())
        .limit(limit)
    )
    if before is not None:
        moment, entry_id = before
        query = query.where(
            or_(
                entries.c.posted_at < moment,
                and_(entries.c.posted_at == moment, entries.c.id < entry_id),
            )
        )
    return [dict(row) for row in conn.execute(query).mappings()]


@dataclass(frozen=True)
class Side:
    """One account's side of a transaction, as its statement shows it: its own entries."""

    amount: int  # signed, credit positive: what the account gained
    currency: str  # the account's currency (an exchange's other side has another)
    balance_after: int | None


def sides(conn: Connection, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], Side]:
    """Each (transaction, account)'s side: the account's entries in it (summed), in their
    currency, with the balance after the last. A pair with no entries (blocked) is left out."""
    pairs = set(wanted)
    if not pairs:
        return {}
    query = (
        select(
            entries.c.transaction_id,
            entries.c.account_id,
            entries.c.amount,
            entries.c.currency,
            entries.c.balance_after,
        )
        .where(
            entries.c.transaction_id.in_(sorted({t for t, _ in pairs})),
            entries.c.account_id.in_(sorted({a for _, a in pairs})),
        )
        .order_by(entries.c.id)
    )
    found: dict[tuple[int, int], Side] = {}
    for transaction_id, account_id, amount, currency, after in conn.execute(query):
        pair = (int(transaction_id), int(account_id))
        if pair in pairs:
            before = found[pair].amount if pair in found else 0
            found[pair] = Side(
                before + int(amount), currency, None if after is None else int(after)
            )
    return found
