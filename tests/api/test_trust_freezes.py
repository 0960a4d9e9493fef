"""Freezes: who froze (the customer, fraud, compliance), the reason the customer reads apart from
the staff's note, a customer freezing their own account and lifting only such a freeze, and a
compliance freeze lifted only with a second person's approval."""

from __future__ import annotations

import json

from alembic import command
from api_helpers import PIN, Bank, problem
from sqlalchemy import select

from ledgerbank.audit.tables import audit_log
from ledgerbank.ledger.freezes import FREEZE_REASONS
from ledgerbank.ledger.money import Caller, MoneyRequest
from ledgerbank.ledger.orders import Transfer
from ledgerbank.ledger.tables import known_payees
from ledgerbank.migrations import alembic_config


def account(bank: Bank, who: str, account_id: int) -> dict[str, object]:
    answer = bank.get(who, f"/accounts/{account_id}")
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_staff_choose_what_the_customer_reads_apart_from_their_note(bank: Bank) -> None:
    mine = bank.open_account("alice")
    reasons = bank.get("fraud_analyst", "/accounts/freeze-reasons").json()
    assert {r["code"]: r["message"] for r in reasons} == FREEZE_REASONS
    frozen = bank.post(
        "fraud_analyst",
        f"/accounts/{mine}/freeze",
        {"reason": "card skimming at a petrol station", "customer_reason": "suspected_fraud"},
    )
    assert frozen.status_code == 200, frozen.text
    staff_view = frozen.json()
    assert staff_view["status_reason"] == "card skimming at a petrol station"
    assert staff_view["frozen_by"] == "fraud"
    assert staff_view["freeze_message"] == FREEZE_REASONS["suspected_fraud"]
    seen = account(bank, "alice", mine)
    assert seen["status_reason"] == FREEZE_REASONS["suspected_fraud"]
    assert "skimming" not in json.dumps(seen)
    assert seen["frozen_by"] is None
    listed = bank.get("alice", "/accounts/").json()
    assert "skimming" not in json.dumps(listed)
    # the customer cannot lift the bank's freeze, and is told nothing about why
    refused = problem(
        bank.post("alice", f"/accounts/{mine}/unfreeze", {"reason": "let me"}), 403, "forbidden"
    )
    assert "fraud" not in refused["detail"]
    # the customer-facing reason must be one of the list; a customer's own one is not for staff
    assert bank.post("fraud_analyst", f"/accounts/{mine}/unfreeze", {"reason": "x"}).is_success
    for bad in ("because", "customer_request"):
        wrong = bank.post(
            "fraud_analyst", f"/accounts/{mine}/freeze", {"reason": "x", "customer_reason": bad}
        )
        assert wrong.status_code == 422, (bad, wrong.text)
    notices = bank.get("alice", "/users/notices").json()["items"]
    assert [n["kind"] for n in notices][:2] == ["account_unfrozen", "account_frozen"]


def test_a_customer_freezes_their_own_account_and_lifts_only_that(bank: Bank) -> None:
    mine = bank.open_account("alice")
    theirs = bank.open_account("bob")
    frozen = bank.post("alice", f"/accounts/{mine}/freeze", {"reason": "lost my card"})
    assert frozen.status_code == 200, frozen.text
    body = frozen.json()
    assert (body["status"], body["frozen_by"], body["can_unfreeze"]) == ("frozen", "customer", True)
    assert body["freeze_message"] == FREEZE_REASONS["customer_request"]
    assert bank.get("fraud_analyst", f"/accounts/{mine}").json()["frozen_by"] == "customer"
    # money does not move while it is frozen
    bank.fund(theirs, "10.00")
    moved = bank.post(
        "bob",
        "/transactions/transfer",
        {"from_account_id": theirs, "to_account_id": mine, "amount": "1.00", "pin": PIN},
    )
    problem(moved, 422, "account_frozen")
    # another customer's account: 404, exactly as a missing one
    problem(bank.post("alice", f"/accounts/{theirs}/freeze", {"reason": "x"}), 404, "not_found")
    lifted = bank.post("alice", f"/accounts/{mine}/unfreeze", {"reason": "found it"})
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["status"] == "active"
    # a staff freeze over the customer's own takes it over: the customer cannot lift it
    bank.post("alice", f"/accounts/{mine}/freeze", {"reason": "lost it again"})
    taken = bank.post(
        "compliance_officer",
        f"/accounts/{mine}/freeze",
        {"reason": "review", "customer_reason": "verification_needed"},
    )
    assert taken.status_code == 200, taken.text
    assert taken.json()["frozen_by"] == "compliance"
    assert account(bank, "alice", mine)["can_unfreeze"] is False
    problem(bank.post("alice", f"/accounts/{mine}/unfreeze", {"reason": "x"}), 403, "forbidden")
    # but a customer cannot take over the bank's freeze either
    problem(
        bank.post("alice", f"/accounts/{mine}/freeze", {"reason": "x"}), 409, "invalid_transition"
    )
    records = bank.read(
        lambda conn: conn.execute(
            select(audit_log.c.action, audit_log.c.actor_id, audit_log.c.after)
            .where(audit_log.c.entity_type == "account", audit_log.c.entity_id == str(mine))
            .order_by(audit_log.c.id)
        ).all()
    )
    assert [(r[0], r[1]) for r in records[1:]] == [
        ("account.frozen", bank.users["alice"]),
        ("account.unfrozen", bank.users["alice"]),
        ("account.frozen", bank.users["alice"]),
        ("account.frozen", bank.users["compliance_officer"]),
    ]
    assert json.loads(records[-1][2])["frozen_by"] == "compliance"


