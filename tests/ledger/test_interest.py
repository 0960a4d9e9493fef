"""Interest on savings: a month of daily accrual (actual/365, exact) against Fraction, the
monthly payment as a journal from interest expense, reruns that post nothing twice, and
`ledger verify` after each step."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_helpers import (
    assert_ledger_sound,
    balance,
    create_account,
    create_user,
    run_ledger_verify,
)
from sqlalchemy import Connection, func, select, update

from ledgerbank import errors
from ledgerbank.config import Settings
from ledgerbank.interest import service
from ledgerbank.interest.closing import owed_at_close
from ledgerbank.interest.jobs import ACCRUE_INTEREST, PAY_INTEREST
from ledgerbank.interest.tables import interest_accruals, interest_payments
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.kit.rates import RATE_SCALE
from ledgerbank.ledger import accounts as account_service
from ledgerbank.ledger import posting
from ledgerbank.ledger.tables import accounts, transactions
from ledgerbank.worker.registry import JobContext

NOVEMBER = [date(2026, 11, 1) + timedelta(days=n) for n in range(30)]


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def verified(database_url: str, step: str) -> None:
    result = run_ledger_verify(database_url)
    assert result.exit_code == 0, (step, result.output)


def test_a_month_of_interest_is_exact_and_paid_once(database: Database, database_url: str) -> None:
    def open_savings(conn: Connection) -> tuple[int, int]:
        owner = create_user(conn)
        savings = create_account(conn, owner, account_type="savings")
        checking = create_account(conn, owner)  # earns nothing: no checking rate
        conn.execute(
            update(accounts)
            .where(accounts.c.id.in_([savings, checking]))
            .values(created_at=datetime(2026, 10, 31, tzinfo=UTC))
        )
        service.set_rate(
            conn,
            account_type="savings",
            annual_rate="0.0315",
            valid_from=NOVEMBER[0],
            actor_id=None,
        )
        service.set_rate(
            conn, account_type="savings", annual_rate="0.04", valid_from=NOVEMBER[14], actor_id=None
        )
        return savings, checking

    savings, checking = database.write(open_savings)
    moves = {  # day -> signed amount, posted at noon that day
        NOVEMBER[0]: "1000.00",
        NOVEMBER[9]: "2345.67",
        NOVEMBER[19]: "-500.01",
    }
    for day, amount in moves.items():
        for account_id in (savings, checking):
            if amount.startswith("-"):
                database.write(
                    lambda c, a=account_id, d=day, m=amount: posting.withdraw(
                        c, account_id=a, amount=m[1:], actor_id=None, occurred_at=at(d)
                    )
                )
            else:
                database.write(
                    lambda c, a=account_id, d=day, m=amount: posting.deposit(
                        c, account_id=a, amount=m, actor_id=None, occurred_at=at(d)
                    )
                )
    verified(database_url, "deposits")

    for day in NOVEMBER:
        run = database.write(lambda c, d=day: service.accrue_interest(c, d))
        assert [a.account_id for a in run.accounts] == [savings]
    again = database.write(lambda c: service.accrue_interest(c, NOVEMBER[10]))
    assert (again.accounts, again.skipped) == ([], 1)  # a rerun (or an earlier day) adds nothing

    # The exact arithmetic: sum of balance * rate / 365 over the days, in Fraction.
    exact = Fraction(0)
    running = 0
    for day in NOVEMBER:
        if day in moves:
            running += int(moves[day].replace(".", ""))
        rate = Fraction(315, 10_000) if day < NOVEMBER[14] else Fraction(4, 100)
        exact += running * rate / 365
    with database.read() as conn:
        rows = (
            conn.execute(select(interest_accruals).where(interest_accruals.c.account_id == savings))
            .mappings()
            .all()
        )
    whole = sum(int(r["accrued"]) for r in rows)
    carry = int(rows[-1]["carry"])
    assert whole + Fraction(carry, 365 * RATE_SCALE) == exact  # nothing lost, nothing invented
    assert whole == int(exact)  # floor: the remainder waits for December

    with database.read() as conn:
        before = balance(conn, savings)
    with pytest.raises(errors.ValidationFailed, match="once the month is over"):
        database.write(lambda c: service.pay_interest(c, NOVEMBER[3], today=NOVEMBER[29]))
    paid = database.write(lambda c: service.pay_interest(c, NOVEMBER[3], today=date(2026, 12, 1)))
    assert [(p.account_id, p.amount) for p in paid.payments] == [(savings, whole)]
    with database.read() as conn:
        assert balance(conn, savings) == before + whole
        journal = (
            conn.execute(
                select(transactions).where(transactions.c.id == paid.payments[0].transaction_id)
            )
            .mappings()
            .one()
        )
        assert (journal["type"], journal["to_account_id"]) == ("journal", savings)
        expense = account_service.internal_account_id(conn, "USD", service.EXPENSE)
        assert balance(conn, expense) == -whole  # derived: the bank's expense
        assert_ledger_sound(conn)
    verified(database_url, "payment")

    rerun = database.write(lambda c: service.pay_interest(c, NOVEMBER[0], today=date(2026, 12, 2)))
    assert (rerun.payments, rerun.skipped) == ([], 1)
    late = database.write(lambda c: service.accrue_interest(c, NOVEMBER[29]))
    assert late.accounts == []  # the month is paid: no more accruals in it
    with database.read() as conn:
        assert balance(conn, savings) == before + whole
        counts = conn.execute(select(func.count()).select_from(interest_payments)).scalar_one()
        assert counts == 1
    # December carries November's remainder on (the payment, posted today, is after 1 December).
    december = database.write(lambda c: service.accrue_interest(c, date(2026, 12, 1)))
    day_one = december.accounts[0]
    assert day_one.balance == before
    assert (day_one.accrued, day_one.carry) == service.accrue_day(
        carry, before, 4 * RATE_SCALE // 100
    )
    verified(database_url, "december")


def test_interest_rates_are_checked(database: Database) -> None:
    def bad(rate: str, kind: str = "savings") -> str:
        try:
            database.write(
                lambda c: service.set_rate(
                    c,
                    account_type=kind,
                    annual_rate=rate,
                    valid_from=date(2026, 1, 1),
                    actor_id=None,
                )
            )
        except errors.LedgerbankError as exc:
            return exc.code
        return "accepted"

    assert bad("1.5") == "invalid_rate"
    assert bad("-0.01") == "invalid_rate"
    assert bad("0.01", "vault") == "validation_error"
    assert bad("0") == "accepted"  # zero is a rate too
    assert bad("0.02") == "conflict"  # that day already has one


@settings(max_examples=200, deadline=None)
@given(
    days=st.lists(
        st.tuples(st.integers(0, 10**13), st.integers(0, RATE_SCALE - 1)), min_size=1, max_size=62
    ),
    carry=st.integers(0, service.PER_DAY - 1),
)
def test_daily_accrual_keeps_the_exact_remainder(days: list[tuple[int, int]], carry: int) -> None:
    exact = Fraction(carry, service.PER_DAY)
    whole = 0
    for balance_minor, rate in days:
        accrued, carry = service.accrue_day(carry, balance_minor, rate)
        assert 0 <= carry < service.PER_DAY
        whole += accrued
        exact += Fraction(balance_minor * rate, RATE_SCALE) / 365
    assert whole + Fraction(carry, service.PER_DAY) == exact


def test_the_worker_jobs_accrue_the_last_week_and_pay_last_month_once(
    database: Database, database_url: str
) -> None:
    def open_savings(conn: Connection) -> int:
        savings = create_account(conn, create_user(conn), account_type="savings")
        conn.execute(
            update(accounts)
            .where(accounts.c.id == savings)
            .values(created_at=datetime(2026, 10, 1, tzinfo=UTC))
        )
        service.set_rate(
            conn,
            account_type="savings",
            annual_rate="0.05",
            valid_from=date(2026, 10, 1),
            actor_id=None,
        )
        posting.deposit(
            conn,
            account_id=savings,
            amount="7300.00",
            actor_id=None,
            occurred_at=at(date(2026, 10, 2)),
        )
        return savings

    savings = database.write(open_savings)
    settings = Settings(database_url=database_url)
    first = JobContext(database, settings, None, datetime(2026, 11, 3, 9, tzinfo=UTC))
    # 27 Oct .. 2 Nov: 7,300.00 at 5 % earns exactly 1.00 a day.
    assert ACCRUE_INTEREST.run(first).items == 7
    assert ACCRUE_INTEREST.run(first).items == 0  # a rerun accrues nothing twice
    paid = PAY_INTEREST.run(first)
    assert (paid.items, paid.summary) == (1, "2026-10 paid to 1 accounts (5.00 USD)")
    assert PAY_INTEREST.run(first).items == 0
    with database.read() as conn:
        assert balance(conn, savings) == 730000 + 500
    verified(database_url, "jobs")


def test_closing_accrues_a_day_the_job_accrued_meanwhile_without_failing(
    database: Database, database_url: str
) -> None:
    """The daily job may accrue a day (and commit) while a close that owes the same day waits
    to write. Both compute the same row from the same entries, so the close keeps the job's row
    instead of failing on the (account, day) key, and pays that day once."""
    today = datetime.now(UTC).date()
    start = today - timedelta(days=3)

    def open_savings(conn: Connection) -> int:
        savings = create_account(conn, create_user(conn), account_type="savings")
        conn.execute(
            update(accounts)
            .where(accounts.c.id == savings)
            .values(created_at=datetime.combine(start, datetime.min.time(), UTC))
        )
        service.set_rate(
            conn, account_type="savings", annual_rate="0.05", valid_from=start, actor_id=None
        )
        posting.deposit(
            conn, account_id=savings, amount="7300.00", actor_id=None, occurred_at=at(start)
        )
        return savings

    savings = database.write(open_savings)

    def close_while_the_job_runs(conn: Connection) -> int:
        books = posting.Books(conn)
        books.lock([savings])
        owed = owed_at_close(conn, books.account(savings), utcnow(), timezone="UTC")
        assert [row["day"] for row in owed.accruals] == [start + timedelta(n) for n in range(3)]
        service.accrue_interest(conn, today - timedelta(days=1))  # the job, in between
        payment = owed.movement(books, actor_id=None)
        assert payment is not None
        books.post_unscreened(payment)
        owed.record_after_write(books, payment)
        books.write()
        return owed.amount

    paid = database.write(close_while_the_job_runs)
    assert paid == 300  # three days of 1.00, once
    with database.read() as conn:
        days = conn.execute(
            select(interest_accruals.c.day, interest_accruals.c.accrued).where(
                interest_accruals.c.account_id == savings
            )
        ).all()
        assert sorted((d, int(a)) for d, a in days) == [
            (start + timedelta(n), 100) for n in range(3)
        ]
        assert balance(conn, savings) == 730000 + 300
        assert_ledger_sound(conn)
    verified(database_url, "close beside the job")
