"""Setting up a standing order: a money request of its own, so the PIN, KYC tier and the
caller's state are checked in the money service's transaction exactly as for a payment, and
the order, its audit record and the customer's notice commit together."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from sqlalchemy import Connection, select

from ledgerbank import errors
from ledgerbank.kit.money import to_minor
from ledgerbank.ledger.money import Answer, Desk, Order, Pending
from ledgerbank.ledger.posting import RawAmount, require_open
from ledgerbank.payments import calendar, service
from ledgerbank.payments.tables import scheduled_payments

MAX_YEARS_AHEAD = 5  # a first date further out is most likely a typing mistake


@dataclass(frozen=True)
class Schedule(Order):
    from_account_id: int
    to_account_id: int
    amount: RawAmount
    frequency: str
    first_date: date
    until: date | None = None
    description: str | None = None
    kind: ClassVar[str] = "scheduled_payment"
    sends_money: ClassVar[bool] = True  # the PIN and verified KYC, as for a payment

    def account_ids(self, conn: Connection) -> list[int]:
        return [self.from_account_id, self.to_account_id]

    def execute(self, desk: Desk) -> Pending:
        if self.from_account_id == self.to_account_id:
            raise errors.SameAccount("cannot pay an account to itself")
        source = desk.own(self.from_account_id)
        destination = desk.account(self.to_account_id)
        require_open(source, allow_frozen=True)  # a frozen account's runs fail until unfrozen
        require_open(destination, allow_frozen=True)
        if source.currency != destination.currency:
            raise errors.CurrencyMismatch(
                f"account {source.id} holds {source.currency}, account {destination.id} holds "
                f"{destination.currency}"
            )
        minor = to_minor(self.amount, source.currency, max_major=desk.books.max_major)
        today = desk.limits.limits.business_day(desk.now)
        self._check_dates(today)
        conn = desk.books.conn
        payment_id = service.create(
            conn,
            owner_id=desk.caller.user_id,
            from_account_id=source.id,
            to_account_id=destination.id,
            amount=minor,
            currency=source.currency,
            frequency=self.frequency,
            first_date=self.first_date,
            until=self.until,
            description=self.description,
            now=desk.now,
        )

        def render() -> Answer:
            row = conn.execute(
                select(scheduled_payments).where(scheduled_payments.c.id == payment_id)
            ).mappings()
            return Answer(201, service.payment_body(row.one(), runs=[]), keep=True)

        return Pending(render)

    def _check_dates(self, today: date) -> None:
        if self.first_date < today:
            raise errors.InvalidSchedule(
                f"first_date {self.first_date} is in the past (today is {today})"
            )
        if self.first_date.year > today.year + MAX_YEARS_AHEAD:
            raise errors.InvalidSchedule(f"first_date is more than {MAX_YEARS_AHEAD} years ahead")
        if self.until is not None and self.until < self.first_date:
            raise errors.InvalidSchedule("until is before first_date")
        if calendar.next_due(self.first_date, self.frequency, 0, self.until) is None:
            raise errors.InvalidSchedule("this schedule never falls due")
