"""Builders for the risk tests: an in-memory bank replayed through the rolling statistics, and
a database bank posting through the real engine with the real screen."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from ledgerbank.config import Settings
from ledgerbank.identity import passwords
from ledgerbank.identity import service as identity
from ledgerbank.kit.db import Database
from ledgerbank.kit.money import to_minor
from ledgerbank.ledger import accounts as account_service
from ledgerbank.ledger import posting
from ledgerbank.ledger.tables import accounts
from ledgerbank.risk.features import KINDS
from ledgerbank.risk.params import Params
from ledgerbank.risk.screen import RiskScreen
from ledgerbank.risk.training import Replay, Replayed

NOON = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)  # a Monday


def risk_settings(data_dir: Path | None = None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "environment": "test",
        "password_hash_time_cost": 1,
        "password_hash_memory_kib": 8,
        "password_hash_parallelism": 1,
        "jwt_secret": "test-secret-of-the-risk-tests-000000000",
    }
    if data_dir is not None:
        values["data_dir"] = data_dir
    return Settings(**{**values, **overrides})


@dataclass
class Sim:
    """Accounts and movements replayed in memory, exactly as `risk score` replays history."""

    settings: Settings = field(default_factory=risk_settings)
    owners: dict[int, int] = field(default_factory=dict)
    opened: dict[int, int] = field(default_factory=dict)
    balances: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.params = Params.from_settings(self.settings)
        self.state = Replay(self.params)
        self._ids = 0

    def account(self, *, owner: int | None = None, opened: datetime | None = None) -> int:
        self._ids += 1
        self.owners[self._ids] = owner if owner is not None else 1000 + self._ids
        self.opened[self._ids] = int((opened or NOON - timedelta(days=400)).timestamp())
        self.balances[self._ids] = 0
        return self._ids

    def move(
        self,
        kind: str,
        amount: str,
        *,
        src: int | None = None,
        dst: int | None = None,
        at: datetime = NOON,
        status: str = "posted",
    ) -> Replayed:
        minor = to_minor(amount, "USD")
        item = self.state.step(
            transaction_id=0,
            kind=KINDS[kind],
            status=status,
            amount=minor,
            currency="USD",
            t=int(at.timestamp()),
            src_id=src,
            dst_id=dst,
            src_owner=self.owners.get(src) if src else None,
            dst_owner=self.owners.get(dst) if dst else None,
            src_opened=self.opened.get(src) if src else None,
            dst_opened=self.opened.get(dst) if dst else None,
            src_balance=self.balances[src] if src else None,
        )
        if status == "posted":
            if src:
                self.balances[src] -= minor
            if dst:
                self.balances[dst] += minor
        return item

    def deposit(self, account: int, amount: str, at: datetime = NOON) -> Replayed:
        return self.move("deposit", amount, dst=account, at=at)

    def withdraw(self, account: int, amount: str, at: datetime = NOON) -> Replayed:
        return self.move("withdrawal", amount, src=account, at=at)

    def transfer(self, src: int, dst: int, amount: str, at: datetime = NOON) -> Replayed:
        return self.move("transfer", amount, src=src, dst=dst, at=at)


def fired(item: Replayed) -> set[str]:
    return {hit.rule.id for hit in item.hits}


@dataclass
class DbBank:
    """Customers and accounts in a real database; movements through the posting engine."""

    database: Database
    screen: RiskScreen
    users: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        passwords.configure(time_cost=1, memory_kib=8, parallelism=1)  # fast hashes for tests

    def customer(self, name: str, role: str = "customer") -> int:
        row = self.database.write(
            lambda conn: identity.create_user(
                conn,
                username=name,
                password="correct horse battery",
                email=f"{name}@example.test",
                full_name=name.title(),
                role=role,
            )
        )
        self.users[name] = int(row["id"])
        return int(row["id"])

    def account(self, owner: str, *, kind: str = "checking", opened: datetime | None = None) -> int:
        def open_it(conn: Connection) -> int:
            row = account_service.open_account(
                conn, owner_id=self.users[owner], account_type=kind, currency="USD"
            )
            if opened is not None:  # an account opened long ago (the table has no trigger)
                conn.execute(
                    accounts.update().where(accounts.c.id == row["id"]).values(created_at=opened)
                )
            return int(row["id"])

        return self.database.write(open_it)

    def deposit(self, account: int, amount: str, *, at: datetime | None = None) -> posting.Posting:
        return self.database.write(
            lambda conn: posting.deposit(
                conn,
                account_id=account,
                amount=amount,
                actor_id=None,
                screen=self.screen,
                occurred_at=at,
            )
        )

    def withdraw(self, account: int, amount: str) -> posting.Posting:
        return self.database.write(
            lambda conn: posting.withdraw(
                conn, account_id=account, amount=amount, actor_id=None, screen=self.screen
            )
        )

    def transfer(
        self, src: int, dst: int, amount: str, *, at: datetime | None = None
    ) -> posting.Posting:
        return self.database.write(
            lambda conn: posting.transfer(
                conn,
                from_account_id=src,
                to_account_id=dst,
                amount=amount,
                actor_id=None,
                screen=self.screen,
                occurred_at=at,
            )
        )

    def balance(self, account: int) -> int:
        with self.database.read() as conn:
            return int(
                conn.execute(
                    select(accounts.c.balance).where(accounts.c.id == account)
                ).scalar_one()
            )

    def rows(self, query: Any) -> list[Any]:
        with self.database.read() as conn:
            return list(conn.execute(query).mappings())
