"""Sessions that end and stay ended: deactivation, role changes, password changes and resets,
sign out and sign out everywhere, second-factor resets; signing keys that rotate; tokens that
name no real user."""

from __future__ import annotations

import json
import os
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pyotp
from identity_bank import JWT_SECRET, PASSWORD, Bank, make_bank
from sqlalchemy import update
from typer.testing import CliRunner

from ledgerbank.cli import app as cli
from ledgerbank.config import get_settings
from ledgerbank.identity import keys, tokens
from ledgerbank.identity.tables import password_resets
from ledgerbank.kit.clock import utcnow


def me(bank: Bank, token: str) -> int:
    return bank.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code


def approve(bank: Bank, answer: Any, checker: str = "second_admin") -> dict[str, Any]:
    assert answer.status_code == 202, answer.text
    if checker not in bank.users:
        bank.add_user(checker, "admin")
    decided = bank.call(
        checker, "POST", f"/approvals/{answer.json()['approval_id']}/approve", json={}
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved", decided.text
    body: dict[str, Any] = decided.json()
    return body


def test_a_token_from_before_a_deactivation_stays_dead_after_reactivation(bank: Bank) -> None:
    """The issue: such a token worked again once the user was reactivated."""
    old = bank.tokens["customer"]
    user = bank.users["customer"]
    bank.call(
        "admin", "PUT", f"/admin/users/{user}/active", json={"is_active": False, "reason": "x"}
    )
    bank.call(
        "admin", "PUT", f"/admin/users/{user}/active", json={"is_active": True, "reason": "y"}
    )
    assert me(bank, old) == 401
    assert bank.login("customer").status_code == 200


def test_a_token_from_before_a_role_change_and_back_stays_dead(bank: Bank) -> None:
    old = bank.tokens["fraud_analyst"]
    user = bank.users["fraud_analyst"]
    assert bank.call(
        "admin", "PUT", f"/admin/users/{user}/role", json={"role": "customer"}
    ).is_success
    back = bank.call("admin", "PUT", f"/admin/users/{user}/role", json={"role": "fraud_analyst"})
    approve(bank, back)
    assert bank.user("fraud_analyst")["role"] == "fraud_analyst"
    assert me(bank, old) == 401


def test_changing_the_password_ends_every_other_session(bank: Bank) -> None:
    other_device = bank.tokens["customer"]
    this_device = bank.login("customer").json()["access_token"]
    headers = {"Authorization": f"Bearer {this_device}"}
    wrong = bank.client.put(
        "/users/password",
        headers=headers,
        json={"current_password": "not it", "new_password": "a new passphrase"},
    )
    assert (wrong.status_code, wrong.json()["code"]) == (403, "wrong_password")
    weak = bank.client.put(
        "/users/password",
        headers=headers,
        json={"current_password": PASSWORD, "new_password": "password"},
    )
    assert weak.status_code == 422
    changed = bank.client.put(
        "/users/password",
        headers=headers,
        json={"current_password": PASSWORD, "new_password": "a new passphrase"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.headers["cache-control"] == "no-store"
    assert me(bank, other_device) == 401
    assert me(bank, this_device) == 401
    assert me(bank, changed.json()["access_token"]) == 200
    assert bank.login("customer").status_code == 401
    assert bank.login("customer", "a new passphrase").status_code == 200
    records = bank.audit(action="user.password_changed")
    assert len(records) == 1
    assert "passphrase" not in str(records)
    notices = bank.client.get(
        "/users/notices", headers={"Authorization": f"Bearer {changed.json()['access_token']}"}
    ).json()
    assert notices["items"][0]["kind"] == "password_changed"


def test_sign_out_ends_one_session_and_sign_out_everywhere_all(bank: Bank) -> None:
    first = bank.login("customer").json()["access_token"]
    second = bank.login("customer").json()["access_token"]
    out = bank.client.post("/auth/logout", headers={"Authorization": f"Bearer {first}"})
    assert out.status_code == 204
    assert me(bank, first) == 401
    assert me(bank, second) == 200
    again = bank.client.post("/auth/logout", headers={"Authorization": f"Bearer {first}"})
    assert again.status_code == 401
    everywhere = bank.client.post("/auth/logout-all", headers={"Authorization": f"Bearer {second}"})
    assert everywhere.status_code == 204
    assert me(bank, second) == 401
    assert me(bank, bank.tokens["customer"]) == 401
    assert [r["action"] for r in bank.audit(entity_id=str(bank.users["customer"]))][-2:] == [
        "auth.signed_out",
        "auth.sessions_ended",
    ]


def test_a_reset_link_is_a_four_eyes_action_used_once_before_it_expires(bank: Bank) -> None:
    customer = bank.users["customer"]
    for _ in range(5):
        bank.login("customer", "forgotten")  # locked out by their own attempts
    old_token = bank.tokens["customer"]
    own = bank.call("admin", "POST", f"/admin/users/{bank.users['admin']}/password-reset")
    assert own.status_code == 403  # one's own password changes on one's own profile
    proposed = bank.call("admin", "POST", f"/admin/users/{customer}/password-reset")
    decided = approve(bank, proposed)
    link = decided["shown_once"]["reset_url"]
    token = link.split("token=")[1]
    assert (
        bank.client.post("/auth/reset-check", json={"token": token}).json()["username"]
        == "customer"
    )
    reset = bank.client.post(
        "/auth/password-reset", json={"token": token, "new_password": "a fresh passphrase"}
    )
    assert reset.status_code == 204, reset.text
    assert me(bank, old_token) == 401
    assert bank.login("customer", "a fresh passphrase").status_code == 200  # delays lifted
    used = bank.client.post(
        "/auth/password-reset", json={"token": token, "new_password": "another passphrase"}
    )
    assert (used.status_code, used.json()["code"]) == (400, "invalid_reset_token")
    # an expired link does not work either
    later = approve(bank, bank.call("admin", "POST", f"/admin/users/{customer}/password-reset"))
    expiring = later["shown_once"]["reset_url"].split("token=")[1]
    bank.database.write(
        lambda conn: conn.execute(
            update(password_resets).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    )
    late = bank.client.post(
        "/auth/password-reset", json={"token": expiring, "new_password": "another passphrase"}
    )
    assert late.json()["code"] == "invalid_reset_token"
    assert bank.login("customer", "a fresh passphrase").status_code == 200


def test_the_cli_issues_a_reset_link(bank: Bank, tmp_path: Path) -> None:
    env = {
        "LEDGERBANK_DATABASE_URL": bank.settings.resolved_database_url,
        "LEDGERBANK_DATA_DIR": str(tmp_path),
        "LEDGERBANK_PUBLIC_URL": "https://bank.example",
        "COLUMNS": "300",
    }
    get_settings.cache_clear()  # the CLI reads the settings of this environment
    try:
        result = CliRunner().invoke(cli, ["users", "reset-password", "customer"], env=env)
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    token = result.output.split("token=")[1].split()[0]
    assert "https://bank.example/#/reset-password?token=" in result.output
    reset = bank.client.post(
        "/auth/password-reset", json={"token": token, "new_password": "set from the cli link"}
    )
    assert reset.status_code == 204, reset.text
    (record,) = bank.audit(action="user.password_reset_issued")
    assert token not in str(record["after"])


def test_a_second_factor_reset_is_approved_by_another_admin(bank: Bank) -> None:
    setup = bank.call("customer", "POST", "/users/2fa/setup").json()
    enabled = bank.call(
        "customer", "POST", "/users/2fa/enable", json={"code": pyotp.TOTP(setup["secret"]).now()}
    )
    token = enabled.json()["access_token"]
    proposed = bank.call("admin", "POST", f"/admin/users/{bank.users['customer']}/2fa/reset")
    approve(bank, proposed)
    assert me(bank, token) == 401
    assert bank.login("customer").status_code == 200  # no code asked any more
    assert bank.user("customer")["totp_secret"] is None
    kinds = [r["action"] for r in bank.audit(entity_id=str(bank.users["customer"]))]
    assert "user.second_factor_reset" in kinds


def test_tokens_whose_subject_is_no_user_id_are_refused_not_500(bank: Bank) -> None:
    """The issue: a token whose `sub` had 40 digits answered 500 (it overflowed BIGINT)."""
    now = int(utcnow().timestamp())
    for subject in ("1" * 40, "-1", "0", "1e3", " 1", "9223372036854775808"):
        claims = {
            "sub": subject,
            "role": "customer",
            "ver": 0,
            "iat": now,
            "exp": now + 60,
            "jti": "j" * 32,
        }
        token = jwt.encode(claims, JWT_SECRET, "HS256")
        answer = bank.client.get("/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert (answer.status_code, answer.json()["code"]) == (401, "not_authenticated"), subject


def test_signing_keys_rotate_and_retire(database_url: str, tmp_path: Path) -> None:
    old_secret, new_secret = "old-" + "a" * 40, "new-" + "b" * 40
    old_token, _ = tokens.issue(
        user_id=1, role="customer", secret=old_secret, ttl_minutes=5, kid=keys.key_id(old_secret)
    )
    rotated = next(
        make_bank(database_url, tmp_path, jwt_secret=new_secret, jwt_previous_secrets=[old_secret])
    )
    issued = rotated.login("customer").json()["access_token"]
    assert jwt.get_unverified_header(issued)["kid"] == keys.key_id(new_secret)
    assert me(rotated, issued) == 200
    # a token of the older key still verifies (the user id 1 is "customer" in this bank)
    assert me(rotated, old_token) == 200
    # once the older key is retired, its tokens are refused
    rotated.settings.jwt_previous_secrets = []
    assert me(rotated, old_token) == 401
    assert me(rotated, issued) == 200
    forged = jwt.encode(
        {**jwt.decode(issued, options={"verify_signature": False})},
        "another-" + "c" * 40,
        "HS256",
        headers={"kid": keys.key_id(new_secret)},
    )
    assert me(rotated, forged) == 401


def test_folder_keys_rotate_and_retire_and_stay_private(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    first = keys.read_folder_keys(folder)
    assert stat.S_IMODE(os.stat(folder / keys.CURRENT_FILE).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    second = keys.rotate_folder_keys(folder)
    assert second.current != first.current
    assert set(second.by_kid) == {first.current_kid, second.current_kid}
    assert keys.read_folder_keys(folder).by_kid == second.by_kid
    assert keys.retire_folder_keys(folder) == [first.current_kid]
    assert set(keys.read_folder_keys(folder).by_kid) == {second.current_kid}
    assert stat.S_IMODE(os.stat(folder / keys.PREVIOUS_FILE).st_mode) == 0o600
    assert json.dumps(list(keys.read_folder_keys(folder).by_kid))
