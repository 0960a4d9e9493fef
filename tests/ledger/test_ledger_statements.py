"""Point-in-time balances, statements for a period and keyset-paged account history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from ledger_helpers import assert_ledger_sound, balance, create_account, create_user, row_counts
from sqlalchemy import Connection

from ledgerbank import errors
from ledgerbank.kit.db import Database
from ledgerbank.ledger import posting, statements

T1 = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)
T2 = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)
T3 = datetime(2024, 2, 1, 0, 0, tzinfo=UTC)
T4 = datetime(2024, 2, 20, 17, 30, 0, 250_000, tzinfo=UTC)
T5 = datetime(2024, 3, 5, 8, 15, tzinfo=UTC)
T6 = datetime(2024, 3, 31, 23, 59, 59, 999_999, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def book_history(database: Database) -> tuple[int, int]:
    """Alice's quarter, booked at known moments in increasing order."""

    def work(conn: Connection) -> tuple[int, int]:
        owner = create_user(conn)
        alice = create_account(conn, owner)
        bob = create_account(conn, owner, account_type="savings")
        posting.deposit(conn, account_id=bob, amount="10.00", actor_id=None, occurred_at=T1)
        posting.deposit(conn, account_id=alice, amount="100.00", actor_id=None, occurred_at=T1)
        posting.withdraw(conn, account_id=alice, amount="20.00", actor_id=None, occurred_at=T2)
        posting.deposit(conn, account_id=alice, amount="50.00", actor_id=None, occurred_at=T3)
        posting.transfer(
            conn,
            from_account_id=alice,
            to_account_id=bob,
            amount="5.00",
            actor_id=None,
            occurred_at=T3,
        )
        posting.transfer(
            conn,
            from_account_id=bob,
            to_account_id=alice,
            amount="1.00",
            actor_id=None,
            occurred_at=T4,
        )
        posting.withdraw(conn, account_id=alice, amount="0.60", actor_id=None, occurred_at=T5)
        for cents in range(1, 6):  # five entries at the very same moment
            posting.deposit(
                conn, account_id=alice, amount=f"0.0{cents}", actor_id=None, occurred_at=T6
            )
        return alice, bob

    return database.write(work)


# Alice's balance after each moment above (the last five deposits add 0.15).
EXPECTED_AT = [
    (T1 - TICK, 0),
    (T1, 10000),
    (T1 + TICK, 10000),
    (T2 - TICK, 10000),
    (T2, 8000),
    (T3 - TICK, 8000),
    (T3, 12500),
    (T4 - TICK, 12500),
    (T4, 12600),
    (T5, 12540),
    (T6 - TICK, 12540),
    (T6, 12555),
    (datetime(2030, 1, 1, tzinfo=UTC), 12555),
]


def test_balance_at_moments(database: Database) -> None:
    alice, bob = book_history(database)
    with database.read() as conn:
        for moment, expected in EXPECTED_AT:
            assert statements.balance_at(conn, alice, moment) == expected, moment
        # The same moment in another time zone is the same moment.
        tokyo = timezone(timedelta(hours=9))
        assert statements.balance_at(conn, alice, T2.astimezone(tokyo)) == 8000
        assert statements.balance_at(conn, alice, (T2 - TICK).astimezone(tokyo)) == 10000
        assert statements.balance_at(conn, bob, T3) == 1500
        assert statements.balance_at(conn, bob, T4) == 1400
        assert balance(conn, alice) == 12555
        assert balance(conn, bob) == 1400
        assert_ledger_sound(conn)


