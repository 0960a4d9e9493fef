"""The identity test bank: the app on a fresh database and one signed-in user of every role.

Imported by tests/identity and tests/audit (whose conftest puts this folder on sys.path).

Users are made through identity's service (cheap argon2 settings, environment "test") and get
tokens issued directly; the login route has its own tests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import RowMapping, select

from ledgerbank.app import create_app
from ledgerbank.audit.tables import audit_log
from ledgerbank.config import Settings
from ledgerbank.identity import service, tokens
from ledgerbank.identity.tables import users
from ledgerbank.kit.db import Database

JWT_SECRET = "identity-tests-secret-" + "0123456789abcdef" * 4
PASSWORD = "correct horse battery"
ROLES = ("customer", "admin", "auditor", "fraud_analyst", "financial_manager", "compliance_officer")


def identity_settings(database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "jwt_secret": JWT_SECRET,
        "data_dir": data_dir,
        "environment": "test",
        "password_hash_time_cost": 1,
        "password_hash_memory_kib": 64,
        "password_hash_parallelism": 1,
    }
    return Settings(**{**values, **overrides})


@dataclass
class Bank:
    """The app under test, its database, and the people signed in to it (by name)."""

    app: FastAPI
    client: TestClient
    database: Database
    settings: Settings
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def add_user(self, name: str, role: str = "customer", password: str = PASSWORD) -> int:
        row = self.database.write(
            lambda conn: service.create_user(
                conn,
                username=name,
                password=password,
                email=f"{name}@example.com",
                full_name=name.replace("_", " ").title(),
                role=role,
            )
        )
        self.users[name] = int(row["id"])
        self.tokens[name], _ = tokens.issue(
            user_id=int(row["id"]), role=role, secret=JWT_SECRET, ttl_minutes=30
        )
        return int(row["id"])

    def refresh(self, name: str) -> str:
        """A new token for the user at their current token version (after sessions ended)."""
        user = self.user(name)
        self.tokens[name], _ = tokens.issue(
            user_id=int(user["id"]),
            role=str(user["role"]),
            secret=JWT_SECRET,
            ttl_minutes=30,
            token_version=int(user["token_version"]),
        )
        return self.tokens[name]

    def headers(self, who: str | None) -> dict[str, str]:
        return {} if who is None else {"Authorization": f"Bearer {self.tokens[who]}"}

    def call(self, who: str | None, method: str, path: str, **kwargs: Any) -> Response:
        return self.client.request(method, path, headers=self.headers(who), **kwargs)

    def login(self, username: str, password: str = PASSWORD) -> Response:
        return self.client.post("/auth/login", json={"username": username, "password": password})

    def user(self, name: str) -> RowMapping:
        with self.database.read() as conn:
            row = conn.execute(select(users).where(users.c.id == self.users[name])).mappings()
            return row.one()

    def audit(self, **where: Any) -> list[RowMapping]:
        """Audit records in id order, filtered by column values."""
        query = select(audit_log).order_by(audit_log.c.id)
        for column, value in where.items():
            query = query.where(audit_log.c[column] == value)
        with self.database.read() as conn:
            return list(conn.execute(query).mappings())


def make_bank(database_url: str, tmp_path: Path, **overrides: Any) -> Iterator[Bank]:
    settings = identity_settings(database_url, tmp_path, **overrides)
    app = create_app(settings)
    with TestClient(app) as client:
        bank = Bank(app=app, client=client, database=app.state.db, settings=settings)
        for role in ROLES:
            bank.add_user(role, role)
        yield bank
