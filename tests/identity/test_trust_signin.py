"""Signing in without enumeration or lock-out: the same answer for unknown, wrong and throttled,
counters per (user, address), per address and per user with growing delays, an audit trail that
unknown usernames cannot flood; and the second factor (TOTP, recovery codes, the enrol-only token
of staff without one)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from identity_bank import PASSWORD, Bank, make_bank
from sqlalchemy import select, update

from ledgerbank.identity.tables import login_throttles, users
from ledgerbank.kit.clock import utcnow


@pytest.fixture
def bank(database_url: str, tmp_path: Any) -> Iterator[Bank]:
    # small limits keep the attacks short: 3 free failures per (user, address), 6 per user
    yield from make_bank(
        database_url,
        tmp_path,
        login_max_failures=3,
        login_user_max_failures=6,
        login_address_max_failures=40,
        login_delay_seconds=60,
    )


def from_address(bank: Bank, address: str) -> TestClient:
    return TestClient(bank.app, client=(address, 50000))


def login(client: TestClient, username: str, password: str = PASSWORD, **extra: Any) -> Response:
    return client.post("/auth/login", json={"username": username, "password": password, **extra})


def same_answer(first: Response, second: Response) -> bool:
    def body(r: Response) -> dict[str, Any]:
        return {k: v for k, v in r.json().items() if k != "request_id"}

    return (first.status_code, body(first), set(first.headers)) == (
        second.status_code,
        body(second),
        set(second.headers),
    )


def evaluated(bank: Bank, name: str) -> list[dict[str, Any]]:
    records = bank.audit(action="auth.login_failed", entity_id=str(bank.users[name]))
    return [json.loads(r["after"]) for r in records]


def test_unknown_wrong_throttled_and_inactive_get_one_answer(bank: Bank) -> None:
    """The issue: the sixth wrong password answered 429 in 3 ms, an unknown user 401."""
    c = bank.client
    unknown = login(c, "nobody-at-all", "whatever it is")
    answers = [login(c, "customer", f"wrong {n}") for n in range(3)]
    throttled_wrong = login(c, "customer", "wrong again")
    throttled_right = login(c, "customer")  # even the right password: not evaluated now
    for answer in (*answers, throttled_wrong, throttled_right):
        assert same_answer(unknown, answer), answer.text
    assert unknown.json()["code"] == "invalid_credentials"
    assert [r["reason"] for r in evaluated(bank, "customer")] == ["wrong_password"] * 3
    throttled = [json.loads(r["after"]) for r in bank.audit(action="auth.login_throttled")]
    assert [r["refused"] for r in throttled] == [{"user_address": 1}, {"user_address": 2}]
    bank.database.write(
        lambda conn: conn.execute(
            update(users).where(users.c.id == bank.users["auditor"]).values(is_active=False)
        )
    )
    assert same_answer(unknown, login(c, "auditor"))


def test_delays_grow_and_end(bank: Bank) -> None:
    c = bank.client
    for n in range(3):
        sent = utcnow()  # the delay counts from when the third failure was judged
        login(c, "customer", f"wrong {n}")
    answered = utcnow()

    def counter() -> dict[str, Any]:
        with bank.database.read() as conn:
            row = (
                conn.execute(
                    select(login_throttles).where(
                        login_throttles.c.scope == "user_address",
                        login_throttles.c.subject == f"{bank.users['customer']}|testclient",
                    )
                )
                .mappings()
                .one()
            )
            return dict(row)

    first = counter()
    assert first["failures"] == 3
    assert (
        sent + timedelta(seconds=60) <= first["blocked_until"] <= answered + timedelta(seconds=60)
    )

    def expire() -> None:
        bank.database.write(
            lambda conn: conn.execute(
                update(login_throttles)
                .where(login_throttles.c.id == first["id"])
                .values(blocked_until=utcnow() - timedelta(seconds=1))
            )
        )

    expire()
    sent = utcnow()
    login(c, "customer", "wrong 4")  # evaluated again, and the next delay doubles
    answered = utcnow()
    second = counter()
    assert second["failures"] == 4
    assert (
        sent + timedelta(seconds=120)
        <= second["blocked_until"]
        <= answered + timedelta(seconds=120)
    )
    expire()
    assert login(c, "customer").status_code == 200  # the delay over, the right password works
    assert counter()["failures"] == 0


def test_an_attacker_elsewhere_cannot_lock_the_real_user_out(bank: Bank) -> None:
    """The issue: anyone could lock any account, admin's included, for 15 minutes."""
    home = from_address(bank, "198.51.100.7")
    assert login(home, "admin").status_code == 200  # the admin's usual address
    attackers = [from_address(bank, f"203.0.113.{n}") for n in range(1, 6)]
    for attacker in attackers:
        for n in range(4):
            assert login(attacker, "admin", f"guess {n}").status_code == 401
    # the per-user counter is past its limit: unfamiliar addresses wait, the usual one does not
    assert login(home, "admin").status_code == 200
    assert login(from_address(bank, "192.0.2.99"), "admin").status_code == 401
    # the attackers were evaluated at most 3 times each (then delayed), 6 in all from
    # unfamiliar addresses before the per-user delay
    assert len(evaluated(bank, "admin")) <= 15
    assert bank.audit(action="auth.login_throttled", entity_id=str(bank.users["admin"]))


