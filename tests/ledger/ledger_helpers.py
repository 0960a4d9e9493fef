"""Small plain builders and checks shared by the ledger tests (users, accounts, invariants)."""

from __future__ import annotations

import itertools
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, func, insert, select, text
from typer.testing import CliRunner

from ledgerbank.audit.tables import audit_log
from ledgerbank.config import get_settings
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.ledger import accounts as account_service
from ledgerbank.ledger import integrity, posting
from ledgerbank.ledger.tables import accounts, entries, transactions
from ledgerbank.migrations import ddl

# Ledger tests never log in, so users get a placeholder instead of a slow argon2 hash.
DUMMY_PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$not-a-real-hash"
_sequence = itertools.count(1)


def create_user(conn: Connection, *, role: str = "customer", username: str | None = None) -> int:
    """Insert a user row directly (the ledger only needs an owner id)."""
    name = username or f"user{next(_sequence)}_{uuid.uuid4().hex[:8]}"
    now = utcnow()
    result = conn.execute(
        insert(users),
        {
            "username": name,
            "email": f"{name}@example.test",
            "full_name": name.title(),
            "role": role,
            "kyc_status": "verified",
            "password_hash": DUMMY_PASSWORD_HASH,
            "created_at": now,
            "updated_at": now,
        },
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def create_account(
    conn: Connection,
    owner_id: int,
    *,
    currency: str = "USD",
    account_type: str = "checking",
) -> int:
    """Open a customer account through the ledger service and return its id."""
    row = account_service.open_account(
        conn, owner_id=owner_id, account_type=account_type, currency=currency
    )
    return int(row["id"])


def create_funded_account(
    database: Database, owner_id: int, amount: str, *, currency: str = "USD"
) -> int:
    """Open an account and deposit `amount` into it, in one committed transaction."""

    def work(conn: Connection) -> int:
        account_id = create_account(conn, owner_id, currency=currency)
        posting.deposit(conn, account_id=account_id, amount=amount, actor_id=None)
        return account_id

    return database.write(work)


def row_counts(conn: Connection) -> dict[str, int]:
    """How many rows the ledger and the audit trail hold."""
    return {
        table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        for table in (accounts, transactions, entries, audit_log)
    }


def balance(conn: Connection, account_id: int) -> int:
    """The stored balance of a customer account (derived for internal ones)."""
    return int(account_service.get_account(conn, account_id)["balance"])


def balances(conn: Connection, account_ids: list[int]) -> dict[int, int]:
    rows = conn.execute(
        select(accounts.c.id, accounts.c.balance).where(accounts.c.id.in_(account_ids))
    )
    return {int(row.id): int(row.balance) for row in rows}


@dataclass(frozen=True)
class BalanceSheetLine:
    currency: str
    assets: int
    liabilities: int
    equity: int
    difference: int


def balance_sheet(conn: Connection) -> dict[str, BalanceSheetLine]:
    """`vw_balance_sheet`, one line per currency."""
    rows = conn.execute(
        text(
            "SELECT currency, assets_minor, liabilities_minor, equity_minor, difference_minor "
            "FROM vw_balance_sheet"
        )
    ).all()
    return {
        row[0]: BalanceSheetLine(row[0], int(row[1]), int(row[2]), int(row[3]), int(row[4]))
        for row in rows
    }


def assert_ledger_sound(conn: Connection) -> None:
    """Every invariant: the integrity view is empty, the books balance, nothing is negative."""
    assert integrity.violations(conn) == []
    for line in balance_sheet(conn).values():
        assert line.difference == 0, line
        assert line.assets == line.liabilities + line.equity, line
    negative = conn.execute(
        select(func.count()).select_from(accounts).where(accounts.c.balance < 0)
    ).scalar_one()
    assert negative == 0


def run_cli(database_url: str, *args: str) -> Any:
    """A `ledgerbank` command run in-process (Typer's runner) against the given database.

    In-process because starting the real command costs seconds of imports; one test per
    backend runs the real command in a subprocess.
    """
    from ledgerbank.cli import app as cli_app

    get_settings.cache_clear()
    try:
        return CliRunner().invoke(
            cli_app, list(args), env={"LEDGERBANK_DATABASE_URL": database_url, "COLUMNS": "200"}
        )
    finally:
        get_settings.cache_clear()


def run_ledger_verify(database_url: str) -> Any:
    """`ledgerbank ledger verify`, in-process."""
    return run_cli(database_url, "ledger", "verify")


def cli_env(database_url: str) -> dict[str, str]:
    """The environment for running the real `ledgerbank` command in a subprocess."""
    return {**os.environ, "LEDGERBANK_DATABASE_URL": database_url, "COLUMNS": "200"}


def race(workers: list[Callable[[], Any]]) -> list[BaseException]:
    """Run the workers in threads started together; return what they raised."""
    start = threading.Barrier(len(workers))
    failures: list[BaseException] = []

    def run(work: Callable[[], Any]) -> None:
        try:
            start.wait()
            work()
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(work,)) for work in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a worker hung"
    return failures


@contextmanager
def append_only_lifted(database: Database, table: str) -> Iterator[None]:
    """Switch off a table's append-only triggers for a tampering test, then put them back.

    PostgreSQL disables its trigger; SQLite and MariaDB drop and reinstall theirs with the
    migrations' own DDL (MariaDB's test database is reused by the next test, so they must
    come back even if the test fails).
    """
    if database.dialect == "postgresql":
        with database.engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
        try:
            yield
        finally:
            with database.engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only"))
        return
    _run_ddl(database, lambda: ddl.allow_changes(table))
    try:
        yield
    finally:
        _run_ddl(database, lambda: ddl.refuse_changes(table))


def _run_ddl(database: Database, step: Any) -> None:
    with database.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        step()
