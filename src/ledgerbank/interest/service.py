"""Interest on savings: rates per product with their history, daily accrual, monthly payment.

Accrual is actual/365 on the end-of-day balance (the balance after the day's last entry, in
the bank's time zone), exactly: a day earns balance * rate / 365, kept as whole minor units
(`accrued`) plus the remainder (`carry`, in 1/(365 * RATE_SCALE) of a minor unit) that the
next day adds to its own. Over any run of days the whole units plus the final remainder equal
the exact sum, so nothing is lost or invented. Payment is one journal posting per account and
month, from the bank's interest expense account (per currency) to the savings account.

Both are idempotent: (account, day) and (account, month) are primary keys, an account already
accrued for a day (or a later one) is skipped, and a month already paid posts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, RowMapping, func, insert, select

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.interest.tables import interest_accruals, interest_payments, interest_rates
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.kit.rates import RATE_SCALE, parse_rate, rate_text
from ledgerbank.ledger.accounts import internal_account_id
from ledgerbank.ledger.posting import Books, Leg, Movement
from ledgerbank.ledger.screening import AccountState
from ledgerbank.ledger.tables import CUSTOMER_ACCOUNT_TYPES, accounts, entries

DAYS_IN_YEAR = 365  # actual/365: every day is 1/365 of a year, leap years too
PER_DAY = DAYS_IN_YEAR * RATE_SCALE  # a day's interest is balance * rate_parts / PER_DAY
EXPENSE = "interest_expense"


def rate_view(row: RowMapping) -> dict[str, Any]:
    return {
        "id": int(row["id"]),
        "account_type": row["account_type"],
        "annual_rate": rate_text(int(row["annual_rate"])),
        "valid_from": row["valid_from"].isoformat(),
    }


def set_rate(
    conn: Connection,
    *,
    account_type: str,
    annual_rate: object,
    valid_from: date,
    actor_id: int | None,
) -> dict[str, Any]:
    """A product's annual rate from `valid_from` on (history appended, never rewritten)."""
    if account_type not in CUSTOMER_ACCOUNT_TYPES:
        raise errors.ValidationFailed(
            f"account_type must be one of {', '.join(CUSTOMER_ACCOUNT_TYPES)}"
        )
    parts = parse_rate(annual_rate, allow_zero=True)
    if parts >= RATE_SCALE:
        raise errors.InvalidRate("an annual rate is a share below 1 (0.025 is 2.5 %)")
    taken = select(interest_rates.c.id).where(
        interest_rates.c.account_type == account_type, interest_rates.c.valid_from == valid_from
    )
    if conn.execute(taken).first() is not None:
        raise errors.Conflict(f"a {account_type} rate from {valid_from} is already set")
    now = utcnow()
    values = {
        "account_type": account_type,
        "annual_rate": parts,
        "valid_from": valid_from,
        "set_by": actor_id,
        "created_at": now,
    }
    rate_id = int(conn.execute(insert(interest_rates), values).inserted_primary_key[0])  # type: ignore[index]
    view = rate_view({"id": rate_id, **values})  # type: ignore[arg-type]
    audit.record(
        conn,
        actor_id=actor_id,
        action="interest.rate_set",
        entity_type="interest_rate",
        entity_id=rate_id,
        after=view,
        at=now,
    )
    return view


def list_rates(conn: Connection) -> list[dict[str, Any]]:
    query = select(interest_rates).order_by(
        interest_rates.c.account_type, interest_rates.c.valid_from.desc()
    )
    return [rate_view(row) for row in conn.execute(query).mappings()]


def rate_on(conn: Connection, account_type: str, day: date) -> int | None:
    """The annual rate (RATE_SCALE parts) in force for a product on a day, or None."""
    query = (
        select(interest_rates.c.annual_rate)
        .where(interest_rates.c.account_type == account_type, interest_rates.c.valid_from <= day)
        .order_by(interest_rates.c.valid_from.desc())
        .limit(1)
    )
    found = conn.execute(query).scalar()
    return None if found is None else int(found)


def _day_end(day: date, timezone: str) -> datetime:
    start = datetime.combine(day + timedelta(days=1), time(), tzinfo=ZoneInfo(timezone))
    return start.astimezone(UTC)


def end_of_day_balance(conn: Connection, account_id: int, day: date, timezone: str) -> int:
    query = (
        select(entries.c.balance_after)
        .where(entries.c.account_id == account_id, entries.c.posted_at < _day_end(day, timezone))
        .order_by(entries.c.id.desc())
        .limit(1)
    )
    found = conn.execute(query).scalar()
    return 0 if found is None else int(found)


def accrue_day(carry: int, balance: int, annual_rate: int) -> tuple[int, int]:
    """One day's interest on `balance` minor units at `annual_rate` (RATE_SCALE parts), after
    the remainder `carry` of the days before: (whole minor units, the new remainder)."""
    accrued, rest = divmod(carry + balance * annual_rate, PER_DAY)
    return accrued, rest


@dataclass
class Accrual:
    account_id: int
    currency: str
    balance: int
    annual_rate: int
    accrued: int
    carry: int


@dataclass
class AccrualRun:
    day: date
    accounts: list[Accrual] = field(default_factory=list)
    skipped: int = 0  # already accrued for this day (or a later one), or the month is paid


