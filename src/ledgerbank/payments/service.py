"""Scheduled payments: reading them, cancelling them, ending them, and recording each attempt
the worker makes to pay a due date.

The retry rule: a due date is first tried on the first worker round of its business day (in
`LEDGERBANK_TIMEZONE`; a worker that was down pays missed dates late, once). A try refused for
a reason that may pass (insufficient funds, a frozen account, a daily limit) is tried again
`standing_order_retry_minutes` later, at most `standing_order_max_attempts` times in all and
never after the due date's business day; then that date is skipped and the customer told. A
payment the bank's checks declined is not retried (the customer reads only "declined"). An
order whose account was closed or is gone ends. Each attempt is a run row the customer sees.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, or_, select, update

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.identity import notices
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.ledger.closing import when_closing
from ledgerbank.ledger.posting import Books
from ledgerbank.payments import calendar
from ledgerbank.payments.tables import scheduled_payment_runs, scheduled_payments

S = scheduled_payments.c
R = scheduled_payment_runs.c

# Refusals after which the order cannot go on: it ends.
ENDING = frozenset(
    {"account_closed", "not_found", "currency_mismatch", "kyc_rejected", "not_authenticated"}
)
# What the bank's own checks answer; the customer reads "declined" and nothing more.
DECLINED = frozenset({"payment_declined", "blocked_by_risk"})


@dataclass(frozen=True)
class RetryRule:
    max_attempts: int = 3
    retry_after: timedelta = timedelta(hours=1)

    @classmethod
    def from_settings(cls, settings: Any) -> RetryRule:
        return cls(
            settings.standing_order_max_attempts,
            timedelta(minutes=settings.standing_order_retry_minutes),
        )


# --- reading ------------------------------------------------------------------------------


def run_body(row: RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "due_date": row["due_date"],
        "attempt": row["attempt"],
        "attempted_at": row["attempted_at"],
        "outcome": row["outcome"],
        "code": row["code"],
        "transaction_id": row["transaction_id"],
    }


def payment_body(row: RowMapping, *, runs: Sequence[RowMapping] | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": row["id"],
        "owner_id": row["owner_id"],
        "from_account_id": row["from_account_id"],
        "to_account_id": row["to_account_id"],
        "amount": to_decimal_string(int(row["amount"]), row["currency"]),
        "currency": row["currency"],
        "frequency": row["frequency"],
        "first_date": row["first_date"].isoformat(),
        "until": row["until"].isoformat() if row["until"] else None,
        "description": row["description"],
        "status": row["status"],
        "next_due": row["next_due"].isoformat() if row["next_due"] else None,
        "failed_attempts": row["attempts"],
        "retry_at": row["retry_at"].isoformat() if row["retry_at"] else None,
        "created_at": row["created_at"].isoformat(),
        "ended_at": row["ended_at"].isoformat() if row["ended_at"] else None,
        "end_reason": row["end_reason"],
    }
    if runs is not None:
        body["runs"] = [
            {
                **run_body(r),
                "due_date": r["due_date"].isoformat(),
                "attempted_at": r["attempted_at"].isoformat(),
            }
            for r in runs
        ]
    return body


def get(conn: Connection, payment_id: int, *, owner_id: int | None) -> RowMapping:
    """One scheduled payment; another customer's answers NotFound, like a missing one."""
    query = select(scheduled_payments).where(S.id == payment_id)
    if owner_id is not None:
        query = query.where(S.owner_id == owner_id)
    row = conn.execute(query).mappings().first()
    if row is None:
        raise errors.NotFound(f"scheduled payment {payment_id} not found")
    return row


def runs_of(conn: Connection, payment_id: int) -> list[RowMapping]:
    query = select(scheduled_payment_runs).where(R.payment_id == payment_id)
    return list(conn.execute(query.order_by(R.id.desc())).mappings())


def list_payments(
    conn: Connection,
    *,
    owner_id: int | None,
    account_id: int | None = None,
    status: str | None = None,
    limit: int = 50,
    before_id: int | None = None,
) -> list[RowMapping]:
    """Newest first; `owner_id` None lists everyone's (staff)."""
    query = select(scheduled_payments).order_by(S.id.desc())
    if owner_id is not None:
        query = query.where(S.owner_id == owner_id)
    if account_id is not None:
        query = query.where(or_(S.from_account_id == account_id, S.to_account_id == account_id))
    if status is not None:
        query = query.where(S.status == status)
    if before_id is not None:
        query = query.where(S.id < before_id)
    return list(conn.execute(query.limit(limit)).mappings())


# --- setting up ---------------------------------------------------------------------------


def create(
    conn: Connection,
    *,
    owner_id: int,
    from_account_id: int,
    to_account_id: int,
    amount: int,
    currency: str,
    frequency: str,
    first_date: date,
    until: date | None,
    description: str | None,
    now: datetime,
) -> int:
    """Write a checked order (the money service checked the PIN, accounts and dates), its
    audit record and the customer's notice; its id."""
    values = {
        "owner_id": owner_id,
        "from_account_id": from_account_id,
        "to_account_id": to_account_id,
        "amount": amount,
        "currency": currency,
        "frequency": frequency,
        "first_date": first_date,
        "until": until,
        "description": description,
        "status": "active",
        "occurrence": 0,
        "next_due": first_date,
        "attempts": 0,
        "created_at": now,
    }
    new_id = conn.execute(insert(scheduled_payments).values(**values)).inserted_primary_key
    assert new_id is not None
    payment_id = int(new_id[0])
    shown = to_decimal_string(amount, currency)
    audit.record(
        conn,
        actor_id=owner_id,
        action="scheduled_payment.created",
        entity_type="scheduled_payment",
        entity_id=payment_id,
        after={**values, "amount": shown, "created_at": now.isoformat()},
        at=now,
    )
    notices.notify(
        conn,
        owner_id,
        "standing_order_created",
        {"scheduled_payment_id": payment_id, "amount": shown, "currency": currency},
    )
    return payment_id


