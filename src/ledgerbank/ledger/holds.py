"""Holds (authorisations): money reserved on an account until it is captured, voided or expires.

A hold is not a posting: it moves no money and writes no entry. It lowers the account's
available balance (balance + overdraft limit - held), never its balance. The account row keeps
`held`, the sum of its active holds, changed only under the account's row lock in the same
transaction as the hold rows, so a funds check reads one number instead of summing holds.

An expired hold releases itself: reads treat it as released at once (`held_now`), and any
transaction that locks its account marks it `expired` and lowers `held` before deciding
anything (`release_expired`, called by the books); `expire_holds` does the same for accounts
nothing touches, for the worker or `ledgerbank holds expire`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, RowMapping, and_, func, select, update

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.kit.clock import as_utc, utcnow
from ledgerbank.kit.db import Database
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.ledger.closing import when_closing
from ledgerbank.ledger.orders import _timestamp as written  # how answers write moments
from ledgerbank.ledger.posting_events import hold_event
from ledgerbank.ledger.tables import holds

if TYPE_CHECKING:
    from ledgerbank.ledger.posting import Books

ACTIVE = "active"


def _timestamp(moment: datetime | None) -> str | None:
    return None if moment is None else written(as_utc(moment))


def status_now(row: Mapping[Any, Any], now: datetime) -> str:
    """A hold's status as of `now`: an active hold past its expiry is already expired."""
    if row["status"] == ACTIVE and as_utc(row["expires_at"]) <= now:
        return "expired"
    return str(row["status"])


def hold_body(
    row: Mapping[Any, Any], *, staff: bool, now: datetime | None = None
) -> dict[str, Any]:
    """A hold as the API shows it (the `Hold` schema); staff also read who placed it."""
    currency = row["currency"]
    captured = row["captured_amount"]
    body: dict[str, Any] = {
        "id": row["id"],
        "account_id": row["account_id"],
        "payee_account_id": row["payee_account_id"],
        "amount": to_decimal_string(int(row["amount"]), currency),
        "currency": currency,
        "description": row["description"],
        "status": status_now(row, now or utcnow()),
        "expires_at": _timestamp(row["expires_at"]),
        "captured_amount": None if captured is None else to_decimal_string(int(captured), currency),
        "transaction_id": row["transaction_id"],
        "created_at": _timestamp(row["created_at"]),
        "ended_at": _timestamp(row["ended_at"]),
    }
    if staff:
        body["placed_by"] = row["placed_by"]
        body["api_token_id"] = row["api_token_id"]
    return body


def get_hold(conn: Connection, hold_id: int) -> RowMapping:
    row = conn.execute(select(holds).where(holds.c.id == hold_id)).mappings().first()
    if row is None:
        raise errors.NotFound(f"hold {hold_id} not found")
    return row


def list_holds(
    conn: Connection,
    *,
    account_ids: Sequence[int] | None = None,
    status: str | None = None,
    limit: int = 50,
    after_id: int | None = None,
) -> list[RowMapping]:
    """Holds, newest first; `status` as of now (an active one past its expiry is expired)."""
    query = select(holds).order_by(holds.c.id.desc()).limit(limit)
    if account_ids is not None:
        query = query.where(holds.c.account_id.in_(account_ids))
    if after_id is not None:
        query = query.where(holds.c.id < after_id)
    now = utcnow()
    if status == ACTIVE:
        query = query.where(holds.c.status == ACTIVE, holds.c.expires_at > now)
    elif status == "expired":
        query = query.where(
            (holds.c.status == "expired")
            | and_(holds.c.status == ACTIVE, holds.c.expires_at <= now)
        )
    elif status is not None:
        query = query.where(holds.c.status == status)
    return list(conn.execute(query).mappings())


