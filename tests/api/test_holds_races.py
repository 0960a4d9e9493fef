"""Bursts of holds on one account over a real server (uvicorn, two worker processes): holds and
payments serialise on the account's lock, so the account is never reserved beyond what it
holds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Connection, select, update
from test_write_path_races import PIN, PIN_KEYS, SECRET, burst

from ledgerbank.identity import api_tokens, pins, tokens
from ledgerbank.identity import service as identity
from ledgerbank.identity.tables import users
from ledgerbank.kit.db import Database
from ledgerbank.kit.keys import Keyring
from ledgerbank.ledger import accounts as account_service
from ledgerbank.ledger import integrity, posting
from ledgerbank.ledger.tables import accounts, holds
from server import Server, serving

pytestmark = pytest.mark.http


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[Database, Server]]:
    database = Database.from_url(database_url)
    with serving(
        database_url, tmp_path, jwt_secret=SECRET, workers=2, LEDGERBANK_PIN_KEYS=PIN_KEYS
    ) as server:
        yield database, server
    database.dispose()


def test_a_burst_of_holds_and_withdrawals_never_over_reserves(
    served: tuple[Database, Server],
) -> None:
    database, server = served
    keyring = Keyring.parse(PIN_KEYS, setting="test")

    def create(conn: Connection) -> tuple[int, int, int, str]:
        made = {}
        for name, role in (("admin", "admin"), ("alice", "customer")):
            made[name] = int(
                identity.create_user(
                    conn,
                    username=name,
                    password="a long and private passphrase",
                    email=f"{name}@example.test",
                    full_name=name.title(),
                    role=role,
                    kyc_status="verified",
                )["id"]
            )
        alice = made["alice"]
        conn.execute(
            update(users)
            .where(users.c.id == alice)
            .values(pin_hash=pins.hash_pin(keyring, alice, PIN))
        )
        account = int(
            account_service.open_account(
                conn, owner_id=alice, account_type="checking", currency="USD"
            )["id"]
        )
        posting.deposit(conn, account_id=account, amount="100.00", actor_id=None)
        _, secret = api_tokens.create(
            conn,
            name="processor",
            scopes=["holds"],
            owner_id=None,
            created_by=made["admin"],
            keyring=keyring,
        )
        return made["admin"], alice, account, secret

    admin, alice, account, processor = database.write(create)
    admin_token, _ = tokens.issue(user_id=admin, role="admin", secret=SECRET, ttl_minutes=30)
    alice_token, _ = tokens.issue(user_id=alice, role="customer", secret=SECRET, ttl_minutes=30)

    with httpx.Client(
        base_url=server.url, timeout=60, limits=httpx.Limits(max_connections=40)
    ) as http:

        def send(index: int) -> httpx.Response:
            if index % 3 == 2:  # the customer spends from the same account meanwhile
                return http.post(
                    "/transactions/withdraw",
                    json={"account_id": account, "amount": "10.00", "pin": PIN},
                    headers={"Authorization": f"Bearer {alice_token}"},
                )
            token = processor if index % 3 else admin_token
            return http.post(
                "/holds",
                json={"account_id": account, "amount": "10.00", "description": f"card {index}"},
                headers={"Authorization": f"Bearer {token}"},
            )

        answers = burst(30, send)

    codes = sorted(str(a.status_code) if a.status_code < 400 else a.json()["code"] for a in answers)
    assert set(codes) <= {"201", "insufficient_funds"}, codes
    placed = sum(1 for i, a in enumerate(answers) if a.status_code == 201 and i % 3 != 2)
    withdrawn = sum(1 for i, a in enumerate(answers) if a.status_code == 201 and i % 3 == 2)
    assert placed + withdrawn == 10  # exactly what 100.00 covers, never more
    with database.read() as conn:
        balance, held = conn.execute(
            select(accounts.c.balance, accounts.c.held).where(accounts.c.id == account)
        ).one()
        active = conn.execute(
            select(holds.c.amount).where(holds.c.account_id == account, holds.c.status == "active")
        ).scalars()
        assert sum(active) == held == placed * 1000
        assert balance == 10000 - withdrawn * 1000
        assert balance - held == 0
        assert integrity.violations(conn) == []
