"""Interest owed when an account closes: accrued to the closing day and paid before the rest
is moved out.

The days that ended since the account's last accrual (from its opening day, or the first day
its product had a rate, when it has none) accrue exactly as the daily job does: the end-of-day
balance, the rate in force that day, the remainder carried from day to day; the closing day
earns nothing (it ends with the account closed and empty). Every month with accruals and no
payment is then paid the sum of its whole minor units, as the monthly payment does (the last
remainder, below one minor unit, is not paid), in one journal from interest expense. The
accrual and payment rows are written with the closing, and only if it posts, so a refused or
blocked close leaves nothing; a paid month takes no more accruals, so nothing is paid twice. A
day the job accrued while the close waited to write is the same row (same entries, rate and
carry), so the close keeps it rather than failing on its key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select

from ledgerbank.interest import service
from ledgerbank.interest.tables import interest_accruals, interest_payments, interest_rates
from ledgerbank.kit.bulk import insert_ignoring_duplicates
from ledgerbank.kit.clock import as_utc, utcnow
from ledgerbank.ledger.posting import Books, Movement
from ledgerbank.ledger.screening import AccountState


@dataclass
class ClosingInterest:
    """What closing owes the account: new accrual rows and the unpaid months' sums."""

    account: AccountState
    day: date  # the closing day, in the bank's time zone
    accruals: list[dict[str, Any]] = field(default_factory=list)
    months: dict[date, int] = field(default_factory=dict)

    @property
    def amount(self) -> int:
        return sum(self.months.values())

    def movement(self, books: Books, *, actor_id: int | None) -> Movement | None:
        """The payment to post before the move-out; None when nothing is owed."""
        if self.amount <= 0:
            return None
        return service.payment_movement(
            books.conn,
            self.account,
            self.amount,
            f"Interest to {self.day.isoformat()} (account closed)",
            actor_id=actor_id,
        )

    def record_after_write(self, books: Books, payment: Movement | None) -> None:
        """Write the accruals and the months paid once the payment (if any) is written."""

        def write(conn: Connection) -> None:
            if self.accruals:  # a day the job accrued meanwhile has this very row: kept
                keep = insert_ignoring_duplicates(conn.dialect.name, interest_accruals)
                conn.execute(keep, self.accruals)
            transaction_id = None if payment is None else int(payment.row["id"])
            rows = [
                {
                    "account_id": self.account.id,
                    "month": month,
                    "amount": amount,
                    "transaction_id": transaction_id if amount > 0 else None,
                    "created_at": utcnow(),
                }
                for month, amount in sorted(self.months.items())
            ]
            if rows:
                conn.execute(insert(interest_payments), rows)

        books.after_write.append(write)


def owed_at_close(
    conn: Connection, account: AccountState, now: datetime, *, timezone: str
) -> ClosingInterest:
    """The interest an account closing at `now` is owed (nothing is written here)."""
    day = as_utc(now).astimezone(ZoneInfo(timezone)).date()
    owed = ClosingInterest(account, day)
    paid = service.paid_months(conn, account.id)
    latest = service.latest_accrual(conn, account.id)
    carry = 0 if latest is None else int(latest["carry"])
    start = _first_day(conn, account, timezone) if latest is None else latest["day"] + timedelta(1)
    while start is not None and start < day:
        rate = service.rate_on(conn, account.account_type, start)
        if rate is not None and start.replace(day=1) not in paid:
            row = service.accrual_row(conn, account.id, start, rate, carry, timezone)
            owed.accruals.append(row)
            carry = int(row["carry"])
        start += timedelta(days=1)
    accrued = conn.execute(
        select(interest_accruals.c.day, interest_accruals.c.accrued).where(
            interest_accruals.c.account_id == account.id
        )
    ).all()
    for accrued_day, amount in [*accrued, *((r["day"], r["accrued"]) for r in owed.accruals)]:
        month = accrued_day.replace(day=1)
        if month not in paid:
            owed.months[month] = owed.months.get(month, 0) + int(amount)
    return owed


def _first_day(conn: Connection, account: AccountState, timezone: str) -> date | None:
    """An account never accrued starts on its opening day, or its product's first rate day."""
    first_rate: date | None = conn.execute(
        select(interest_rates.c.valid_from)
        .where(interest_rates.c.account_type == account.account_type)
        .order_by(interest_rates.c.valid_from)
        .limit(1)
    ).scalar()
    if first_rate is None:
        return None
    opened = as_utc(account.created_at).astimezone(ZoneInfo(timezone)).date()
    return max(opened, first_rate)