def test_a_compliance_freeze_is_lifted_only_with_a_second_persons_approval(bank: Bank) -> None:
    mine = bank.open_account("alice")
    bank.add_users({"compliance_two": "compliance_officer"})
    frozen = bank.post(
        "compliance_officer",
        f"/accounts/{mine}/freeze",
        {"reason": "SAR filed", "frozen_by": "compliance"},
    )
    assert frozen.json()["frozen_by"] == "compliance"
    # a fraud analyst may not freeze "for compliance"
    other = bank.open_account("bob")
    problem(
        bank.post(
            "fraud_analyst", f"/accounts/{other}/freeze", {"reason": "x", "frozen_by": "compliance"}
        ),
        403,
        "forbidden",
    )
    proposed = bank.post("fraud_analyst", f"/accounts/{mine}/unfreeze", {"reason": "cleared"})
    assert proposed.status_code == 202, proposed.text
    approval = proposed.json()["approval_id"]
    assert account(bank, "admin", mine)["status"] == "frozen"
    # the same unfreeze proposed again: 409 naming the first proposal
    again = problem(
        bank.post("admin", f"/accounts/{mine}/unfreeze", {"reason": "also"}), 409, "conflict"
    )
    assert again["approval_id"] == approval
    # the proposer cannot approve; a fraud analyst lacks the compliance permission
    problem(bank.post("fraud_analyst", f"/approvals/{approval}/approve", json={}), 403, "forbidden")
    problem(bank.post("auditor", f"/approvals/{approval}/approve", json={}), 403, "forbidden")
    decided = bank.post("compliance_two", f"/approvals/{approval}/approve", json={"note": "ok"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "approved"
    assert account(bank, "admin", mine)["status"] == "active"
    problem(
        bank.post("compliance_officer", f"/approvals/{approval}/approve", json={}),
        409,
        "invalid_transition",
    )


def send(bank: Bank, source: int, target: int) -> int:
    """Alice pays 1.00 from `source` (hers) to `target`: the new transaction's id."""
    answer = bank.post(
        "alice",
        "/transactions/transfer",
        {"from_account_id": source, "to_account_id": target, "amount": "1.00", "pin": PIN},
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def test_a_first_transfer_to_a_new_payee_is_a_security_notice(bank: Bank) -> None:
    mine = bank.open_account("alice")
    savings = bank.open_account("alice", kind="savings")
    theirs = bank.open_account("bob")
    bank.fund(mine, "100.00")
    send(bank, mine, savings)  # one's own account: no notice
    send(bank, mine, theirs)
    send(bank, mine, theirs)  # the second time: nothing new
    items = bank.get("alice", "/users/notices").json()["items"]
    assert [n["kind"] for n in items] == ["new_payee"]
    assert items[0]["detail"]["account_number"].startswith("··")
    assert bank.get("bob", "/users/notices").json()["items"] == []


def test_payees_paid_before_the_upgrade_are_known_after_it(bank: Bank) -> None:
    """The known-payees migration fills the table from past transfers: a customer is not told
    again about a payee paid before it existed, and is told about a new one."""
    mine = bank.open_account("alice")
    theirs = bank.open_account("bob")
    bank.add_users({"carol": "customer"})
    carols = bank.open_account("carol")
    bank.fund(mine, "100.00")
    first = send(bank, mine, theirs)
    config = alembic_config(bank.database.engine)
    command.downgrade(config, "0018")  # as the bank stood before the table
    command.upgrade(config, "head")
    rows = bank.read(lambda conn: conn.execute(select(known_payees)).mappings().all())
    alice = bank.users["alice"]
    assert [(r["customer_id"], r["account_id"], r["first_transaction_id"]) for r in rows] == [
        (alice, theirs, first)
    ]
    send(bank, mine, theirs)  # paid before the upgrade: nothing new
    to_carol = send(bank, mine, carols)
    items = bank.get("alice", "/users/notices").json()["items"]
    assert [n["detail"]["transaction_id"] for n in items] == [to_carol, first]


def test_one_group_tells_each_customer_once_per_new_payee(bank: Bank) -> None:
    """Group commit decides several transfers in one transaction: the first to a payee is
    new, a second one in the same group is not, one's own account never is."""
    mine = bank.open_account("alice")
    savings = bank.open_account("alice", kind="savings")
    theirs = bank.open_account("bob")
    bank.fund(mine, "100.00")
    bank.fund(theirs, "100.00")
    alice = Caller(bank.users["alice"], "customer")
    bob = Caller(bank.users["bob"], "customer")

    def pay(caller: Caller, source: int, target: int) -> MoneyRequest:
        return MoneyRequest(caller, Transfer(source, target, "1.00"), pin=PIN)

    group = [pay(alice, mine, theirs), pay(alice, mine, theirs), pay(bob, theirs, mine)]
    answers = bank.app.state.money._run_transaction([*group, pay(alice, mine, savings)])
    assert [a.status for a in answers] == [201, 201, 201, 201]
    first, _, bobs, _ = (a.transaction_id for a in answers)
    for who, told in (("alice", first), ("bob", bobs)):
        items = bank.get(who, "/users/notices").json()["items"]
        assert [(n["kind"], n["detail"]["transaction_id"]) for n in items] == [("new_payee", told)]
    rows = bank.read(lambda conn: conn.execute(select(known_payees)).mappings().all())
    assert {(r["customer_id"], r["account_id"], r["first_transaction_id"]) for r in rows} == {
        (alice.user_id, theirs, first),
        (bob.user_id, mine, bobs),
    }
