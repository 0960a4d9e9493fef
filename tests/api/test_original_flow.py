"""The original system's documented flow against a real server: uvicorn in a subprocess.

Register, sign in, open a savings account in USD, deposit, transfer to a second customer, then
read the balance and the statement, with a plain HTTP client, exactly as its curl examples do.
Second round: money leaves an account only once the bank verified the customer's identity and
the customer set a transaction PIN, so the flow has those two steps before the transfer.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyotp
import pytest

from ledgerbank.identity import service as identity
from ledgerbank.kit.db import Database
from server import serving

pytestmark = pytest.mark.http


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """The base URL of a uvicorn serving ledgerbank on the fixture's database, with an admin
    made the way the README makes the first one."""
    database = Database.from_url(database_url)
    database.write(
        lambda conn: identity.create_user(
            conn,
            username="admin",
            password=ADMIN_PASSWORD,
            email="ops@bank.example",
            full_name="Operations",
            role="admin",
        )
    )
    database.dispose()
    with serving(
        database_url, tmp_path, jwt_secret="original-flow-secret-of-32-bytes-at-least"
    ) as running:
        yield running.url


ADMIN_PASSWORD = "an admin's long passphrase"


def _customer(http: httpx.Client, username: str, full_name: str) -> dict[str, str]:
    """Register and sign in; the Authorization header for the new customer."""
    registered = http.post(
        "/auth/register",
        json={
            "username": username,
            "password": "a long and private passphrase",
            "email": f"{username}@mail.example.org",
            "full_name": full_name,
            "date_of_birth": "1990-04-01",
        },
    )
    assert registered.status_code == 201, registered.text
    assert registered.json()["role"] == "customer"
    return _sign_in(http, username, "a long and private passphrase")


def _sign_in(http: httpx.Client, username: str, password: str) -> dict[str, str]:
    login = http.post("/auth/login", json={"username": username, "password": password})
    assert login.status_code == 200, login.text
    token = login.json()
    assert token["token_type"] == "bearer"
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    if token["enrolment_required"]:  # staff enrol a second factor first, as an app would
        secret = http.post("/users/2fa/setup", headers=headers).json()["secret"]
        enabled = http.post(
            "/users/2fa/enable", headers=headers, json={"code": pyotp.TOTP(secret).now()}
        )
        assert enabled.status_code == 200, enabled.text
        headers = {"Authorization": f"Bearer {enabled.json()['access_token']}"}
    return headers


def test_register_login_open_deposit_transfer_balance_statement(server: str) -> None:
    with httpx.Client(base_url=server, timeout=30) as http:
        alice = _customer(http, "alice", "Alice Example")
        bob = _customer(http, "bob", "Bob Example")

        opened = http.post(
            "/accounts/", json={"account_type": "savings", "currency": "USD"}, headers=alice
        )
        assert opened.status_code == 201, opened.text
        savings = opened.json()
        assert (savings["account_type"], savings["currency"], savings["balance"]) == (
            "savings",
            "USD",
            "0.00",
        )
        bobs = http.post("/accounts/", json={"account_type": "checking"}, headers=bob).json()

        deposit = http.post(
            "/transactions/deposit",
            json={"account_id": savings["id"], "amount": "500.00", "description": "first pay"},
            headers={**alice, "Idempotency-Key": "deposit-1"},
        )
        assert deposit.status_code == 201, deposit.text
        assert deposit.json()["amount"] == "500.00"

        # The bank verifies alice's identity; alice sets her transaction PIN.
        admin = _sign_in(http, "admin", ADMIN_PASSWORD)
        me = http.get("/auth/me", headers=alice).json()
        verified = http.put(
            f"/admin/users/{me['id']}/kyc", json={"kyc_status": "verified"}, headers=admin
        )
        assert verified.status_code == 200, verified.text
        pin = http.put(
            "/users/pin",
            json={"pin": "1357", "password": "a long and private passphrase"},
            headers=alice,
        )
        assert pin.status_code == 200, pin.text

        transfer = http.post(
            "/transactions/transfer",
            json={
                "from_account_id": savings["id"],
                "to_account_id": bobs["id"],
                "amount": 125.5,
                "description": "concert tickets",
                "pin": "1357",
            },
            headers={**alice, "Idempotency-Key": "transfer-1"},
        )
        assert transfer.status_code == 201, transfer.text
        assert transfer.json()["amount"] == "125.50"
        assert "risk" not in transfer.json()  # a customer never reads the risk screen's verdict

        balance = http.get(f"/accounts/{savings['id']}/balance", headers=alice)
        assert balance.status_code == 200
        assert balance.json()["balance"] == "374.50"
        assert balance.json()["available_balance"] == "374.50"
        assert http.get(f"/accounts/{bobs['id']}/balance", headers=bob).json()["balance"] == (
            "125.50"
        )
        # bob cannot read alice's account
        assert http.get(f"/accounts/{savings['id']}/balance", headers=bob).status_code == 404

        statement = http.get(f"/accounts/{savings['id']}/statement", headers=alice).json()
        assert statement["opening_balance"] == "0.00"
        assert statement["closing_balance"] == "374.50"
        assert [(e["type"], e["amount"], e["balance_after"]) for e in statement["entries"]] == [
            ("deposit", "500.00", "500.00"),
            ("transfer", "-125.50", "374.50"),
        ]
        download = http.get(
            f"/accounts/{savings['id']}/statement", params={"format": "csv"}, headers=alice
        )
        assert download.status_code == 200
        rows = list(csv.DictReader(io.StringIO(download.text)))
        assert [r["balance_after"] for r in rows] == ["500.00", "374.50"]
