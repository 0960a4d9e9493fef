"""Reading transactions: the history (filtered, sorted, keyset-paged, or a whole export) and
one transaction's legs, reversal and risk score.

Pages follow a keyset (the sort column and the id of the last row), never an OFFSET, so every
page costs the same however deep it is and rows posted meanwhile neither repeat nor vanish.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    Select,
    and_,
    false,
    func,
    or_,
    select,
)

from ledgerbank import errors
from ledgerbank.audit.tables import audit_log
from ledgerbank.identity.tables import users
from ledgerbank.kit.db import Database
from ledgerbank.kit.money import EXPONENTS, exponent
from ledgerbank.kit.pagination import decode_cursor, encode_cursor
from ledgerbank.ledger.screening import StoredScores
from ledgerbank.ledger.tables import accounts, entries, transactions

T = transactions.c
SORTS = ("-created_at", "created_at", "-amount", "amount", "-id", "id")
EXPORT_CHUNK = 1000


@dataclass(frozen=True)
class HistoryFilter:
    """What the caller asked for; every field narrows the list (None: no narrowing)."""

    account_id: int | None = None
    type: str | None = None
    status: str | None = None
    currency: str | None = None
    min_amount: Decimal | None = None
    max_amount: Decimal | None = None
    start: datetime | None = None
    end: datetime | None = None
    q: str | None = None
    sort: str = "-created_at"
    # Who searches by counterparty: None for staff (full names and numbers); a customer finds
    # another holder only by what they read of them (ledger.parties): first name, last initial
    # and the last four digits of the number.
    viewer_id: int | None = None


def _sort_column(sort: str) -> Any:
    return {"created_at": T.created_at, "amount": T.amount, "id": T.id}[sort.lstrip("-")]


BIGINT_MAX = 2**63 - 1


def _amount_bound(bound: Decimal, *, lower: bool, currency: str | None) -> ColumnElement[bool]:
    """`amount >= bound` (or <=) in major units, exact for every currency's minor unit."""
    places_of = {currency: exponent(currency)} if currency else EXPONENTS
    by_places: dict[int, list[str]] = {}
    for code, places in places_of.items():
        by_places.setdefault(places, []).append(code)
    conditions = []
    for places, codes in sorted(by_places.items()):
        scaled = bound.scaleb(places)
        minor = math.ceil(scaled) if lower else math.floor(scaled)
        minor = min(minor, BIGINT_MAX)  # amounts are BIGINT: a larger bound binds as the max
        conditions.append(
            and_(T.currency.in_(codes), T.amount >= minor if lower else T.amount <= minor)
        )
    return or_(*conditions)


def _like_pattern(text: str, *, start: bool = False) -> str:
    """A LIKE pattern for text anywhere (or, with `start`, at the beginning) of a value."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"{escaped}%" if start else f"%{escaped}%"


def _conditions(filters: HistoryFilter) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if filters.account_id is not None:
        found.append(
            or_(T.from_account_id == filters.account_id, T.to_account_id == filters.account_id)
        )
    if filters.type is not None:
        found.append(T.type == filters.type)
    if filters.status is not None:
        found.append(T.status == filters.status)
    if filters.currency is not None:
        found.append(T.currency == filters.currency)
    if filters.min_amount is not None:
        found.append(_amount_bound(filters.min_amount, lower=True, currency=filters.currency))
    if filters.max_amount is not None:
        found.append(_amount_bound(filters.max_amount, lower=False, currency=filters.currency))
    if filters.start is not None:
        found.append(T.created_at >= filters.start)
    if filters.end is not None:
        found.append(T.created_at <= filters.end)
    if filters.q:
        text = filters.q.strip()
        matches: list[ColumnElement[bool]] = [
            func.lower(T.description).like(_like_pattern(text), escape="\\")
        ]
        if text.isdigit() and len(text) <= 18:
            matches.append(T.id == int(text))
        # the counterparty: a holder's name, or the last digits of an account number
        named = _accounts_matching(text, viewer_id=filters.viewer_id)
        matches.extend((T.from_account_id.in_(named), T.to_account_id.in_(named)))
        found.append(or_(*matches))
    return found


def _accounts_matching(text: str, *, viewer_id: int | None) -> Select[tuple[int]]:
    """Customer accounts whose holder or number matches the text, as the viewer reads them."""
    if viewer_id is None:  # staff: any part of the name, or the number's last 4 to 12 digits
        holder: ColumnElement[bool] = func.lower(users.c.full_name).like(
            _like_pattern(text), escape="\\"
        )
        digits = 4 <= len(text) <= 12
    else:
        read = _as_read(text)
        holder = (
            func.lower(users.c.full_name).like(_like_pattern(read, start=True), escape="\\")
            if read
            else false()
        )
        digits = len(text) == 4
    if text.isdigit() and digits:
        holder = or_(holder, accounts.c.account_number.like(f"%{text}"))
    return (
        select(accounts.c.id)
        .join(users, users.c.id == accounts.c.owner_id)
        .where(accounts.c.is_internal == 0, holder)
    )


def _as_read(text: str) -> str:
    """A customer's search cut to what `parties.holder_name` shows of a name: the first word
    and the next one's first letter ("bob smith" -> "bob s"), so it never confirms more."""
    first, _, rest = text.strip().rstrip(".").partition(" ")
    rest = rest.strip()
    return f"{first} {rest[:1]}" if rest else first