def test_one_address_guessing_many_users_is_delayed(bank: Bank) -> None:
    sprayer = from_address(bank, "203.0.113.200")
    names = [bank.add_user(f"sprayed{n}") and f"sprayed{n}" for n in range(45)]
    answers = [login(sprayer, name, "Summer2025!") for name in names]
    assert {a.status_code for a in answers} == {401}
    evaluated_attempts = sum(len(evaluated(bank, name)) for name in names)
    assert evaluated_attempts == 40  # the address's limit; the rest were not even tried
    # other addresses are not affected
    assert login(bank.client, "sprayed44").status_code == 200


def test_unknown_usernames_cannot_flood_the_audit_trail(bank: Bank) -> None:
    client = from_address(bank, "203.0.113.50")
    for n in range(100):
        login(client, f"no-such-user-{n}", "x")
    unknown = [
        json.loads(r["after"])
        for r in bank.audit(action="auth.login_failed")
        if json.loads(r["after"])["reason"] == "unknown_user"
    ]
    # 1, 2, 4, 8, 16, 32, 64: the trail shows it growing without a row per attempt
    assert [r["attempts_from_address"] for r in unknown] == [1, 2, 4, 8, 16, 32]
    assert not any("no-such-user" in str(r["after"]) for r in bank.audit())


# --- the second factor --------------------------------------------------------------------


def next_code(secret: str) -> str:
    """The code of the next 30-second step: accepted (clock drift) and not yet used."""
    return pyotp.TOTP(secret).at(int(time.time()) + 30)


def enrol(bank: Bank, who: str) -> tuple[str, list[str], str]:
    """Enrol `who` through the API; (secret, recovery codes, fresh token)."""
    setup = bank.call(who, "POST", "/users/2fa/setup")
    assert setup.status_code == 200, setup.text
    secret = setup.json()["secret"]
    assert setup.json()["otpauth_uri"].startswith("otpauth://totp/")
    assert setup.json()["qr_svg"].startswith("<svg")
    enabled = bank.call(who, "POST", "/users/2fa/enable", json={"code": pyotp.TOTP(secret).now()})
    assert enabled.status_code == 200, enabled.text
    return secret, enabled.json()["recovery_codes"], enabled.json()["access_token"]


