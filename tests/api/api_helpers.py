"""The API test bank: the app on a fresh database, one user of every role, and plain builders.

Users are created through identity's service and signed in with tokens issued directly, so the
ledger API tests do not depend on the login route. Money set-up goes through the posting
engine; everything under test goes through HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Connection, func, select

from ledgerbank.config import Settings
from ledgerbank.identity import pins, tokens
from ledgerbank.identity import service as identity
from ledgerbank.identity.tables import users
from ledgerbank.kit.db import Database
from ledgerbank.ledger import accounts as account_service
from ledgerbank.ledger import integrity, posting
from ledgerbank.ledger.screening import (
    Assessment,
    Proposal,
    Screen,
    Screened,
    StatelessScreen,
    Verdict,
)
from ledgerbank.ledger.tables import accounts, entries, idempotency_keys, transactions

JWT_SECRET = "test-secret-of-the-ledger-api-tests-32b"  # HS256 wants >= 32 bytes
PASSWORD = "correct horse battery"
PIN = "2468"  # every customer's transaction PIN (money leaving an account needs it)
STAFF_ROLES = ("admin", "auditor", "fraud_analyst", "financial_manager", "compliance_officer")
# "alice" and "bob" are customers; the staff users are named after their roles.
PEOPLE = ("alice", "bob", *STAFF_ROLES)


def api_settings(database_url: str, data_dir: Path) -> Settings:
    return Settings(
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        data_dir=data_dir,
        environment="test",
        password_hash_time_cost=1,
        password_hash_memory_kib=8,
        password_hash_parallelism=1,
        risk_enabled=False,  # the ledger API is tested with its own screens (see ThresholdScreen)
    )


@dataclass
class Bank:
    """The app under test and the people of the bank."""

    app: FastAPI
    client: TestClient
    database: Database
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, who: str | None, **extra: str) -> dict[str, str]:
        found = dict(extra)
        if who is not None:
            found["Authorization"] = f"Bearer {self.tokens[who]}"
        return found

    def call(
        self,
        who: str | None,
        method: str,
        path: str,
        *,
        json: Any = None,
        key: str | None = None,
        **kwargs: Any,
    ) -> Response:
        extra = {"Idempotency-Key": key} if key is not None else {}
        return self.client.request(
            method, path, json=json, headers=self.headers(who, **extra), **kwargs
        )

    def get(self, who: str | None, path: str, **kwargs: Any) -> Response:
        return self.call(who, "GET", path, **kwargs)

    def post(self, who: str | None, path: str, json: Any = None, **kwargs: Any) -> Response:
        return self.call(who, "POST", path, json=json, **kwargs)

    # --- set-up through the services (not under test here) ---

    def add_users(self, people: dict[str, str]) -> None:
        """Create users (name -> role) in one transaction and give each a token."""

        keyring = self.app.state.settings.pin_keyring()

        def create(conn: Connection) -> dict[str, int]:
            made = {
                name: int(
                    identity.create_user(
                        conn,
                        username=name,
                        password=PASSWORD,
                        email=f"{name}@example.test",
                        full_name=name.title(),
                        role=role,
                        kyc_status="verified",
                    )["id"]
                )
                for name, role in people.items()
            }
            for name, user_id in made.items():
                if people[name] == "customer":
                    conn.execute(
                        users.update()
                        .where(users.c.id == user_id)
                        .values(pin_hash=pins.hash_pin(keyring, user_id, PIN))
                    )
            return made

        for name, user_id in self.database.write(create).items():
            self.users[name] = user_id
            self.tokens[name], _ = tokens.issue(
                user_id=user_id, role=people[name], secret=JWT_SECRET, ttl_minutes=30
            )

    def open_account(self, who: str, *, currency: str = "USD", kind: str = "checking") -> int:
        row = self.database.write(
            lambda conn: account_service.open_account(
                conn, owner_id=self.users[who], account_type=kind, currency=currency
            )
        )
        return int(row["id"])

    def fund(self, account_id: int, amount: str) -> int:
        """Deposit through the posting engine; the transaction id."""
        result = self.database.write(
            lambda conn: posting.deposit(conn, account_id=account_id, amount=amount, actor_id=None)
        )
        return int(result.transaction["id"])

    def approve(self, proposed: Response) -> dict[str, Any]:
        """Four eyes: what one admin proposed (202) a second admin, "checker", approves; the
        decided approval (its `result` is what the action answered)."""
        assert proposed.status_code == 202, proposed.text
        if "checker" not in self.users:
            self.add_users({"checker": "admin"})
        approval = proposed.json()["approval_id"]
        decided = self.post("checker", f"/approvals/{approval}/approve", json={})
        assert decided.status_code == 200, decided.text
        assert decided.json()["status"] == "approved", decided.text
        found: dict[str, Any] = decided.json()
        return found

    def pay_in_cash(self, account_id: int, amount: str) -> int:
        """Cash paid in at the counter by staff: above LEDGERBANK_APPROVAL_DEPOSIT_ABOVE it
        waits for a second admin, who approves it here. The posted transaction's id."""
        body = {"account_id": account_id, "amount": amount}
        answer = self.post("admin", "/transactions/deposit", body)
        if answer.status_code == 201:
            return int(answer.json()["id"])
        return int(self.approve(answer)["result"]["transaction_id"])

    def set_screen(self, screen: Screen) -> None:
        self.app.state.screen = screen

    # --- reading the database directly, to check what was (not) written ---

    def balance(self, account_id: int) -> int:
        with self.database.read() as conn:
            return int(
                conn.execute(
                    select(accounts.c.balance).where(accounts.c.id == account_id)
                ).scalar_one()
            )

    def counts(self) -> dict[str, int]:
        with self.database.read() as conn:
            return {
                table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                for table in (transactions, entries, idempotency_keys)
            }

    def violations(self) -> list[Any]:
        with self.database.read() as conn:
            return integrity.violations(conn)

    def read(self, fn: Any) -> Any:
        with self.database.read() as conn:
            return fn(conn)


def problem(response: Response, status: int, code: str) -> dict[str, Any]:
    """Check that `response` is an RFC 9457 problem with this status and code; its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def threshold_reason(proposal: Proposal) -> dict[str, Any]:
    """A rule reason shaped like the risk engine's: which rule, about which account."""
    account = proposal.source or proposal.destination
    return {"kind": "rule", "rule": "test_threshold", "account_id": account and account.id}


class ThresholdScreen(StatelessScreen):
    """A risk screen for tests: CRITICAL at or above `block_from` minor units, SAFE below.

    It stands in for the risk engine (another domain) and goes through the real `Screen` seam:
    the posting engine asks it before writing and tells it what was written.
    """

    def __init__(self, block_from: int) -> None:
        self.block_from = block_from
        self.recorded: list[Screened] = []

    def assess(self, conn: Connection, proposals: Sequence[Proposal]) -> list[Assessment]:
        return [
            Assessment(0.97, Verdict.CRITICAL, [threshold_reason(p)], "test-1")
            if p.amount >= self.block_from
            else Assessment(0.05, Verdict.SAFE, [], "test-1")
            for p in proposals
        ]

    def record(self, conn: Connection, screened: Sequence[Screened]) -> None:
        self.recorded.extend(screened)