def latest_accrual(conn: Connection, account_id: int) -> RowMapping | None:
    """The account's newest accrual (its day and the remainder it handed on), if any."""
    return (
        conn.execute(
            select(interest_accruals.c.day, interest_accruals.c.carry)
            .where(interest_accruals.c.account_id == account_id)
            .order_by(interest_accruals.c.day.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )


def paid_months(conn: Connection, account_id: int) -> set[date]:
    query = select(interest_payments.c.month).where(interest_payments.c.account_id == account_id)
    return set(conn.execute(query).scalars())


def accrual_row(
    conn: Connection, account_id: int, day: date, rate: int, carry_before: int, timezone: str
) -> dict[str, Any]:
    """One day's accrual on the account's end-of-day balance, after `carry_before`."""
    balance = max(end_of_day_balance(conn, account_id, day, timezone), 0)
    accrued, carry = accrue_day(carry_before, balance, rate)
    return {
        "account_id": account_id,
        "day": day,
        "balance": balance,
        "annual_rate": rate,
        "accrued": accrued,
        "carry": carry,
        "created_at": utcnow(),
    }


def accrue_interest(conn: Connection, day: date, *, timezone: str = "UTC") -> AccrualRun:
    """Accrue one day's interest on every account whose product has a rate that day."""
    run = AccrualRun(day)
    month = day.replace(day=1)
    for account_type in CUSTOMER_ACCOUNT_TYPES:
        rate = rate_on(conn, account_type, day)
        if rate is None:
            continue
        found = conn.execute(
            select(accounts.c.id, accounts.c.currency)
            .where(
                accounts.c.account_type == account_type,
                accounts.c.is_internal == 0,
                accounts.c.status != "closed",
                accounts.c.created_at < _day_end(day, timezone),
            )
            .order_by(accounts.c.id)
        ).all()
        for account_id, currency in found:
            latest = latest_accrual(conn, account_id)
            paid = conn.execute(
                select(interest_payments.c.month).where(
                    interest_payments.c.account_id == account_id,
                    interest_payments.c.month == month,
                )
            ).first()
            if (latest is not None and latest["day"] >= day) or paid is not None:
                run.skipped += 1
                continue
            carry_before = 0 if latest is None else int(latest["carry"])
            row = accrual_row(conn, account_id, day, rate, carry_before, timezone)
            conn.execute(insert(interest_accruals), row)
            run.accounts.append(
                Accrual(account_id, currency, row["balance"], rate, row["accrued"], row["carry"])
            )
    return run


@dataclass
class Payment:
    account_id: int
    currency: str
    amount: int
    transaction_id: int | None


@dataclass
class PaymentRun:
    month: date
    payments: list[Payment] = field(default_factory=list)
    skipped: int = 0  # already paid

    def totals(self) -> dict[str, str]:
        sums: dict[str, int] = {}
        for p in self.payments:
            sums[p.currency] = sums.get(p.currency, 0) + p.amount
        return {c: to_decimal_string(v, c) for c, v in sorted(sums.items())}


def payment_movement(
    conn: Connection, account: AccountState, amount: int, description: str, *, actor_id: int | None
) -> Movement:
    """Interest paid to an account: a journal from the bank's interest expense account."""
    expense = internal_account_id(conn, account.currency, EXPENSE)
    return Movement(
        type="journal",
        amount=amount,
        currency=account.currency,
        legs=[Leg(expense, -amount), Leg(account.id, amount)],
        to_account_id=account.id,
        description=description,
        actor_id=actor_id,
    )


def pay_interest(
    conn: Connection, month: date, *, today: date, actor_id: int | None = None
) -> PaymentRun:
    """Pay each account the interest it accrued in `month` (any day of it; the month must be
    over): one journal posting from the bank's interest expense account per account."""
    start = month.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    if following > today:
        raise errors.ValidationFailed(
            f"interest for {start:%Y-%m} is paid once the month is over (from {following})"
        )
    run = PaymentRun(start)
    owed = conn.execute(
        select(interest_accruals.c.account_id, func.sum(interest_accruals.c.accrued))
        .where(interest_accruals.c.day >= start, interest_accruals.c.day < following)
        .group_by(interest_accruals.c.account_id)
        .order_by(interest_accruals.c.account_id)
    ).all()
    for account_id, total in owed:
        done = conn.execute(
            select(interest_payments.c.month).where(
                interest_payments.c.account_id == account_id, interest_payments.c.month == start
            )
        ).first()
        if done is not None:
            run.skipped += 1
            continue
        amount = int(total or 0)
        books = Books(conn)
        books.lock([account_id])
        account = books.locked[account_id]
        if account.status == "closed":
            run.skipped += 1
            continue
        transaction_id = None
        if amount > 0:
            movement = payment_movement(
                conn, account, amount, f"Interest for {start:%Y-%m}", actor_id=actor_id
            )
            books.post_unscreened(movement)
            books.write()
            transaction_id = int(movement.row["id"])
        conn.execute(
            insert(interest_payments),
            {
                "account_id": account_id,
                "month": start,
                "amount": amount,
                "transaction_id": transaction_id,
                "created_at": utcnow(),
            },
        )
        run.payments.append(Payment(account_id, account.currency, amount, transaction_id))
    return run