def test_statement_for_a_period(database: Database) -> None:
    alice, _ = book_history(database)
    with database.read() as conn:
        period = statements.statement(conn, alice, start=T1 + TICK, end=T3)
        everything = statements.statement(conn, alice, start=None, end=None)
        quiet = statements.statement(
            conn,
            alice,
            start=datetime(2024, 1, 20, tzinfo=UTC),
            end=datetime(2024, 1, 25, tzinfo=UTC),
        )
        later = statements.statement(conn, alice, start=T6 + TICK, end=None)
        first_day = statements.statement(conn, alice, start=T1, end=T1)

    assert (period.opening_balance, period.closing_balance) == (10000, 12500)
    assert [(e["type"], e["amount"], e["balance_after"]) for e in period.entries] == [
        ("withdrawal", -2000, 8000),
        ("deposit", 5000, 13000),
        ("transfer", -500, 12500),
    ]
    assert [e["posted_at"] for e in period.entries] == [T2, T3, T3]

    assert (everything.opening_balance, everything.closing_balance) == (0, 12555)
    assert len(everything.entries) == 11
    running = everything.opening_balance
    for entry in everything.entries:
        running += entry["amount"]
        assert entry["balance_after"] == running
    assert all(e["status"] == "posted" for e in everything.entries)

    assert (quiet.opening_balance, quiet.closing_balance, quiet.entries) == (8000, 8000, [])
    assert (later.opening_balance, later.closing_balance, later.entries) == (12555, 12555, [])
    assert (first_day.opening_balance, first_day.closing_balance) == (0, 10000)
    assert len(first_day.entries) == 1


def test_entries_pages_return_every_entry_once(database: Database) -> None:
    alice, _ = book_history(database)
    with database.read() as conn:
        everything = statements.statement(conn, alice, start=None, end=None).entries
        newest_first = [e["entry_id"] for e in reversed(everything)]
        for limit in (1, 2, 3, 5, 11, 50):
            seen: list[int] = []
            cursor = None
            pages = 0
            while page := statements.entries_page(conn, alice, limit=limit, before=cursor):
                assert len(page) <= limit
                pages += 1
                seen += [row["id"] for row in page]
                keys = [(row["posted_at"], row["id"]) for row in page]
                assert keys == sorted(keys, reverse=True)
                cursor = keys[-1]
            assert seen == newest_first, limit
            assert pages == -(-len(newest_first) // limit), limit
    assert len(set(newest_first)) == 11


def test_a_back_dated_posting_is_refused(database: Database) -> None:
    """A posting dated before an entry its accounts already have would corrupt balance_at."""

    def work(conn: Connection) -> tuple[int, int]:
        owner = create_user(conn)
        alice, bob = create_account(conn, owner), create_account(conn, owner)
        posting.deposit(conn, account_id=alice, amount="100.00", actor_id=None, occurred_at=T2)
        posting.deposit(conn, account_id=bob, amount="1.00", actor_id=None, occurred_at=T1)
        return alice, bob

    alice, bob = database.write(work)
    with database.read() as conn:
        before = row_counts(conn)
    late = [
        lambda c: posting.deposit(
            c, account_id=alice, amount="50.00", actor_id=None, occurred_at=T1
        ),
        lambda c: posting.withdraw(
            c, account_id=alice, amount="5.00", actor_id=None, occurred_at=T2 - TICK
        ),
        # Bob's side is old enough, Alice's is not.
        lambda c: posting.transfer(
            c,
            from_account_id=bob,
            to_account_id=alice,
            amount="0.50",
            actor_id=None,
            occurred_at=T1 + TICK,
        ),
    ]
    for attempt in late:
        with pytest.raises(errors.ValidationFailed, match="time order"):
            database.write(attempt)
    with database.read() as conn:
        assert row_counts(conn) == before
    # At the same moment as the latest entry, or later, is fine.
    database.write(
        lambda c: posting.deposit(c, account_id=alice, amount="1.00", actor_id=None, occurred_at=T2)
    )
    database.write(
        lambda c: posting.transfer(
            c,
            from_account_id=bob,
            to_account_id=alice,
            amount="0.50",
            actor_id=None,
            occurred_at=T3,
        )
    )
    with database.read() as conn:
        assert statements.balance_at(conn, alice, T1) == 0
        assert statements.balance_at(conn, alice, T2) == 10100
        assert statements.balance_at(conn, alice, T3) == balance(conn, alice) == 10150
        assert_ledger_sound(conn)
