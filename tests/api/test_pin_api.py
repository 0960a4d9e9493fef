"""The transaction PIN as the money service checks it: inside the transaction that moves the
money, against a keyed hash, with an attempt counter on the customer's locked row."""

from __future__ import annotations

import json
from datetime import timedelta

from api_helpers import PASSWORD, PIN, Bank, problem
from httpx import Response
from sqlalchemy import select, update

from ledgerbank.audit.tables import audit_log
from ledgerbank.identity import passwords, pins
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.keys import Keyring


def pin_row(bank: Bank, who: str) -> dict[str, object]:
    return dict(
        bank.read(
            lambda conn: (
                conn.execute(
                    select(users.c.pin_hash, users.c.failed_pins, users.c.pin_locked_until).where(
                        users.c.id == bank.users[who]
                    )
                )
                .mappings()
                .one()
            )
        )
    )


def audit_actions(bank: Bank, action: str) -> list[dict[str, object]]:
    rows = bank.read(
        lambda conn: (
            conn.execute(
                select(audit_log).where(audit_log.c.action == action).order_by(audit_log.c.id)
            )
            .mappings()
            .all()
        )
    )
    return [dict(r) for r in rows]


def withdraw(bank: Bank, account: int, pin: str | None, amount: str = "1.00") -> Response:
    body: dict[str, object] = {"account_id": account, "amount": amount}
    if pin is not None:
        body["pin"] = pin
    return bank.post("alice", "/transactions/withdraw", body)


def test_a_pin_is_a_keyed_hash_bound_to_its_customer(bank: Bank) -> None:
    for who in ("alice", "bob"):
        answer = bank.call(who, "PUT", "/users/pin", json={"pin": "4821", "password": PASSWORD})
        assert answer.status_code == 200, answer.text
    alice, bob = pin_row(bank, "alice")["pin_hash"], pin_row(bank, "bob")["pin_hash"]
    assert isinstance(alice, str)
    assert isinstance(bob, str)
    assert alice.startswith("pin$k1$")
    assert "4821" not in alice
    assert alice != bob  # the same PIN of two customers: two different hashes
    # copied onto another customer, a hash is worth nothing
    mine = bank.open_account("bob")
    bank.fund(mine, "5.00")
    bank.database.write(
        lambda conn: conn.execute(
            update(users).where(users.c.id == bank.users["bob"]).values(pin_hash=alice)
        )
    )
    problem(
        bank.post(
            "bob", "/transactions/withdraw", {"account_id": mine, "amount": "1", "pin": "4821"}
        ),
        403,
        "invalid_pin",
    )


def test_money_out_needs_a_pin_a_customer_without_one_must_set_one_first(bank: Bank) -> None:
    mine = bank.open_account("alice")
    bank.fund(mine, "10.00")
    bank.database.write(
        lambda conn: conn.execute(
            update(users).where(users.c.id == bank.users["alice"]).values(pin_hash=None)
        )
    )
    first = problem(withdraw(bank, mine, "1234"), 403, "pin_required")
    assert first["pin_set"] is False
    assert "set a transaction PIN" in first["detail"]
    # deposits need no PIN
    assert (
        bank.post("alice", "/transactions/deposit", {"account_id": mine, "amount": "1"}).status_code
        == 201
    )
    assert bank.call(
        "alice", "PUT", "/users/pin", json={"pin": "1234", "password": PASSWORD}
    ).is_success
    missing = problem(withdraw(bank, mine, None), 403, "pin_required")
    assert missing["pin_set"] is True
    assert pin_row(bank, "alice")["failed_pins"] == 0  # a missing PIN is not a wrong one
    assert withdraw(bank, mine, "1234").status_code == 201


def test_wrong_pins_count_warn_before_the_last_try_then_lock(bank: Bank) -> None:
    mine = bank.open_account("alice")
    bank.fund(mine, "10.00")
    before = bank.counts()
    for attempt in range(1, 5):
        wrong = problem(withdraw(bank, mine, "0000"), 403, "invalid_pin")
        assert wrong["attempts_left"] == 5 - attempt
        assert pin_row(bank, "alice")["failed_pins"] == attempt
    assert "one try is left" in wrong["detail"]
    locked = problem(withdraw(bank, mine, "0000"), 429, "pin_locked")
    assert locked["retry_after"] > 14 * 60
    assert "locked_until" in locked
    # locked: even the right PIN is refused, and it is not evaluated
    problem(withdraw(bank, mine, PIN), 429, "pin_locked")
    assert bank.counts() == before  # nothing moved, no key stored
    failed = audit_actions(bank, "auth.pin_failed")
    assert [json.loads(str(r["after"]))["failures"] for r in failed] == [1, 2, 3, 4, 5]
    assert all("0000" not in str(r["after"]) for r in failed)
    assert len(audit_actions(bank, "auth.pin_locked")) == 1
    # once the lock passes, the right PIN works and clears the count
    bank.database.write(
        lambda conn: conn.execute(
            update(users)
            .where(users.c.id == bank.users["alice"])
            .values(pin_locked_until=utcnow() - timedelta(seconds=1))
        )
    )
    assert withdraw(bank, mine, PIN).status_code == 201
    assert pin_row(bank, "alice")["pin_locked_until"] is None


def test_a_first_round_argon2_pin_is_checked_once_then_rekeyed(bank: Bank) -> None:
    mine = bank.open_account("alice")
    bank.fund(mine, "10.00")
    legacy = passwords.hash_secret("9753")
    bank.database.write(
        lambda conn: conn.execute(
            update(users).where(users.c.id == bank.users["alice"]).values(pin_hash=legacy)
        )
    )
    wrong = problem(withdraw(bank, mine, "1111"), 403, "invalid_pin")
    assert wrong["attempts_left"] == 4
    assert pin_row(bank, "alice")["pin_hash"] == legacy  # still the old hash
    assert pin_row(bank, "alice")["failed_pins"] == 1
    assert withdraw(bank, mine, "9753").status_code == 201
    row = pin_row(bank, "alice")
    assert str(row["pin_hash"]).startswith("pin$")
    assert row["failed_pins"] == 0
    assert withdraw(bank, mine, "9753").status_code == 201
    assert bank.balance(mine) == 8_00


def test_pin_keys_rotate_an_old_key_verifies_and_is_replaced(bank: Bank) -> None:
    mine = bank.open_account("alice")
    bank.fund(mine, "10.00")
    old = Keyring.parse("k1:" + "o" * 40, setting="test")
    new = Keyring.parse("k2:" + "n" * 40 + ",k1:" + "o" * 40, setting="test")
    bank.database.write(
        lambda conn: conn.execute(
            update(users)
            .where(users.c.id == bank.users["alice"])
            .values(pin_hash=pins.hash_pin(old, bank.users["alice"], "5555"))
        )
    )
    bank.app.state.money.keyring = new
    assert withdraw(bank, mine, "5555").status_code == 201
    assert str(pin_row(bank, "alice")["pin_hash"]).startswith("pin$k2$")
    retired = Keyring.parse("k3:" + "r" * 40, setting="test")  # k2 retired: its hashes fail
    bank.app.state.money.keyring = retired
    problem(withdraw(bank, mine, "5555"), 403, "invalid_pin")