# --- ending -------------------------------------------------------------------------------


def cancel(conn: Connection, payment_id: int, *, owner_id: int | None, actor_id: int) -> RowMapping:
    """The customer (or staff) stops an order; future dates are not paid. Idempotent."""
    row = get(conn, payment_id, owner_id=owner_id)
    locked = _lock(conn, int(row["id"]))
    if locked["status"] != "active":
        return locked
    _end(conn, locked, status="cancelled", reason="cancelled", actor_id=actor_id, now=utcnow())
    return _lock(conn, payment_id)


def end_for_account(conn: Connection, account_id: int, *, actor_id: int | None) -> list[int]:
    """End every active order paying from or into a closing account (inside the closing
    transaction); each owner is told. The ids ended."""
    ids = conn.execute(
        select(S.id)
        .where(
            S.status == "active",
            or_(S.from_account_id == account_id, S.to_account_id == account_id),
        )
        .order_by(S.id)
        .with_for_update()
    ).scalars()
    ended = []
    now = utcnow()
    for payment_id in list(ids):
        row = _lock(conn, int(payment_id))
        _end(conn, row, status="ended", reason="account_closed", actor_id=actor_id, now=now)
        ended.append(int(payment_id))
    return ended


@when_closing
def _end_with_account(books: Books, account_id: int, actor_id: int | None) -> dict[str, Any]:
    return {"standing_orders_ended": end_for_account(books.conn, account_id, actor_id=actor_id)}


def _lock(conn: Connection, payment_id: int) -> RowMapping:
    query = select(scheduled_payments).where(S.id == payment_id).with_for_update()
    return conn.execute(query).mappings().one()


def _end(
    conn: Connection,
    row: RowMapping,
    *,
    status: str,
    reason: str,
    actor_id: int | None,
    now: datetime,
) -> None:
    values = {
        "status": status,
        "next_due": None,
        "retry_at": None,
        "attempts": 0,
        "ended_at": now,
        "end_reason": reason,
    }
    conn.execute(update(scheduled_payments).where(S.id == row["id"]).values(**values))
    audit.record(
        conn,
        actor_id=actor_id,
        action=f"scheduled_payment.{status}",
        entity_type="scheduled_payment",
        entity_id=row["id"],
        before={"status": row["status"], "next_due": _iso(row["next_due"])},
        after={"status": status, "end_reason": reason},
        at=now,
    )
    if status == "ended":
        notices.notify(
            conn, int(row["owner_id"]), "standing_order_ended", {"scheduled_payment_id": row["id"]}
        )


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


# --- the worker's attempts ----------------------------------------------------------------


def due(conn: Connection, *, today: date, now: datetime, limit: int = 100) -> list[RowMapping]:
    """Active orders with a due date up to today and no retry waiting, oldest due first."""
    query = (
        select(scheduled_payments)
        .where(
            S.status == "active",
            S.next_due <= today,
            or_(S.retry_at.is_(None), S.retry_at <= now),
        )
        .order_by(S.next_due, S.id)
        .limit(limit)
    )
    return list(conn.execute(query).mappings())


def idempotency_key(payment_id: int, due_date: date) -> str:
    """One key per order and due date: a crash and a rerun, or a retry, never pay twice."""
    return f"standing-order:{payment_id}:{due_date.isoformat()}"


def record_attempt(
    conn: Connection,
    payment_id: int,
    due_date: date,
    *,
    status: int,
    code: str | None,
    transaction_id: int | None,
    now: datetime,
    today: date,
    rule: RetryRule,
) -> str | None:
    """Record what paying `due_date` answered and move the order on; the run's outcome, or
    None when the order had already moved on (another worker recorded it)."""
    row = _lock(conn, payment_id)
    if row["status"] != "active" or row["next_due"] != due_date:
        return None
    attempt = int(row["attempts"]) + 1
    if status < 400:
        outcome = "posted"
    elif code in DECLINED:
        outcome, code = "declined", "payment_declined"
    elif code in ENDING or attempt >= rule.max_attempts or today > due_date:
        outcome = "skipped"
    else:
        outcome = "failed"
    conn.execute(
        insert(scheduled_payment_runs).values(
            payment_id=payment_id,
            due_date=due_date,
            attempt=attempt,
            attempted_at=now,
            outcome=outcome,
            code=code,
            transaction_id=transaction_id,
        )
    )
    if outcome == "failed":
        conn.execute(
            update(scheduled_payments)
            .where(S.id == payment_id)
            .values(attempts=attempt, retry_at=now + rule.retry_after)
        )
        return outcome
    if code in ENDING:
        _end(conn, row, status="ended", reason=str(code), actor_id=None, now=now)
        return outcome
    if outcome != "posted":
        notices.notify(
            conn,
            int(row["owner_id"]),
            "standing_order_payment_skipped",
            {"scheduled_payment_id": payment_id, "due_date": due_date.isoformat()},
        )
    _advance(conn, row, now=now)
    return outcome


def _advance(conn: Connection, row: RowMapping, *, now: datetime) -> None:
    occurrence = int(row["occurrence"]) + 1
    following = calendar.next_due(row["first_date"], row["frequency"], occurrence, row["until"])
    values: dict[str, Any] = {
        "occurrence": occurrence,
        "next_due": following,
        "attempts": 0,
        "retry_at": None,
    }
    if following is None:
        values |= {"status": "completed", "ended_at": now, "end_reason": "completed"}
    conn.execute(update(scheduled_payments).where(S.id == row["id"]).values(**values))
