"""The fee schedule, and fees posted as their own transactions linked to their cause.

Two fees exist: cash withdrawals beyond the free ones a calendar month (per account, in the
bank's time zone) and the spread of a currency exchange (a share of the amount, in the source
currency). A fee is decided with the movement that causes it, in the same database
transaction and all or none: when the account cannot pay both, neither posts. There is no
overdraft fee because there are no overdrafts: a balance never goes below zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, insert, select

from ledgerbank.kit.money import exponent
from ledgerbank.kit.rates import round_half_even
from ledgerbank.ledger.accounts import internal_account_id
from ledgerbank.ledger.posting import Books, Leg, Movement
from ledgerbank.ledger.tables import fee_links, transactions

WITHDRAWAL = "withdrawal"
FX_SPREAD = "fx_spread"


@dataclass(frozen=True)
class FeeSchedule:
    fx_spread: str = "0.005"  # share of an exchanged amount, charged in its currency
    withdrawal_fee: str = "0"  # per cash withdrawal beyond the free ones (major units); 0: none
    free_withdrawals: int = 5  # a calendar month, per account
    timezone: str = "UTC"

    @classmethod
    def from_settings(cls, settings: Any) -> FeeSchedule:
        return cls(
            fx_spread=settings.fee_fx_spread,
            withdrawal_fee=settings.fee_withdrawal,
            free_withdrawals=settings.fee_free_withdrawals,
            timezone=settings.timezone,
        )

    @property
    def spread(self) -> Fraction:
        return Fraction(Decimal(self.fx_spread))

    def withdrawal_fee_minor(self, currency: str) -> int:
        """The withdrawal fee in the currency's minor units (half to even past its decimals)."""
        return round_half_even(Fraction(Decimal(self.withdrawal_fee)) * 10 ** exponent(currency))

    def month_start(self, moment: datetime) -> datetime:
        zone = ZoneInfo(self.timezone)
        local = moment.astimezone(zone).date().replace(day=1)
        return datetime.combine(local, time(), tzinfo=zone).astimezone(UTC)


def fee_movement(
    books: Books, *, account_id: int, amount: int, description: str, actor_id: int | None
) -> Movement:
    """A fee from a customer account to the bank's fee income in its currency (not screened:
    the bank charges it)."""
    currency = books.locked[account_id].currency
    income = internal_account_id(books.conn, currency, "fee_income")
    return Movement(
        type="fee",
        amount=amount,
        currency=currency,
        legs=[Leg(account_id, -amount), Leg(income, amount)],
        from_account_id=account_id,
        description=description,
        actor_id=actor_id,
    )


def link_after_write(books: Books, fee: Movement, cause: Movement, kind: str) -> None:
    """Record, once both are written, that `fee` was charged because of `cause`."""

    def write(conn: Connection) -> None:
        if fee.status == "posted" and fee.row and cause.row:
            conn.execute(
                insert(fee_links),
                {
                    "fee_transaction_id": fee.row["id"],
                    "caused_by_id": cause.row["id"],
                    "fee_kind": kind,
                },
            )

    books.after_write.append(write)


def withdrawal_fee(
    books: Books, schedule: FeeSchedule, withdrawal: Movement, now: datetime
) -> Movement | None:
    """The fee for this cash withdrawal when the account already made its free ones this month
    (those posted, and those decided earlier in this transaction); None when it is free."""
    account_id = withdrawal.from_account_id
    assert account_id is not None
    amount = schedule.withdrawal_fee_minor(withdrawal.currency)
    if amount <= 0:
        return None
    made = books.conn.execute(
        select(func.count())
        .select_from(transactions)
        .where(
            transactions.c.from_account_id == account_id,
            transactions.c.type == "withdrawal",
            transactions.c.status == "posted",
            transactions.c.created_at >= schedule.month_start(now),
        )
    ).scalar_one()
    made += sum(
        1
        for m in books.decided
        if m.type == "withdrawal" and m.from_account_id == account_id and m.status == "posted"
    )
    if made < schedule.free_withdrawals:
        return None
    fee = fee_movement(
        books,
        account_id=account_id,
        amount=amount,
        description=f"Fee: cash withdrawal beyond {schedule.free_withdrawals} a month",
        actor_id=withdrawal.actor_id,
    )
    link_after_write(books, fee, withdrawal, WITHDRAWAL)
    return fee
