"""Placing, capturing and voiding holds: orders of the one money service (`ledger.money`).

Each runs in the money service's transaction with the hold's accounts locked, so holds and
postings on one account serialise on its row lock and `held` is exact. Only staff and machine
clients place, capture and void holds (customers read theirs).

- Placing checks the available balance (balance + overdraft limit - held) and refuses a frozen
  or closed account.
- Capturing posts a `capture` transaction (screened by risk like any money leaving a customer)
  that debits the account and credits the payee, or the bank's card settlement account when
  the hold names none, and releases the whole hold (a partial capture releases the rest). The
  rule for frozen accounts: a hold placed before the freeze is still captured (the merchant was
  promised the money when it was placed); a closed account captures nothing.
- Voiding releases the hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select, update

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.kit.bulk import insert_returning_ids
from ledgerbank.kit.clock import as_utc
from ledgerbank.kit.money import to_decimal_string, to_minor
from ledgerbank.ledger import holds
from ledgerbank.ledger.accounts import internal_account_id
from ledgerbank.ledger.money import Answer, Desk, Order, Pending
from ledgerbank.ledger.orders import declined
from ledgerbank.ledger.posting import Leg, Movement, RawAmount, require_open
from ledgerbank.ledger.posting_events import hold_event
from ledgerbank.ledger.tables import holds as holds_table

CARD_SETTLEMENT = "card_settlement"


def _staff_only(desk: Desk) -> None:
    if not desk.staff:
        raise errors.Forbidden("only the bank and its card processors place or settle holds")


def _hold_answer(desk: Desk, hold_id: int, status: int) -> Pending:
    staff = desk.staff
    conn = desk.books.conn

    def render() -> Answer:
        body = holds.hold_body(holds.get_hold(conn, hold_id), staff=staff, now=desk.now)
        return Answer(status, body, keep=True)

    return Pending(render)


@dataclass(frozen=True)
class PlaceHold(Order):
    account_id: int
    amount: RawAmount
    description: str
    payee_account_id: int | None = None
    expires_at: datetime | None = None
    hold_days: int = 7
    max_days: int = 31
    kind = "hold"

    def account_ids(self, conn: Connection) -> list[int]:
        return [i for i in (self.account_id, self.payee_account_id) if i is not None]

    def _expiry(self, now: datetime) -> datetime:
        if self.expires_at is None:
            return now + timedelta(days=self.hold_days)
        expires = as_utc(self.expires_at)
        if expires <= now:
            raise errors.ValidationFailed("expires_at must be in the future")
        if expires > now + timedelta(days=self.max_days):
            raise errors.ValidationFailed(
                f"expires_at may be at most {self.max_days} days from now"
            )
        return expires

    def execute(self, desk: Desk) -> Pending:
        _staff_only(desk)
        books = desk.books
        account = desk.account(self.account_id)
        require_open(account)  # a frozen account refuses new holds
        if self.payee_account_id is not None:
            if self.payee_account_id == self.account_id:
                raise errors.SameAccount("a hold's payee must be another account")
            payee = desk.account(self.payee_account_id)
            require_open(payee)
            if payee.currency != account.currency:
                raise errors.CurrencyMismatch(
                    f"account {account.id} holds {account.currency}, account {payee.id} holds "
                    f"{payee.currency}"
                )
        minor = to_minor(self.amount, account.currency, max_major=books.max_major)
        expires_at = self._expiry(desk.now)
        available = books.available(account.id)
        if available < minor:
            raise errors.InsufficientFunds(
                f"account {account.id} has {to_decimal_string(max(0, available), account.currency)}"
                f" {account.currency} available",
                account_id=account.id,
            )
        row = {
            "account_id": account.id,
            "payee_account_id": self.payee_account_id,
            "amount": minor,
            "currency": account.currency,
            "description": self.description,
            "status": holds.ACTIVE,
            "expires_at": expires_at,
            "placed_by": desk.caller.user_id,
            "api_token_id": desk.caller.api_token_id,
            "created_at": desk.now,
        }
        [hold_id] = insert_returning_ids(books.conn, holds_table, [row])
        books.set_held(account.id, books.held[account.id] + minor)
        hold_event(books, "hold.placed", {"id": hold_id, **row}, status=holds.ACTIVE)
        books.audit_rows.append(
            audit.prepare(
                actor_id=desk.caller.user_id,
                action="hold.placed",
                entity_type="hold",
                entity_id=hold_id,
                after={
                    **{k: v for k, v in row.items() if k not in ("created_at", "expires_at")},
                    "expires_at": expires_at.isoformat(),
                },
                at=desk.now,
            )
        )
        return _hold_answer(desk, hold_id, 201)


def _hold_accounts(conn: Connection, hold_id: int) -> list[int]:
    row = conn.execute(
        select(holds_table.c.account_id, holds_table.c.payee_account_id).where(
            holds_table.c.id == hold_id
        )
    ).first()
    return [] if row is None else [int(i) for i in row if i is not None]


def _active_hold(desk: Desk, hold_id: int) -> Any:
    """The hold, read under its account's lock (every change to a hold takes that lock)."""
    row = holds.get_hold(desk.books.conn, hold_id)
    if int(row["account_id"]) not in desk.books.locked:  # placed after the group locked
        raise errors.Conflict("the hold changed while this request waited; retry")
    if row["status"] != holds.ACTIVE:
        raise errors.HoldNotActive(f"hold {hold_id} is {row['status']}", status=row["status"])
    return row


