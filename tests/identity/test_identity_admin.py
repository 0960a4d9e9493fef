"""Administrators managing users: listing, roles, KYC, activation, all audited; the CLI."""

from __future__ import annotations

import json

import pytest
from identity_bank import Bank
from sqlalchemy import select
from typer.testing import CliRunner

from ledgerbank.cli import app as cli
from ledgerbank.config import get_settings
from ledgerbank.identity.tables import users


def test_admin_lists_users_page_by_page(bank: Bank) -> None:
    for n in range(7):
        bank.add_user(f"extra{n}")
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 5}
        if cursor:
            params["cursor"] = cursor
        response = bank.call("admin", "GET", "/admin/users", params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(seen)
    assert len(seen) == len(set(seen)) == 13
    item = bank.call("admin", "GET", "/admin/users", params={"limit": 1}).json()["items"][0]
    assert item["is_active"] is True
    assert "password_hash" not in item
    assert "pin_hash" not in item


def test_admin_filters_users(bank: Bank) -> None:
    bank.add_user("zed_smith", "customer")

    def usernames(**params: str) -> list[str]:
        response = bank.call("admin", "GET", "/admin/users", params=params)
        assert response.status_code == 200, response.text
        return [item["username"] for item in response.json()["items"]]

    assert usernames(role="customer") == ["customer", "zed_smith"]
    assert usernames(role="auditor") == ["auditor"]
    assert usernames(q="SMITH") == ["zed_smith"]
    assert usernames(q="%") == []  # LIKE wildcards are matched literally
    underscored = ["fraud_analyst", "financial_manager", "compliance_officer", "zed_smith"]
    assert usernames(q="_") == underscored
    assert usernames(kyc_status="verified") == []
    assert len(usernames(kyc_status="pending")) == 7
    assert bank.call("admin", "GET", "/admin/users", params={"role": "king"}).status_code == 422
    bad_cursor = bank.call("admin", "GET", "/admin/users", params={"cursor": "!!"})
    assert bad_cursor.status_code == 422
    assert bank.call("admin", "GET", "/admin/users", params={"limit": 501}).status_code == 422


def test_role_change_is_audited_and_effective_at_once(bank: Bank) -> None:
    carol = bank.add_user("carol")
    bank.add_user("second_admin", "admin")
    assert bank.call("carol", "GET", "/audit/logs").status_code == 403
    # a staff role is granted by four eyes: proposed by one admin, approved by another
    response = bank.call(
        "admin", "PUT", f"/admin/users/{carol}/role", json={"role": "auditor", "reason": "audit"}
    )
    assert response.status_code == 202, response.text
    approval = response.json()["approval_id"]
    assert bank.call("carol", "GET", "/audit/logs").status_code == 403  # nothing yet
    approved = bank.call("second_admin", "POST", f"/approvals/{approval}/approve", json={})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    (record,) = bank.audit(action="user.role_changed", entity_id=str(carol))
    assert record["actor_id"] == bank.users["second_admin"]
    assert json.loads(record["before"]) == {"role": "customer"}
    assert json.loads(record["after"]) == {"role": "auditor", "reason": "audit"}
    # the old token is refused; a fresh sign-in has the new powers (staff enrol a second
    # factor first: the token of that sign-in can do nothing else)
    assert bank.call("carol", "GET", "/auth/me").status_code == 401
    signed_in = bank.login("carol").json()
    assert signed_in["role"] == "auditor"
    assert signed_in["enrolment_required"] is True
    token = bank.refresh("carol")
    logs = bank.client.get("/audit/logs", headers={"Authorization": f"Bearer {token}"})
    assert logs.status_code == 200
    # demoting to customer needs no second person; the same role again changes nothing
    bank.call("admin", "PUT", f"/admin/users/{carol}/role", json={"role": "customer"})
    bank.call("admin", "PUT", f"/admin/users/{carol}/role", json={"role": "customer"})
    assert len(bank.audit(action="user.role_changed")) == 2


def test_kyc_change_is_audited(bank: Bank) -> None:
    target = bank.users["customer"]
    path = f"/admin/users/{target}/kyc"
    response = bank.call("admin", "PUT", path, json={"kyc_status": "verified"})
    assert response.status_code == 200, response.text
    assert response.json()["kyc_status"] == "verified"
    assert bank.call("customer", "GET", "/users/profile").json()["kyc_status"] == "verified"
    (record,) = bank.audit(action="user.kyc_changed")
    assert (json.loads(record["before"]), json.loads(record["after"])) == (
        {"kyc_status": "pending"},
        {"kyc_status": "verified"},
    )
    bad = bank.call("admin", "PUT", f"/admin/users/{target}/kyc", json={"kyc_status": "maybe"})
    assert bad.status_code == 422


def test_deactivation_is_audited_and_reversible(bank: Bank) -> None:
    target = bank.users["customer"]
    off = bank.call("admin", "PUT", f"/admin/users/{target}/active", json={"is_active": False})
    assert off.json()["is_active"] is False
    assert bank.login("customer").status_code == 401
    on = bank.call("admin", "PUT", f"/admin/users/{target}/active", json={"is_active": True})
    assert on.json()["is_active"] is True
    assert bank.login("customer").status_code == 200
    records = bank.audit(action="user.status_changed", entity_id=str(target))
    assert [json.loads(r["after"]) for r in records] == [{"is_active": False}, {"is_active": True}]


def test_admins_cannot_change_themselves_and_unknown_users_are_404(bank: Bank) -> None:
    me = bank.users["admin"]
    for path, body in [
        (f"/admin/users/{me}/role", {"role": "customer"}),
        (f"/admin/users/{me}/kyc", {"kyc_status": "rejected"}),
        (f"/admin/users/{me}/active", {"is_active": False}),
    ]:
        response = bank.call("admin", "PUT", path, json=body)
        assert response.status_code == 403, response.text
    assert bank.user("admin")["role"] == "admin"
    missing = bank.call("admin", "PUT", "/admin/users/999999/role", json={"role": "auditor"})
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    zero = bank.call("admin", "PUT", "/admin/users/0/role", json={"role": "auditor"})
    assert zero.status_code == 422


def test_cli_creates_the_first_admin_and_lists_users(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGERBANK_DATABASE_URL", bank.settings.resolved_database_url)
    monkeypatch.setenv("LEDGERBANK_ENVIRONMENT", "test")
    monkeypatch.setenv("LEDGERBANK_PASSWORD_HASH_TIME_COST", "1")
    monkeypatch.setenv("LEDGERBANK_PASSWORD_HASH_MEMORY_KIB", "64")
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        created = runner.invoke(
            cli,
            [
                "users", "create", "--username", "Root", "--password", "S3cure-admin-pw",
                "--email", "root@example.com", "--role", "admin", "--full-name", "Root Admin",
            ],
        )  # fmt: skip
        assert created.exit_code == 0, created.output
        assert "root (admin)" in created.output
        listed = runner.invoke(cli, ["users", "list", "--role", "admin"])
        assert listed.exit_code == 0, listed.output
        assert "root" in listed.output
        again = runner.invoke(
            cli,
            ["users", "create", "--username", "root", "--password", "S3cure-admin-pw",
             "--email", "root@example.com", "--role", "admin"],
        )  # fmt: skip
        assert again.exit_code != 0
        bad_role = runner.invoke(
            cli,
            ["users", "create", "--username", "x1", "--password", "S3cure-admin-pw",
             "--email", "x@example.com", "--role", "king"],
        )  # fmt: skip
        assert bad_role.exit_code != 0
    finally:
        get_settings.cache_clear()
    with bank.database.read() as conn:
        row = conn.execute(select(users).where(users.c.username == "root")).mappings().one()
    assert row["role"] == "admin"
    assert row["full_name"] == "Root Admin"
    assert bank.login("root", "S3cure-admin-pw").json()["role"] == "admin"
