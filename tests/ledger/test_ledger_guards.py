"""The database's own guards: append-only triggers, CHECK constraints, unique and foreign keys.

These hold for writes that bypass the posting engine, on every backend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from ledger_helpers import create_funded_account, create_user, row_counts
from sqlalchemy import Connection, delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.audit.tables import audit_chain, audit_log
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.ledger import accounts as account_service
from ledgerbank.ledger import integrity, posting
from ledgerbank.ledger.tables import accounts, entries, idempotency_keys, transactions


def funded(database: Database) -> tuple[int, int]:
    owner = database.write(create_user)
    return owner, create_funded_account(database, owner, "100.00")


def refused(database: Database, statement: Callable[[Connection], Any], match: str) -> None:
    """The statement fails inside the database, and the failed transaction changed nothing."""
    with database.read() as conn:
        before = row_counts(conn)
    with pytest.raises(DBAPIError, match=match):
        database.write(statement)
    with database.read() as conn:
        assert row_counts(conn) == before


def test_entries_and_audit_records_cannot_be_changed_or_deleted(database: Database) -> None:
    funded(database)
    database.write(audit.seal)
    with database.read() as conn:
        entry = conn.execute(select(entries).limit(1)).mappings().one()
        record = conn.execute(select(audit_log).limit(1)).mappings().one()
        link = conn.execute(select(audit_chain).limit(1)).mappings().one()

    refused(
        database,
        lambda c: c.execute(update(entries).values(amount=entries.c.amount * 2)),
        "append-only",
    )
    refused(
        database,
        lambda c: c.execute(
            update(entries).where(entries.c.id == entry["id"]).values(balance_after=0)
        ),
        "append-only",
    )
    refused(database, lambda c: c.execute(delete(entries)), "append-only")
    refused(
        database,
        lambda c: c.execute(
            update(audit_log).where(audit_log.c.id == record["id"]).values(after='{"x":1}')
        ),
        "append-only",
    )
    refused(database, lambda c: c.execute(delete(audit_log)), "append-only")
    refused(
        database,
        lambda c: c.execute(update(audit_chain).values(chain_hash="0" * 64)),
        "append-only",
    )
    refused(database, lambda c: c.execute(delete(audit_chain)), "append-only")
    refused(database, lambda c: c.execute(delete(transactions)), "append-only")
    # Raw SQL too, not just statements built by SQLAlchemy.
    refused(database, lambda c: c.execute(text("DELETE FROM entries WHERE 1 = 1")), "append-only")

    with database.read() as conn:
        assert (
            conn.execute(select(entries).where(entries.c.id == entry["id"])).mappings().one()
            == entry
        )
        assert (
            conn.execute(select(audit_log).where(audit_log.c.id == record["id"])).mappings().one()
            == record
        )
        assert conn.execute(select(audit_chain).limit(1)).mappings().one() == link


def test_check_constraints_refuse_impossible_rows(database: Database) -> None:
    _owner, account = funded(database)
    with database.read() as conn:
        transaction_id = conn.execute(select(transactions.c.id)).scalar_one()

    def set_balance(value: int) -> Callable[[Connection], Any]:
        return lambda c: c.execute(
            update(accounts).where(accounts.c.id == account).values(balance=value)
        )

    refused(database, set_balance(-1), "balance_not_below_limit")
    refused(
        database,
        lambda c: c.execute(update(accounts).where(accounts.c.id == account).values(status="gone")),
        "status_known",
    )
    refused(
        database,
        lambda c: c.execute(
            update(accounts).where(accounts.c.id == account).values(overdraft_limit=-5)
        ),
        "overdraft_not_negative",
    )
    refused(
        database,
        lambda c: c.execute(
            insert(entries).values(
                transaction_id=transaction_id,
                account_id=account,
                amount=0,
                currency="USD",
                balance_after=10000,
                posted_at=utcnow(),
            )
        ),
        "amount_not_zero",
    )
    refused(
        database,
        lambda c: c.execute(
            insert(transactions).values(
                type="transfer", status="posted", amount=-5, currency="USD", created_at=utcnow()
            )
        ),
        "amount_positive",
    )
    refused(
        database,
        lambda c: c.execute(
            insert(transactions).values(
                type="gift", status="posted", amount=5, currency="USD", created_at=utcnow()
            )
        ),
        "type_known",
    )
    # An account with an overdraft may go below zero down to its limit, and no further.
    database.write(
        lambda c: c.execute(
            update(accounts).where(accounts.c.id == account).values(overdraft_limit=500)
        )
    )
    database.write(set_balance(-500))
    refused(database, set_balance(-501), "balance_not_below_limit")
    with database.read() as conn:
        assert (
            conn.execute(select(accounts.c.balance).where(accounts.c.id == account)).scalar_one()
            == -500
        )


def test_overdraft_limit_is_honoured_by_the_engine(database: Database) -> None:
    owner = database.write(create_user)

    def open_with_overdraft(conn: Connection) -> int:
        row = account_service.open_account(
            conn, owner_id=owner, account_type="checking", currency="USD", overdraft_limit=2000
        )
        posting.deposit(conn, account_id=row["id"], amount="10.00", actor_id=None)
        return int(row["id"])

    account = database.write(open_with_overdraft)
    database.write(lambda c: posting.withdraw(c, account_id=account, amount="30.00", actor_id=None))
    with pytest.raises(errors.InsufficientFunds):
        database.write(
            lambda c: posting.withdraw(c, account_id=account, amount="0.01", actor_id=None)
        )
    with database.read() as conn:
        assert (
            conn.execute(select(accounts.c.balance).where(accounts.c.id == account)).scalar_one()
            == -2000
        )
        assert integrity.violations(conn) == []


def test_unique_keys_refuse_duplicates(database: Database) -> None:
    owner, _account = funded(database)
    key = {
        "scope": f"user:{owner}",
        "key": "4f1c7a56-retry",
        "request_hash": "a" * 64,
        "response_status": 201,
        "response_body": "{}",
        "created_at": utcnow(),
    }
    database.write(lambda c: c.execute(insert(idempotency_keys).values(**key)))
    with pytest.raises(IntegrityError):
        database.write(
            lambda c: c.execute(
                insert(idempotency_keys).values(**{**key, "request_hash": "b" * 64})
            )
        )
    # The same key in another scope is a different key.
    database.write(
        lambda c: c.execute(insert(idempotency_keys).values(**{**key, "scope": "user:other"}))
    )
    with database.read() as conn:
        assert (
            conn.execute(select(idempotency_keys.c.scope)).scalars().all().count(key["scope"]) == 1
        )

    header = {"type": "deposit", "status": "posted", "amount": 5, "currency": "USD"}
    database.write(
        lambda c: c.execute(
            insert(transactions).values(**header, external_id="bank-1", created_at=utcnow())
        )
    )
    with pytest.raises(IntegrityError):
        database.write(
            lambda c: c.execute(
                insert(transactions).values(**header, external_id="bank-1", created_at=utcnow())
            )
        )


def test_foreign_keys_are_enforced(database: Database) -> None:
    _owner, account = funded(database)
    missing = 987_654_321
    with database.read() as conn:
        transaction_id = conn.execute(select(transactions.c.id)).scalar_one()
    now = utcnow()
    attempts: list[Callable[[Connection], Any]] = [
        lambda c: c.execute(
            insert(entries).values(
                transaction_id=transaction_id,
                account_id=missing,
                amount=5,
                currency="USD",
                posted_at=now,
            )
        ),
        lambda c: c.execute(
            insert(entries).values(
                transaction_id=missing, account_id=account, amount=5, currency="USD", posted_at=now
            )
        ),
        lambda c: c.execute(
            insert(transactions).values(
                type="transfer",
                status="posted",
                amount=5,
                currency="USD",
                from_account_id=missing,
                created_at=now,
            )
        ),
        lambda c: c.execute(
            insert(transactions).values(
                type="reversal",
                status="posted",
                amount=5,
                currency="USD",
                reverses_id=missing,
                created_at=now,
            )
        ),
        lambda c: c.execute(
            update(accounts).where(accounts.c.id == account).values(owner_id=missing)
        ),
        lambda c: audit.record(c, actor_id=missing, action="x", entity_type="account"),
    ]
    for attempt in attempts:
        with database.read() as conn:
            before = row_counts(conn)
        with pytest.raises(IntegrityError):
            database.write(attempt)
        with database.read() as conn:
            assert row_counts(conn) == before