def held_now(conn: Connection, account_ids: Iterable[int]) -> dict[int, int]:
    """What active, unexpired holds reserve on each account now (reads; one indexed query)."""
    wanted = sorted(set(account_ids))
    if not wanted:
        return {}
    query = (
        select(holds.c.account_id, func.sum(holds.c.amount))
        .where(
            holds.c.account_id.in_(wanted),
            holds.c.status == ACTIVE,
            holds.c.expires_at > utcnow(),
        )
        .group_by(holds.c.account_id)
    )
    return {int(account_id): int(total) for account_id, total in conn.execute(query)}


# --- changing holds (inside the books' transaction, under the account locks) -------------


def end_hold(
    books: Books,
    row: Mapping[Any, Any],
    status: str,
    *,
    actor_id: int | None,
    captured_amount: int | None = None,
    why: str | None = None,
) -> None:
    """An active hold ends (captured, voided or expired): its account's `held` drops by the
    hold's amount and the change is audited (with `why`, when given). The account must be
    locked in `books`."""
    books.conn.execute(
        update(holds)
        .where(holds.c.id == row["id"], holds.c.status == ACTIVE)
        .values(status=status, ended_at=books.now, captured_amount=captured_amount)
    )
    account_id = int(row["account_id"])
    books.set_held(account_id, books.held[account_id] - int(row["amount"]))
    hold_event(books, f"hold.{status}", row, status=status, captured_amount=captured_amount)
    after: dict[str, Any] = {
        "account_id": account_id,
        "amount": int(row["amount"]),
        "currency": row["currency"],
        "status": status,
    }
    if captured_amount is not None:
        after["captured_amount"] = captured_amount
    if why is not None:
        after["why"] = why
    books.audit_rows.append(
        audit.prepare(
            actor_id=actor_id,
            action=f"hold.{status}",
            entity_type="hold",
            entity_id=int(row["id"]),
            before={"status": ACTIVE},
            after=after,
            at=books.now,
        )
    )


def release_expired(books: Books, account_ids: Sequence[int]) -> None:
    """Mark the active holds past their expiry on these locked accounts expired."""
    rows = books.conn.execute(
        select(holds)
        .where(
            holds.c.account_id.in_(sorted(account_ids)),
            holds.c.status == ACTIVE,
            holds.c.expires_at <= books.now,
        )
        .order_by(holds.c.id)
    ).mappings()
    for row in list(rows):
        end_hold(books, row, "expired", actor_id=None)
        books.expired_holds.append(int(row["id"]))


@when_closing
def _void_with_account(books: Books, account_id: int, actor_id: int | None) -> dict[str, Any]:
    """Closing an account (its row locked by the closing transaction) voids its open holds,
    through the books, so `held` is written once, right (0), with everything else."""
    rows = list(
        books.conn.execute(
            select(holds)
            .where(holds.c.account_id == account_id, holds.c.status == ACTIVE)
            .order_by(holds.c.id)
        ).mappings()
    )
    for row in rows:
        end_hold(books, row, "voided", actor_id=actor_id, why="account closed")
    return {"holds_ended": [int(row["id"]) for row in rows]}


def expire_holds(database: Database, *, batch: int = 500) -> int:
    """Mark every hold past its expiry expired, a batch of accounts per transaction; the number
    of holds marked. Safe to run from several workers: the account locks serialise them."""
    from ledgerbank.ledger.posting import Books  # the books build on holds' tables

    total = 0
    while True:
        with database.read() as conn:
            due = conn.execute(
                select(holds.c.account_id)
                .where(holds.c.status == ACTIVE, holds.c.expires_at <= utcnow())
                .group_by(holds.c.account_id)
                .order_by(holds.c.account_id)
                .limit(batch)
            ).scalars()
            account_ids = [int(i) for i in due]
        if not account_ids:
            return total

        def expire(conn: Connection, ids: list[int] = account_ids) -> int:
            books = Books(conn)
            books.lock(ids)
            books.write()
            return len(books.expired_holds)

        marked = database.write(expire)
        total += marked
        if marked == 0 or len(account_ids) < batch:
            return total