def test_totp_sign_in_with_its_own_attempt_limit(bank: Bank) -> None:
    secret, codes, _ = enrol(bank, "customer")
    assert len(codes) == 10
    assert bank.call("customer", "GET", "/auth/me").status_code == 401  # sessions ended
    missing = login(bank.client, "customer")
    assert (missing.status_code, missing.json()["code"]) == (401, "second_factor_required")
    wrong_password = login(bank.client, "customer", "not it", totp="123456")
    assert wrong_password.json()["code"] == "invalid_credentials"  # the password comes first
    used_in_enrolment = pyotp.TOTP(secret).now()
    replayed = login(bank.client, "customer", totp=used_in_enrolment)  # a code works once
    assert replayed.json()["code"] == "invalid_second_factor"
    code = next_code(secret)
    assert login(bank.client, "customer", totp=code).status_code == 200
    replay = login(bank.client, "customer", totp=code)
    assert (replay.status_code, replay.json()["code"]) == (401, "invalid_second_factor")
    for _ in range(3):
        assert (
            login(bank.client, "customer", totp="000000").json()["code"] == "invalid_second_factor"
        )
    fifth = login(bank.client, "customer", totp="000001")
    assert (fifth.status_code, fifth.json()["code"]) == (429, "second_factor_locked")
    locked = login(bank.client, "customer", totp=next_code(secret))
    assert locked.json()["code"] == "second_factor_locked"
    # wrong codes do not count against the password (it was right), nor lock the login
    assert bank.user("customer")["failed_logins"] == 0
    failures = [json.loads(r["after"]) for r in bank.audit(action="auth.second_factor_failed")]
    # the replayed enrolment code, then (after the success reset the count) five in a row
    assert [f["failures"] for f in failures] == [1, 1, 2, 3, 4, 5]
    assert failures[-1]["locked"] is True


def test_recovery_codes_sign_in_once_and_tell_the_user(bank: Bank) -> None:
    _, codes, _ = enrol(bank, "customer")
    assert login(bank.client, "customer", totp=codes[0]).status_code == 200
    assert login(bank.client, "customer", totp=codes[0]).json()["code"] == "invalid_second_factor"
    token = login(bank.client, "customer", totp=codes[1].upper()).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert bank.client.get("/users/2fa", headers=headers).json()["recovery_codes_left"] == 8
    kinds = [n["kind"] for n in bank.client.get("/users/notices", headers=headers).json()["items"]]
    assert kinds.count("recovery_code_used") == 2
    assert "second_factor_enabled" in kinds
    assert not any(code in str(bank.audit()) for code in codes)  # never in the audit trail


def test_staff_without_a_second_factor_get_a_token_that_can_only_enrol(bank: Bank) -> None:
    signed_in = login(bank.client, "fraud_analyst")
    assert signed_in.status_code == 200
    assert signed_in.json()["enrolment_required"] is True
    headers = {"Authorization": f"Bearer {signed_in.json()['access_token']}"}
    for path in ("/auth/me", "/accounts/", "/fraud/alerts", "/users/profile"):
        refused = bank.client.get(path, headers=headers)
        assert (refused.status_code, refused.json()["code"]) == (403, "enrolment_required"), path
    assert bank.client.get("/users/2fa", headers=headers).json()["required"] is True
    secret = bank.client.post("/users/2fa/setup", headers=headers).json()["secret"]
    enabled = bank.client.post(
        "/users/2fa/enable", headers=headers, json={"code": pyotp.TOTP(secret).now()}
    )
    assert enabled.status_code == 200, enabled.text
    full = {"Authorization": f"Bearer {enabled.json()['access_token']}"}
    assert bank.client.get("/fraud/alerts", headers=full).status_code == 200
    assert bank.client.get("/users/2fa/", headers=headers).status_code in (401, 404)
    assert bank.client.get("/users/2fa", headers=headers).status_code == 401  # ended
    # staff cannot turn it off; customers can (with the password and a code)
    off = bank.client.post(
        "/users/2fa/disable", headers=full, json={"password": PASSWORD, "code": "123456"}
    )
    assert (off.status_code, off.json()["code"]) == (403, "forbidden")
    customer_secret, _, token = enrol(bank, "customer")
    customer = {"Authorization": f"Bearer {token}"}
    wrong = bank.client.post(
        "/users/2fa/disable", headers=customer, json={"password": PASSWORD, "code": "000000"}
    )
    assert wrong.json()["code"] == "invalid_second_factor"
    done = bank.client.post(
        "/users/2fa/disable",
        headers=customer,
        json={"password": PASSWORD, "code": next_code(customer_secret)},
    )
    assert done.status_code == 204, done.text
    assert login(bank.client, "customer").status_code == 200  # no code needed any more