@dataclass(frozen=True)
class CaptureHold(Order):
    hold_id: int
    amount: RawAmount | None = None  # None: the whole hold
    kind = "hold_capture"

    def account_ids(self, conn: Connection) -> list[int]:
        return _hold_accounts(conn, self.hold_id)

    def execute(self, desk: Desk) -> Pending:
        _staff_only(desk)
        books = desk.books
        row = _active_hold(desk, self.hold_id)
        account_id, currency = int(row["account_id"]), str(row["currency"])
        held = int(row["amount"])
        minor = (
            held
            if self.amount is None
            else to_minor(self.amount, currency, max_major=books.max_major)
        )
        if minor > held:
            raise errors.CaptureExceedsHold(
                f"hold {self.hold_id} reserves {to_decimal_string(held, currency)} {currency}",
                hold_id=self.hold_id,
            )
        require_open(books.account(account_id), allow_frozen=True)
        payee_id = row["payee_account_id"]
        if payee_id is not None:
            require_open(desk.account(int(payee_id)))
            credit = int(payee_id)
        else:
            credit = internal_account_id(books.conn, currency, CARD_SETTLEMENT)
        movement = Movement(
            type="capture",
            amount=minor,
            currency=currency,
            legs=[Leg(account_id, -minor), Leg(credit, minor)],
            from_account_id=account_id,
            to_account_id=None if payee_id is None else int(payee_id),
            description=f"{row['description']} (hold {self.hold_id})",
            actor_id=desk.caller.user_id,
            screened=True,
            # money leaving the bank (card settlement) or moving to another customer
            screen_as="withdrawal" if payee_id is None else "transfer",
        )
        before = books.held[account_id]
        books.set_held(account_id, before - held)  # the capture may use what the hold reserved
        try:
            posted = desk.post([movement])
        except errors.LedgerbankError:
            books.set_held(account_id, before)
            raise
        if not posted:  # blocked by risk: recorded, nothing moved, the hold stands
            books.set_held(account_id, before)
            staff = desk.staff
            return Pending(lambda: declined([movement], staff=staff))
        books.set_held(account_id, before)
        holds.end_hold(books, row, "captured", actor_id=desk.caller.user_id, captured_amount=minor)
        conn, hold_id, answer = books.conn, self.hold_id, _hold_answer(desk, self.hold_id, 200)

        def render() -> Answer:
            conn.execute(
                update(holds_table)
                .where(holds_table.c.id == hold_id)
                .values(transaction_id=movement.row["id"])
            )
            return answer.render()

        return Pending(render)


@dataclass(frozen=True)
class VoidHold(Order):
    hold_id: int
    kind = "hold_void"

    def account_ids(self, conn: Connection) -> list[int]:
        return _hold_accounts(conn, self.hold_id)

    def execute(self, desk: Desk) -> Pending:
        _staff_only(desk)
        row = _active_hold(desk, self.hold_id)
        holds.end_hold(desk.books, row, "voided", actor_id=desk.caller.user_id)
        return _hold_answer(desk, self.hold_id, 200)
