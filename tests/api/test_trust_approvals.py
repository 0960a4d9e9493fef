"""Four eyes: proposals, the checker inbox, maker != checker, the right role, expiry, failed
outcomes, the audit trail naming both people, and the actions wired to it (a large reversal,
a staff user, a staff role, another user's reset link, a second-factor reset)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from api_helpers import PIN, Bank, problem
from sqlalchemy import select, update

from ledgerbank.approvals.tables import approvals
from ledgerbank.audit.tables import audit_log
from ledgerbank.kit.clock import utcnow


@pytest.fixture
def checkers(bank: Bank) -> Bank:
    bank.add_users({"second_admin": "admin"})
    return bank


def audit_of(bank: Bank, approval_id: int) -> list[tuple[str, int | None, dict[str, Any]]]:
    rows = bank.read(
        lambda conn: conn.execute(
            select(audit_log.c.action, audit_log.c.actor_id, audit_log.c.after)
            .where(audit_log.c.entity_type == "approval", audit_log.c.entity_id == str(approval_id))
            .order_by(audit_log.c.id)
        ).all()
    )
    return [(r[0], r[1], json.loads(r[2])) for r in rows]


def test_a_large_reversal_waits_for_a_second_admin(checkers: Bank) -> None:
    bank = checkers
    mine = bank.open_account("alice")
    small = bank.fund(mine, "20.00")
    large = bank.fund(mine, "5000.00")
    done = bank.post("admin", f"/transactions/{small}/reverse", {"reason": "duplicate"})
    assert done.status_code == 201, done.text  # at or below the threshold: at once
    proposed = bank.post("admin", f"/transactions/{large}/reverse", {"reason": "wrong account"})
    assert proposed.status_code == 202, proposed.text
    body = proposed.json()
    assert body["action"] == "transaction.reverse"
    assert "5000.00 USD" in body["summary"]
    assert bank.balance(mine) == 5000_00  # nothing moved yet
    approval = body["approval_id"]
    # the inbox: the proposer may not decide, the second admin may
    mine_view = bank.get("admin", "/approvals").json()["items"][0]
    theirs_view = bank.get("second_admin", "/approvals", params={"status": "pending"}).json()
    assert (mine_view["id"], mine_view["can_decide"]) == (approval, False)
    assert [(a["id"], a["can_decide"]) for a in theirs_view["items"]] == [(approval, True)]
    assert theirs_view["items"][0]["proposed_by_username"] == "admin"
    problem(bank.post("admin", f"/approvals/{approval}/approve", json={}), 403, "forbidden")
    for role in ("auditor", "fraud_analyst", "compliance_officer", "financial_manager"):
        problem(bank.post(role, f"/approvals/{approval}/approve", json={}), 403, "forbidden")
    problem(bank.get("alice", "/approvals"), 403, "forbidden")
    approved = bank.post("second_admin", f"/approvals/{approval}/approve", json={"note": "seen"})
    assert approved.status_code == 200, approved.text
    result = approved.json()
    assert result["status"] == "approved"
    assert result["decided_by_username"] == "second_admin"
    assert bank.balance(mine) == 0
    reversal = result["result"]["reversal_id"]
    detail = bank.get("auditor", f"/transactions/{reversal}").json()
    assert detail["reverses_id"] == large
    # both people and the outcome are in the audit trail
    trail = audit_of(bank, approval)
    assert [(action, actor) for action, actor, _ in trail] == [
        ("approval.proposed", bank.users["admin"]),
        ("approval.approved", bank.users["second_admin"]),
    ]
    assert trail[1][2]["proposed_by"] == bank.users["admin"]
    assert trail[1][2]["approved_by"] == bank.users["second_admin"]
    assert trail[1][2]["result"] == {"reversal_id": reversal, "transaction_id": large}
    # decided: it cannot be decided again
    problem(
        bank.post("second_admin", f"/approvals/{approval}/reject", json={}),
        409,
        "invalid_transition",
    )


def test_an_approval_that_can_no_longer_be_done_fails_and_says_why(checkers: Bank) -> None:
    bank = checkers
    mine = bank.open_account("alice")
    large = bank.fund(mine, "5000.00")
    approval = bank.post("admin", f"/transactions/{large}/reverse", {"reason": "r"}).json()[
        "approval_id"
    ]
    # meanwhile the money left: the reversal would overdraw the account
    other = bank.open_account("bob")
    moved = bank.post(
        "alice",
        "/transactions/transfer",
        {"from_account_id": mine, "to_account_id": other, "amount": "4999.00", "pin": PIN},
    )
    assert moved.status_code == 201, moved.text
    failed = bank.post("second_admin", f"/approvals/{approval}/approve", json={})
    assert failed.status_code == 200, failed.text
    assert failed.json()["status"] == "failed"
    assert failed.json()["result"]["error"]["code"] == "insufficient_funds"
    assert bank.balance(mine) == 1_00  # nothing of the reversal stayed behind
    assert [action for action, _, _ in audit_of(bank, approval)] == [
        "approval.proposed",
        "approval.failed",
    ]


def test_proposals_expire_and_can_be_rejected_or_withdrawn(checkers: Bank) -> None:
    bank = checkers
    mine = bank.open_account("alice")
    first = bank.fund(mine, "5000.00")
    second = bank.fund(mine, "6000.00")
    third = bank.fund(mine, "7000.00")
    ids = [
        bank.post("admin", f"/transactions/{t}/reverse", {"reason": "r"}).json()["approval_id"]
        for t in (first, second, third)
    ]
    bank.database.write(
        lambda conn: conn.execute(
            update(approvals)
            .where(approvals.c.id == ids[0])
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    )
    problem(
        bank.post("second_admin", f"/approvals/{ids[0]}/approve", json={}),
        409,
        "invalid_transition",
    )
    assert bank.get("auditor", f"/approvals/{ids[0]}").json()["status"] == "expired"
    rejected = bank.post("second_admin", f"/approvals/{ids[1]}/reject", json={"note": "no"})
    assert rejected.json()["status"] == "rejected"
    withdrawn = bank.post("admin", f"/approvals/{ids[2]}/reject", json={})
    assert (withdrawn.json()["status"], withdrawn.json()["decision_note"]) == (
        "rejected",
        "withdrawn",
    )
    assert bank.balance(mine) == 18000_00
    assert [a for a, _, _ in audit_of(bank, ids[0])] == ["approval.proposed", "approval.expired"]
    assert [a for a, _, _ in audit_of(bank, ids[2])] == ["approval.proposed", "approval.withdrawn"]


def test_one_admin_cannot_make_a_second_admin_and_approve_it(checkers: Bank) -> None:
    """The issue's case: with a direct role change one admin makes an accomplice admin, who
    then approves whatever the first proposes."""
    bank = checkers
    promoted = bank.call(
        "admin", "PUT", f"/admin/users/{bank.users['alice']}/role", json={"role": "admin"}
    )
    assert promoted.status_code == 202, promoted.text
    approval = promoted.json()["approval_id"]
    assert bank.get("admin", f"/admin/users/{bank.users['alice']}").json()["role"] == "customer"
    problem(bank.post("admin", f"/approvals/{approval}/approve", json={}), 403, "forbidden")
    # nor may the person concerned decide a proposal about themselves
    about_them = bank.call(
        "admin", "PUT", f"/admin/users/{bank.users['second_admin']}/role", json={"role": "auditor"}
    ).json()["approval_id"]
    problem(
        bank.post("second_admin", f"/approvals/{about_them}/approve", json={}), 403, "forbidden"
    )
    # and nobody proposes a change of their own role
    own = bank.call(
        "admin", "PUT", f"/admin/users/{bank.users['admin']}/role", json={"role": "auditor"}
    )
    problem(own, 403, "forbidden")
    decided = bank.post("second_admin", f"/approvals/{approval}/approve", json={})
    assert decided.json()["status"] == "approved"
    assert bank.get("admin", f"/admin/users/{bank.users['alice']}").json()["role"] == "admin"


def test_creating_a_staff_user_gives_the_approver_a_one_time_link(checkers: Bank) -> None:
    bank = checkers
    body = {
        "username": "new.auditor",
        "email": "new.auditor@example.com",
        "full_name": "New Auditor",
        "role": "auditor",
        "reason": "audit season",
    }
    proposed = bank.post("admin", "/admin/users", body)
    assert proposed.status_code == 202, proposed.text
    problem(bank.post("admin", "/admin/users", body), 409, "conflict")  # one proposal at a time
    approval = proposed.json()["approval_id"]
    decided = bank.post("second_admin", f"/approvals/{approval}/approve", json={})
    assert decided.status_code == 200, decided.text
    shown = decided.json()["shown_once"]
    assert shown["reset_url"].startswith("http://testserver/#/reset-password?token=")
    token = shown["reset_url"].split("token=")[1]
    # the link is never stored or shown again
    again = bank.get("second_admin", f"/approvals/{approval}").json()
    assert token not in json.dumps(again)
    assert token not in json.dumps(audit_of(bank, approval))
    stored = bank.read(
        lambda conn: conn.exec_driver_sql("SELECT token_hash FROM password_resets").all()
    )
    assert token not in str(stored)
    # the new user sets a password with it, once
    assert (
        bank.post(None, "/auth/reset-check", {"token": token}).json()["username"] == "new.auditor"
    )
    set_password = {"token": token, "new_password": "a brand new passphrase"}
    assert bank.post(None, "/auth/password-reset", set_password).status_code == 204
    problem(bank.post(None, "/auth/password-reset", set_password), 400, "invalid_reset_token")
    signed_in = bank.post(
        None, "/auth/login", {"username": "new.auditor", "password": "a brand new passphrase"}
    )
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["enrolment_required"] is True
    duplicate = bank.post("admin", "/admin/users", {**body, "role": "fraud_analyst"})
    problem(duplicate, 409, "username_taken")