def _after(sort: str, cursor: str) -> ColumnElement[bool]:
    """Rows after the cursor's position in the given sort order."""
    name = sort.lstrip("-")
    value: Any
    if name == "created_at":
        given_sort, moment, last_id = decode_cursor(cursor, str, str, int)
        try:
            value = datetime.fromisoformat(moment)
        except ValueError:
            raise errors.ValidationFailed("the cursor is not one this API gave out") from None
    elif name == "amount":
        given_sort, value, last_id = decode_cursor(cursor, str, int, int)
    else:
        given_sort, last_id = decode_cursor(cursor, str, int)
    if given_sort != sort:
        raise errors.ValidationFailed("the cursor belongs to another sort order; start over")
    descending = sort.startswith("-")
    if name == "id":
        condition: ColumnElement[bool] = T.id < last_id if descending else T.id > last_id
        return condition
    column = _sort_column(sort)
    if descending:
        return or_(column < value, and_(column == value, T.id < last_id))
    return or_(column > value, and_(column == value, T.id > last_id))


def _cursor_of(sort: str, row: dict[str, Any]) -> str:
    name = sort.lstrip("-")
    if name == "created_at":
        return encode_cursor(sort, row["created_at"].isoformat(), row["id"])
    if name == "amount":
        return encode_cursor(sort, int(row["amount"]), row["id"])
    return encode_cursor(sort, row["id"])


def _query(visible: ColumnElement[bool], filters: HistoryFilter, cursor: str | None) -> Select[Any]:
    if filters.sort not in SORTS:
        raise errors.ValidationFailed(f"sort must be one of {', '.join(SORTS)}")
    column = _sort_column(filters.sort)
    descending = filters.sort.startswith("-")
    query = select(transactions).where(visible, *_conditions(filters))
    if cursor is not None:
        query = query.where(_after(filters.sort, cursor))
    if filters.sort.lstrip("-") == "id":
        return query.order_by(T.id.desc() if descending else T.id)
    if descending:
        return query.order_by(column.desc(), T.id.desc())
    return query.order_by(column, T.id)


def history_page(
    conn: Connection,
    visible: ColumnElement[bool],
    filters: HistoryFilter,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of matching transactions and the cursor of the next (None on the last)."""
    rows = [
        dict(row)
        for row in conn.execute(_query(visible, filters, cursor).limit(limit + 1)).mappings()
    ]
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, _cursor_of(filters.sort, rows[-1])


def iter_history(
    database: Database, visible: ColumnElement[bool], filters: HistoryFilter
) -> Iterator[dict[str, Any]]:
    """Every matching transaction, read a chunk per short read transaction (for exports)."""
    for rows in iter_history_chunks(database, visible, filters):
        yield from rows


def iter_history_chunks(
    database: Database, visible: ColumnElement[bool], filters: HistoryFilter
) -> Iterator[list[dict[str, Any]]]:
    """The matching transactions a chunk at a time, each read in its own short transaction."""
    cursor: str | None = None
    while True:
        with database.read() as conn:
            rows, cursor = history_page(conn, visible, filters, limit=EXPORT_CHUNK, cursor=cursor)
        yield rows
        if cursor is None:
            return


def legs_of(conn: Connection, transaction_id: int) -> list[RowMapping]:
    """The transaction's entries in posting order, each with its account's owner."""
    query = (
        select(entries, accounts.c.owner_id)
        .join(accounts, accounts.c.id == entries.c.account_id)
        .where(entries.c.transaction_id == transaction_id)
        .order_by(entries.c.id)
    )
    return list(conn.execute(query).mappings())


def reversal_of(conn: Connection, transaction_id: int) -> int | None:
    """The id of the transaction that reversed this one, if any."""
    query = select(T.id).where(T.reverses_id == transaction_id)
    found = conn.execute(query).scalar()
    return None if found is None else int(found)


def recorded_risks(
    conn: Connection, transaction_ids: list[int], stored: StoredScores
) -> dict[int, dict[str, Any]]:
    """Each transaction's risk score: what the risk engine stored (`stored`), else the
    assessment the posting got from its screen, which the posting engine records in the
    transaction's audit record. Fees, journals and reversals are never screened and have
    neither."""
    if not transaction_ids:
        return {}
    found = stored(conn, transaction_ids)
    unscored = [str(i) for i in transaction_ids if i not in found]
    if not unscored:
        return found
    rows = conn.execute(
        select(audit_log.c.entity_id, audit_log.c.after)
        .where(
            audit_log.c.entity_type == "transaction",
            audit_log.c.entity_id.in_(unscored),
            audit_log.c.action.like("transaction.%"),
        )
        .order_by(audit_log.c.id)
    )
    for entity_id, after in rows:
        risk = json.loads(after).get("risk") if after else None
        if risk is not None:
            found.setdefault(int(entity_id), risk)
    return found
