"""A small bank for LedgerGPT tests: three customers, staff of every role, a little history at
fixed moments, and helpers to snapshot the whole database (to prove nothing changed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import inspect, text

from ledgerbank.identity import passwords, tokens
from ledgerbank.identity import service as identity
from ledgerbank.kit.db import Database
from ledgerbank.ledger import posting
from ledgerbank.ledger.accounts import open_account, set_status

NOW = datetime(2026, 3, 18, 12, 0, tzinfo=UTC)
JWT_SECRET = "ledgergpt-tests-secret-" + "0123456789abcdef" * 4
PASSWORD = "correct horse battery"
STAFF = ("admin", "auditor", "fraud_analyst", "financial_manager", "compliance_officer")
# Tables the audit trail may grow in while everything else stays as it was.
AUDIT_TABLES = ("audit_log", "audit_chain")


@dataclass
class SmallBank:
    database: Database
    users: dict[str, int] = field(default_factory=dict)
    accounts: dict[str, int] = field(default_factory=dict)

    def token(self, username: str, role: str) -> str:
        token, _ = tokens.issue(
            user_id=self.users[username], role=role, secret=JWT_SECRET, ttl_minutes=30
        )
        return token


# Cheap password hashing: these tests are about LedgerGPT, not argon2's cost.
CHEAP_HASHING = {"time_cost": 1, "memory_kib": 64, "parallelism": 1}


def build(database: Database) -> SmallBank:
    passwords.configure(**CHEAP_HASHING)
    bank = SmallBank(database)
    people = [
        ("alice", "customer", "Alice Johnson"),
        ("bob", "customer", "Bob Smith"),
        ("carol", "customer", "Carol Martinez"),
        *((role, role, role.replace("_", " ").title()) for role in STAFF),
    ]

    def create(conn: Any) -> None:
        for username, role, name in people:
            row = identity.create_user(
                conn,
                username=username,
                password=PASSWORD,
                email=f"{username}@example.com",
                full_name=name,
                role=role,
            )
            bank.users[username] = int(row["id"])
        for key, owner, kind, currency in (
            ("alice.checking", "alice", "checking", "USD"),
            ("alice.savings", "alice", "savings", "USD"),
            ("bob.checking", "bob", "checking", "USD"),
            ("carol.checking", "carol", "checking", "EUR"),
        ):
            account = open_account(
                conn, owner_id=bank.users[owner], account_type=kind, currency=currency
            )
            bank.accounts[key] = int(account["id"])

    database.write(create)
    ids = bank.accounts
    moments = [NOW - timedelta(days=40 - 2 * i, hours=i % 5) for i in range(20)]

    def history(conn: Any) -> None:
        actor = bank.users["alice"]
        posting.deposit(
            conn,
            account_id=ids["alice.checking"],
            amount="2500.00",
            actor_id=actor,
            occurred_at=moments[0],
            description="Salary",
        )
        posting.deposit(
            conn,
            account_id=ids["bob.checking"],
            amount="1200.00",
            actor_id=actor,
            occurred_at=moments[1],
            description="Salary",
        )
        posting.deposit(
            conn,
            account_id=ids["carol.checking"],
            amount="900.00",
            actor_id=actor,
            occurred_at=moments[2],
            description="Salary",
        )
        for i, amount in enumerate(("120.00", "640.00", "75.50", "980.00", "15.25")):
            posting.transfer(
                conn,
                from_account_id=ids["alice.checking"],
                to_account_id=ids["bob.checking"],
                amount=amount,
                actor_id=actor,
                occurred_at=moments[3 + i],
                description="Rent share" if i == 1 else "Dinner",
            )
        posting.withdraw(
            conn,
            account_id=ids["bob.checking"],
            amount="200.00",
            actor_id=bank.users["bob"],
            occurred_at=moments[10],
            description="ATM withdrawal",
        )
        posting.transfer(
            conn,
            from_account_id=ids["alice.checking"],
            to_account_id=ids["alice.savings"],
            amount="300.00",
            actor_id=actor,
            occurred_at=moments[12],
            description="Monthly savings",
        )
        set_status(
            conn,
            ids["carol.checking"],
            status="frozen",
            reason="review",
            actor_id=bank.users["compliance_officer"],
        )

    database.write(history)
    return bank


def snapshot(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows (but the audit trail's), and the set of tables and views."""
    with database.engine.connect() as conn:
        names = sorted(inspect(conn).get_table_names())
        views = sorted(inspect(conn).get_view_names())
        found: dict[str, list[tuple[Any, ...]]] = {
            "__tables__": [tuple(names)],
            "__views__": [tuple(views)],
        }
        for name in names:
            if name in AUDIT_TABLES:
                continue
            quoted = conn.dialect.identifier_preparer.quote(name)
            rows = conn.execute(text(f"SELECT * FROM {quoted}")).all()
            found[name] = sorted((tuple(row) for row in rows), key=repr)
        conn.rollback()
    return found


def audit_actions_since(database: Database, after_id: int) -> list[str]:
    with database.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT action FROM audit_log WHERE id > :after ORDER BY id"), {"after": after_id}
        ).scalars()
        return list(rows)


def last_audit_id(database: Database) -> int:
    with database.engine.connect() as conn:
        return int(conn.execute(text("SELECT COALESCE(MAX(id), 0) FROM audit_log")).scalar_one())
