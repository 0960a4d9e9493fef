"""KYC tiers and daily limits, checked inside the transaction that moves the money."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from typing import Any

from api_helpers import PIN, Bank, problem
from httpx import Response
from sqlalchemy import select, update

from ledgerbank.audit.tables import audit_log
from ledgerbank.identity.tables import users
from ledgerbank.ledger.limits import DailyLimits


def set_kyc(bank: Bank, who: str, status: str) -> None:
    bank.database.write(
        lambda conn: conn.execute(
            update(users).where(users.c.id == bank.users[who]).values(kyc_status=status)
        )
    )


def deposit(bank: Bank, who: str, account: int, amount: str) -> Response:
    return bank.post(who, "/transactions/deposit", {"account_id": account, "amount": amount})


def withdraw(bank: Bank, account: int, amount: str) -> Response:
    return bank.post(
        "alice", "/transactions/withdraw", {"account_id": account, "amount": amount, "pin": PIN}
    )


def test_a_pending_customer_receives_and_deposits_a_little_but_sends_nothing(bank: Bank) -> None:
    set_kyc(bank, "alice", "pending")
    mine = bank.open_account("alice")
    theirs = bank.open_account("bob")
    assert deposit(bank, "alice", mine, "600.00").status_code == 201
    over = problem(deposit(bank, "alice", mine, "400.01"), 422, "limit_exceeded")
    assert (over["limit"], over["remaining"], over["currency"]) == ("1000.00", "400.00", "USD")
    assert deposit(bank, "alice", mine, "400.00").status_code == 201
    before = bank.counts()
    for path, body in (
        ("/transactions/withdraw", {"account_id": mine, "amount": "1.00"}),
        (
            "/transactions/transfer",
            {"from_account_id": mine, "to_account_id": theirs, "amount": "1"},
        ),
        (
            "/transactions/batch",
            {"transfers": [{"from_account_id": mine, "to_account_id": theirs, "amount": "1"}]},
        ),
    ):
        refused = problem(bank.post("alice", path, {**body, "pin": PIN}), 403, "kyc_required")
        assert "verified" in refused["detail"]
    assert bank.counts() == before
    # money can reach her
    bank.fund(theirs, "50.00")
    paid = bank.post(
        "bob",
        "/transactions/transfer",
        {"from_account_id": theirs, "to_account_id": mine, "amount": "50.00", "pin": PIN},
    )
    assert paid.status_code == 201, paid.text
    assert bank.balance(mine) == 1050_00


def test_a_rejected_customer_moves_nothing(bank: Bank) -> None:
    mine = bank.open_account("alice")
    bank.fund(mine, "10.00")
    set_kyc(bank, "alice", "rejected")
    problem(deposit(bank, "alice", mine, "1.00"), 403, "kyc_rejected")
    problem(withdraw(bank, mine, "1.00"), 403, "kyc_rejected")
    assert bank.balance(mine) == 10_00


def test_a_deactivated_customers_token_moves_nothing(bank: Bank) -> None:
    mine = bank.open_account("alice")
    bank.fund(mine, "10.00")
    bank.database.write(
        lambda conn: conn.execute(
            update(users).where(users.c.id == bank.users["alice"]).values(is_active=False)
        )
    )
    problem(withdraw(bank, mine, "1.00"), 401, "not_authenticated")
    problem(deposit(bank, "alice", mine, "1.00"), 401, "not_authenticated")
    assert bank.balance(mine) == 10_00


def test_daily_limits_are_per_customer_across_accounts_and_currencies(bank: Bank) -> None:
    checking = bank.open_account("alice")
    savings = bank.open_account("alice", kind="savings")
    euros = bank.open_account("alice", currency="EUR")
    theirs = bank.open_account("bob")
    for account in (checking, savings):
        bank.fund(account, "9000.00")
    bank.fund(euros, "9000.00")
    assert withdraw(bank, checking, "3000.00").status_code == 201
    over = problem(withdraw(bank, savings, "2000.01"), 422, "limit_exceeded")
    assert (over["limit_kind"], over["remaining"]) == ("withdrawal", "2000.00")
    assert withdraw(bank, savings, "2000.00").status_code == 201
    assert withdraw(bank, euros, "5000.00").status_code == 201  # another currency, its own total
    # transfers between her own accounts are not payments to others
    own = {"from_account_id": checking, "to_account_id": savings, "amount": "6000.00", "pin": PIN}
    assert bank.post("alice", "/transactions/transfer", own).status_code == 201
    out = {"from_account_id": savings, "to_account_id": theirs, "amount": "25000.01", "pin": PIN}
    bank.fund(savings, "20000.00")
    problem(bank.post("alice", "/transactions/transfer", out), 422, "limit_exceeded")
    assert (
        bank.post("alice", "/transactions/transfer", {**out, "amount": "25000.00"}).status_code
        == 201
    )
    # what she moved today, as staff see it
    seen = bank.get("admin", f"/admin/users/{bank.users['alice']}/limits").json()
    used = {line["currency"]: line for line in seen["used_today"]}
    assert used["USD"]["withdrawn"] == "5000.00"
    assert used["USD"]["sent"] == "25000.00"
    assert used["EUR"]["withdrawn"] == "5000.00"


def test_a_batch_counts_all_its_transfers_against_the_limit(bank: Bank) -> None:
    mine = bank.open_account("alice")
    theirs = bank.open_account("bob")
    bank.fund(mine, "60000.00")
    item = {"from_account_id": mine, "to_account_id": theirs, "amount": "10000.00"}
    problem(
        bank.post("alice", "/transactions/batch", {"transfers": [item] * 3, "pin": PIN}),
        422,
        "limit_exceeded",
    )
    answer = bank.post(
        "alice", "/transactions/batch", {"transfers": [item] * 3, "atomic": False, "pin": PIN}
    )
    assert answer.status_code == 200, answer.text
    assert [i["status"] for i in answer.json()["items"]] == ["posted", "posted", "failed"]
    assert answer.json()["items"][2]["error"]["code"] == "limit_exceeded"
    assert bank.balance(theirs) == 20000_00


def test_parallel_payments_from_two_accounts_cannot_both_slip_under_the_limit(bank: Bank) -> None:
    accounts = [bank.open_account("alice"), bank.open_account("alice", kind="savings")]
    for account in accounts:
        bank.fund(account, "5000.00")
    answers: list[int] = []
    start = threading.Barrier(10)

    def pay(account: int) -> None:
        start.wait()
        answers.append(withdraw(bank, account, "1000.00").status_code)

    threads = [threading.Thread(target=pay, args=(accounts[i % 2],)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [201] * 5 + [422] * 5
    assert sum(bank.balance(a) for a in accounts) == 5000_00


def approve(bank: Bank, proposed: Response) -> dict[str, Any]:
    """Four eyes: the proposer cannot approve their own proposal; a second admin does."""
    approval = proposed.json()["approval_id"]
    problem(bank.post("admin", f"/approvals/{approval}/approve", json={}), 403, "forbidden")
    return bank.approve(proposed)


def test_staff_propose_a_customers_own_limits_and_a_second_admin_approves(bank: Bank) -> None:
    mine = bank.open_account("alice")
    bank.fund(mine, "9000.00")
    path = f"/admin/users/{bank.users['alice']}/limits"
    problem(
        bank.call("alice", "PUT", path, json={"withdrawal_daily": "1", "reason": "x"}),
        403,
        "forbidden",
    )
    problem(
        bank.call(
            "admin", "PUT", f"/admin/users/{bank.users['admin']}/limits", json={"reason": "x"}
        ),
        404,
        "not_found",
    )
    problem(
        bank.call("admin", "PUT", path, json={"withdrawal_daily": "1e3", "reason": "x"}),
        422,
        "validation_error",
    )
    proposed = bank.call(
        "admin", "PUT", path, json={"withdrawal_daily": "8000.00", "reason": "moving house"}
    )
    # nothing changes until a second admin approves
    problem(withdraw(bank, mine, "7000.00"), 422, "limit_exceeded")
    approve(bank, proposed)
    seen = bank.get("admin", path).json()
    lines = {line["kind"]: line for line in seen["limits"]}
    assert lines["withdrawal_daily"]["override"] == "8000.00"
    assert lines["deposit_daily"]["override"] is None
    assert withdraw(bank, mine, "7000.00").status_code == 201
    (record,) = bank.read(
        lambda conn: (
            conn.execute(select(audit_log).where(audit_log.c.action == "user.limits_changed"))
            .mappings()
            .all()
        )
    )
    assert record["actor_id"] == bank.users["admin"]
    after = json.loads(record["after"])
    assert after["withdrawal_daily"] == "8000.00"
    assert after["reason"] == "moving house"
    assert after["approved_by"] == bank.users["checker"]
    # back to the default, again with a second person
    approve(bank, bank.call("admin", "PUT", path, json={"reason": "done"}))
    problem(withdraw(bank, mine, "1000.00"), 422, "limit_exceeded")


def test_staff_take_cash_past_a_customers_self_service_limit(bank: Bank) -> None:
    mine = bank.open_account("alice")
    problem(deposit(bank, "alice", mine, "10000.01"), 422, "limit_exceeded")
    paid = deposit(bank, "admin", mine, "9500.00")
    assert paid.status_code == 201, paid.text
    assert paid.json()["to_account_id"] == mine
    problem(deposit(bank, "auditor", mine, "1.00"), 403, "forbidden")
    # above the four-eyes threshold the cash waits for a second person
    large = bank.post(
        "admin",
        "/transactions/deposit",
        {"account_id": mine, "amount": "25000.00", "description": "house sale"},
        key="cash-1",
    )
    assert large.status_code == 202, large.text
    assert bank.balance(mine) == 9500_00
    again = bank.post(
        "admin",
        "/transactions/deposit",
        {"account_id": mine, "amount": "25000.00", "description": "house sale"},
        key="cash-1",
    )
    assert again.json() == large.json()  # the same key replays the proposal
    result = approve(bank, large)["result"]
    assert isinstance(result, dict)
    assert result["status"] == "posted"
    assert bank.balance(mine) == 34500_00


def test_the_business_day_is_the_banks_time_zone() -> None:
    limits = DailyLimits("1", "1", "1", "1", timezone="Pacific/Auckland")
    late_utc = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)  # already 2 March in Auckland
    assert limits.business_day(late_utc).isoformat() == "2026-03-02"
    assert DailyLimits("1", "1", "1", "1").business_day(late_utc).isoformat() == "2026-03-01"


def test_batches_and_transfers_on_two_accounts_never_deadlock(bank: Bank) -> None:
    """24 parallel postings on two accounts: non-atomic batches and single transfers both ways.
    Every request locks its accounts in ascending id order (the group the union of them), so
    no transaction ever waits in a cycle and none is retried."""
    mine = bank.open_account("alice")
    theirs = bank.open_account("alice", kind="savings")
    for account in (mine, theirs):
        bank.fund(account, "1000.00")
    start = threading.Barrier(24)
    answers: list[int] = []

    def post(index: int) -> None:
        forth = {"from_account_id": mine, "to_account_id": theirs, "amount": "1.00"}
        back = {"from_account_id": theirs, "to_account_id": mine, "amount": "1.00"}
        if index % 2:
            body: dict[str, object] = {
                "transfers": [forth, back, forth],
                "atomic": False,
                "pin": PIN,
            }
            path = "/transactions/batch"
        else:
            body, path = {**(back if index % 4 else forth), "pin": PIN}, "/transactions/transfer"
        start.wait()
        answers.append(bank.post("alice", path, body).status_code)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(set(answers)) == [200, 201]
    assert bank.database.retries == 0
    assert bank.balance(mine) + bank.balance(theirs) == 2000_00
