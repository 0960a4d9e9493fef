"""Registering, signing in, the lockout, the profile and the PIN, and attacks on tokens."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

import jwt
import pytest
from identity_bank import JWT_SECRET, PASSWORD, Bank
from sqlalchemy import update

from ledgerbank import errors
from ledgerbank.identity import passwords, pins, tokens
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow


def registration(**changes: Any) -> dict[str, Any]:
    body = {
        "username": "Dora.Explorer",
        "password": "a long enough passphrase",
        "email": "dora@example.com",
        "full_name": "Dora Explorer",
        "date_of_birth": "1990-05-17",
        "phone": "+44 20 7946 0958",
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not None}


def without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "request_id"}


# --- register ------------------------------------------------------------------------------


def test_register_creates_a_pending_customer_and_audits_it(bank: Bank) -> None:
    response = bank.client.post("/auth/register", json=registration())
    assert response.status_code == 201, response.text
    user = response.json()
    assert user["username"] == "dora.explorer"  # usernames are case-insensitive
    assert user["role"] == "customer"
    assert user["kyc_status"] == "pending"
    assert user["date_of_birth"] == "1990-05-17"
    assert set(user) == {
        "id", "username", "email", "full_name", "phone", "date_of_birth", "role", "kyc_status",
        "created_at",
    }  # fmt: skip
    assert datetime.fromisoformat(user["created_at"]).utcoffset() == timedelta(0)
    (record,) = bank.audit(action="user.created", entity_id=str(user["id"]))
    assert record["actor_id"] == user["id"]
    assert "password" not in record["after"]
    assert "hash" not in record["after"]
    assert json.loads(record["after"]) == {"role": "customer", "kyc_status": "pending"}
    # and the new customer can sign in with either spelling of the username
    assert bank.login("DORA.explorer", "a long enough passphrase").status_code == 200


def test_register_refuses_a_taken_username_whatever_its_case(bank: Bank) -> None:
    assert bank.client.post("/auth/register", json=registration()).status_code == 201
    again = bank.client.post("/auth/register", json=registration(username="DORA.EXPLORER"))
    assert again.status_code == 409
    assert again.json()["code"] == "username_taken"
    assert again.headers["content-type"] == "application/problem+json"


BAD_REGISTRATIONS: list[tuple[dict[str, Any], str]] = [
    ({"username": "ab"}, "username"),
    ({"username": "x" * 65}, "username"),
    ({"username": "bad name"}, "username"),
    ({"username": "semi;colon"}, "username"),
    ({"email": "not-an-email"}, "email"),
    ({"password": "short"}, "password"),
    ({"password": "password123"}, "password"),  # a common password
    ({"date_of_birth": None}, "date_of_birth"),
    ({"date_of_birth": "yesterday"}, "date_of_birth"),
    ({"full_name": ""}, "full_name"),
    ({"phone": "call me"}, "phone"),
    ({"role": "admin"}, "role"),  # nobody registers themselves as staff
]


def test_register_refuses_bad_input_with_the_field_named(bank: Bank) -> None:
    # one bank for all cases: building a database per case would cost more than the checks
    for changes, field in BAD_REGISTRATIONS:
        response = bank.client.post("/auth/register", json=registration(**changes))
        assert response.status_code == 422, (changes, response.text)
        body = response.json()
        assert body["code"] == "validation_error"
        assert any(error["loc"][-1] == field for error in body["errors"]), (changes, body)
        assert "a long enough passphrase" not in response.text
    assert bank.audit(action="user.created", actor_id=None) == []
    assert len(bank.audit(action="user.created")) == 6  # the bank's own six users only


def test_register_refuses_anyone_under_18(bank: Bank) -> None:
    today = utcnow().date()
    seventeen = date(today.year - 18, today.month, min(today.day, 28)) + timedelta(days=3)
    response = bank.client.post(
        "/auth/register", json=registration(date_of_birth=seventeen.isoformat())
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "date_of_birth"]
    adult = date(today.year - 18, today.month, min(today.day, 28)) - timedelta(days=1)
    response = bank.client.post(
        "/auth/register", json=registration(date_of_birth=adult.isoformat())
    )
    assert response.status_code == 201, response.text


# --- login ---------------------------------------------------------------------------------


def test_login_with_json_answers_a_bearer_token_that_works(bank: Bank) -> None:
    response = bank.login("customer")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["role"] == "customer"
    assert body["expires_in"] == bank.settings.token_ttl_minutes * 60
    assert response.headers["cache-control"] == "no-store"
    me = bank.client.get("/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == "customer"
    assert bank.audit(action="auth.login_succeeded", entity_id=str(bank.users["customer"]))


def test_login_with_the_oauth2_password_form_of_the_docs_page(bank: Bank) -> None:
    response = bank.client.post(
        "/auth/login",
        data={"grant_type": "password", "username": "auditor", "password": PASSWORD, "scope": ""},
    )
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "auditor"


def test_login_refuses_malformed_bodies(bank: Bank) -> None:
    cases = [
        (b'{"username": "customer"', "application/json", 400),
        (b'{"username": "customer"}', "application/json", 422),
        (b"[]", "application/json", 422),
        (b"username=customer", "application/x-www-form-urlencoded", 422),
        (b"username=customer&password=x&grant_type=code", "application/x-www-form-urlencoded", 422),
    ]
    for content, content_type, status in cases:
        response = bank.client.post(
            "/auth/login", content=content, headers={"Content-Type": content_type}
        )
        assert response.status_code == status, (content, response.text)


def test_unknown_user_and_wrong_password_get_the_same_answer(bank: Bank) -> None:
    unknown = bank.login("nobody-here", "whatever it is")
    wrong = bank.login("customer", "whatever it is")
    assert unknown.status_code == wrong.status_code == 401
    assert without_request_id(unknown.json()) == without_request_id(wrong.json())
    assert unknown.json()["code"] == "invalid_credentials"
    assert set(unknown.headers) == set(wrong.headers)
    # both are audited as failures, neither with the password (nor the unknown name, which
    # may well be a password typed in the wrong field)
    unknown_record, wrong_record = (
        json.loads(r["after"]) for r in bank.audit(action="auth.login_failed")
    )
    assert unknown_record == {"reason": "unknown_user", "attempts_from_address": 1}
    assert wrong_record["reason"] == "wrong_password"
    assert wrong_record["failures"] == 1
    assert "whatever" not in str(bank.audit(action="auth.login_failed"))


def test_a_deactivated_user_gets_the_same_answer_as_a_wrong_password(bank: Bank) -> None:
    with bank.database.engine.begin() as conn:
        conn.execute(
            update(users).where(users.c.id == bank.users["customer"]).values(is_active=False)
        )
    inactive = bank.login("customer")
    wrong = bank.login("auditor", "not the password")
    assert inactive.status_code == 401
    assert without_request_id(inactive.json()) == without_request_id(wrong.json())


def test_a_success_resets_the_failure_count(bank: Bank) -> None:
    for _ in range(4):
        assert bank.login("customer", "wrong").status_code == 401
    assert bank.login("customer").status_code == 200
    for _ in range(4):
        assert bank.login("customer", "wrong").status_code == 401
    assert bank.login("customer").status_code == 200


def test_login_rehashes_a_password_made_with_other_argon2_parameters(bank: Bank) -> None:
    old = bank.user("customer")["password_hash"]
    assert not passwords.needs_rehash(old)
    stronger = passwords.PasswordHasher(time_cost=2, memory_cost=128, parallelism=1)
    with bank.database.engine.begin() as conn:
        conn.execute(
            update(users)
            .where(users.c.id == bank.users["customer"])
            .values(password_hash=stronger.hash(PASSWORD))
        )
    assert bank.login("customer").status_code == 200
    rehashed = bank.user("customer")["password_hash"]
    assert "m=64,t=1,p=1" in rehashed
    assert passwords.verify_secret(rehashed, PASSWORD)


# --- tokens --------------------------------------------------------------------------------


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(user_id: int, role: str, **changes: Any) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    claims: dict[str, Any] = {
        "sub": str(user_id), "role": role, "iat": now, "exp": now + 600, "jti": "t" * 32,
    }  # fmt: skip
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def forged_tokens(bank: Bank) -> dict[str, str]:
    customer, admin = bank.users["customer"], bank.users["admin"]
    header, payload, signature = bank.tokens["customer"].split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return {
        "tampered payload": f"{header}.{_b64({**claims, 'role': 'admin'})}.{signature}",
        "another user's id": f"{header}.{_b64({**claims, 'sub': str(admin)})}.{signature}",
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(customer, 'customer'))}.",
        "other key": jwt.encode(_claims(customer, "customer"), "another-secret-" * 4, "HS256"),
        "other algorithm": jwt.encode(_claims(customer, "customer"), JWT_SECRET, "HS512"),
        "expired": jwt.encode(
            _claims(customer, "customer", iat=1_600_000_000, exp=1_600_000_600), JWT_SECRET, "HS256"
        ),
        "no expiry": jwt.encode(_claims(customer, "customer", exp=None), JWT_SECRET, "HS256"),
        "deleted user": jwt.encode(_claims(987_654, "customer"), JWT_SECRET, "HS256"),
        "wrong role claim": jwt.encode(_claims(customer, "admin"), JWT_SECRET, "HS256"),
        "not a jwt": "not-a-token",
    }


def test_forged_or_stale_tokens_are_refused(bank: Bank) -> None:
    assert bank.call("customer", "GET", "/auth/me").status_code == 200  # the real one works
    for name, token in forged_tokens(bank).items():
        for path in ("/auth/me", "/admin/users"):
            response = bank.client.get(path, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, (name, path, response.text)
            assert response.json()["code"] == "not_authenticated"
            assert response.headers["www-authenticate"] == "Bearer"


def test_a_remembered_token_still_expires_and_still_needs_its_key() -> None:
    """Verified tokens are remembered; their expiry and their signing key are not."""
    claims = _claims(7, "customer", ver=0, exp=int(datetime.now(UTC).timestamp()) + 2)
    keys = {"k1": "first-signing-key-" * 3, "k2": "second-signing-key-" * 3}
    token = jwt.encode(claims, keys["k1"], "HS256", headers={"kid": "k1"})
    assert tokens.decode(token, secret=keys["k2"], keys=keys).user_id == 7
    assert tokens.decode(token, secret=keys["k2"], keys=keys).user_id == 7  # remembered
    retired = {"k2": keys["k2"]}
    with pytest.raises(errors.NotAuthenticated, match="invalid"):
        tokens.decode(token, secret=keys["k2"], keys=retired)
    time.sleep(max(0.0, claims["exp"] - datetime.now(UTC).timestamp()) + 0.05)
    with pytest.raises(errors.NotAuthenticated, match="expired"):
        tokens.decode(token, secret=keys["k2"], keys=keys)


def test_tokens_of_demoted_and_deactivated_users_stop_working_at_once(bank: Bank) -> None:
    bank.add_user("felix", "fraud_analyst")
    bank.add_user("carol", "customer")
    assert bank.call("felix", "GET", "/auth/me").status_code == 200
    demoted = bank.call(
        "admin", "PUT", f"/admin/users/{bank.users['felix']}/role", json={"role": "customer"}
    )
    assert demoted.status_code == 200
    assert bank.call("felix", "GET", "/auth/me").status_code == 401
    # a new sign-in gives a token with the new role
    assert bank.login("felix").json()["role"] == "customer"
    assert bank.call("carol", "GET", "/auth/me").status_code == 200
    off = bank.call(
        "admin", "PUT", f"/admin/users/{bank.users['carol']}/active", json={"is_active": False}
    )
    assert off.status_code == 200
    assert bank.call("carol", "GET", "/auth/me").status_code == 401
    assert bank.login("carol").status_code == 401


def test_no_or_other_scheme_authorization_is_refused(bank: Bank) -> None:
    assert bank.client.get("/auth/me").status_code == 401
    basic = bank.client.get("/auth/me", headers={"Authorization": "Basic Y3VzdG9tZXI6eA=="})
    assert basic.status_code == 401


# --- profile and PIN -----------------------------------------------------------------------


def test_profile_is_read_and_changed_with_the_change_audited(bank: Bank) -> None:
    profile = bank.call("customer", "GET", "/users/profile").json()
    assert profile["has_pin"] is False
    assert profile["username"] == "customer"
    changed = bank.call(
        "customer",
        "PUT",
        "/users/profile",
        json={"email": "new@example.com", "phone": "+1 555 0100"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["email"] == "new@example.com"
    assert changed.json()["full_name"] == profile["full_name"]
    (record,) = bank.audit(action="user.profile_updated")
    assert record["actor_id"] == bank.users["customer"]
    # Which fields changed, never their values: audit records are immutable, people are not.
    assert record["before"] is None
    assert json.loads(record["after"]) == {"personal_fields_changed": ["email", "phone"]}
    # phone null removes it; sending the same values again changes (and audits) nothing
    assert (
        bank.call("customer", "PUT", "/users/profile", json={"phone": None}).json()["phone"] is None
    )
    bank.call("customer", "PUT", "/users/profile", json={"email": "new@example.com"})
    assert len(bank.audit(action="user.profile_updated")) == 2


def test_profile_refuses_bad_or_forbidden_fields(bank: Bank) -> None:
    bodies: list[dict[str, Any]] = [
        {"email": "nope"},
        {"full_name": None},
        {"email": None},
        {"full_name": "x" * 201},
        {"role": "admin"},
        {"kyc_status": "verified"},
        {"username": "someone"},
    ]
    before = bank.user("customer")
    for body in bodies:
        response = bank.call("customer", "PUT", "/users/profile", json=body)
        assert response.status_code == 422, (body, response.text)
    assert bank.user("customer") == before
    assert bank.audit(action="user.profile_updated") == []


def test_set_pin_needs_the_password_and_is_audited_without_the_pin(bank: Bank) -> None:
    wrong = bank.call("customer", "PUT", "/users/pin", json={"pin": "4821", "password": "nope"})
    assert wrong.status_code == 403
    assert wrong.json()["code"] == "wrong_password"
    assert bank.user("customer")["pin_hash"] is None
    assert bank.user("customer")["failed_logins"] == 1  # counts toward the login lockout
    response = bank.call(
        "customer", "PUT", "/users/pin", json={"pin": "4821", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    assert response.json()["pin_set"] is True
    stored = bank.user("customer")["pin_hash"]
    assert stored.startswith("pin$")  # a keyed hash (identity.pins), never the PIN
    assert "4821" not in stored
    assert pins.verify(bank.settings.pin_keyring(), stored, bank.users["customer"], "4821")
    (record,) = bank.audit(action="user.pin_set")
    assert "4821" not in f"{record['before']}{record['after']}"
    assert bank.call("customer", "GET", "/users/profile").json()["has_pin"] is True


def test_set_pin_refuses_anything_but_4_to_6_digits(bank: Bank) -> None:
    for pin in ["123", "1234567", "12a4", "", " 1234", "١٢٣٤", 1234]:
        body = {"pin": pin, "password": PASSWORD}
        response = bank.call("customer", "PUT", "/users/pin", json=body)
        assert response.status_code == 422, (pin, response.text)
    assert bank.user("customer")["pin_hash"] is None
    for pin in ["0000", "123456"]:
        body = {"pin": pin, "password": PASSWORD}
        assert bank.call("customer", "PUT", "/users/pin", json=body).status_code == 200


def test_wrong_passwords_on_the_pin_route_lock_the_login(bank: Bank) -> None:
    for _ in range(4):
        response = bank.call("customer", "PUT", "/users/pin", json={"pin": "4821", "password": "x"})
        assert response.status_code == 403
    fifth = bank.call("customer", "PUT", "/users/pin", json={"pin": "4821", "password": "x"})
    assert fifth.status_code == 429
    # signing in is refused too, with the answer every refused sign-in gets
    refused = bank.login("customer")
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_credentials"
    right = bank.call("customer", "PUT", "/users/pin", json={"pin": "4821", "password": PASSWORD})
    assert right.status_code == 429
    assert bank.user("customer")["pin_hash"] is None
