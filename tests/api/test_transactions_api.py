"""Money-moving endpoints (deposit, withdraw, transfer, batch, reverse, flag), one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from api_helpers import PIN, Bank, problem
from sqlalchemy import select

from ledgerbank.audit.tables import audit_log
from ledgerbank.identity.passwords import hash_secret
from ledgerbank.identity.tables import users
from ledgerbank.ledger.tables import transaction_flags

TRANSACTION_FIELDS = {
    "id",
    "type",
    "status",
    "amount",
    "currency",
    "from_account_id",
    "to_account_id",
    "description",
    "created_at",
}


def test_deposit_withdraw_transfer_answer_201_with_the_transaction(bank: Bank) -> None:
    mine = bank.open_account("alice")
    theirs = bank.open_account("bob")
    deposit = bank.post(
        "alice",
        "/transactions/deposit",
        {"account_id": mine, "amount": "100.00", "description": "salary"},
    )
    assert deposit.status_code == 201, deposit.text
    body = deposit.json()
    assert set(body) >= TRANSACTION_FIELDS
    assert body["type"] == "deposit"
    assert body["status"] == "posted"
    assert body["amount"] == "100.00"
    assert body["currency"] == "USD"
    assert body["from_account_id"] is None
    assert body["to_account_id"] == mine
    assert body["description"] == "salary"
    assert "risk" not in body  # the screen's verdict is for staff only
    assert datetime.fromisoformat(body["created_at"]).utcoffset() == timedelta(0)

    withdrawal = bank.post(
        "alice", "/transactions/withdraw", {"pin": PIN, "account_id": mine, "amount": 20}
    )
    assert withdrawal.status_code == 201, withdrawal.text
    assert withdrawal.json()["type"] == "withdrawal"
    assert withdrawal.json()["amount"] == "20.00"
    assert withdrawal.json()["from_account_id"] == mine

    transfer = bank.post(
        "alice",
        "/transactions/transfer",
        {"pin": PIN, "from_account_id": mine, "to_account_id": theirs, "amount": "30.5"},
    )
    assert transfer.status_code == 201, transfer.text
    assert transfer.json()["type"] == "transfer"
    assert transfer.json()["amount"] == "30.50"
    assert bank.balance(mine) == 100_00 - 20_00 - 30_50
    assert bank.balance(theirs) == 30_50


def test_json_numbers_are_parsed_exactly(bank: Bank) -> None:
    mine = bank.open_account("alice")
    answer = bank.client.post(
        "/transactions/deposit",
        content=f'{{"account_id": {mine}, "amount": 0.30000000000000004}}'.encode(),
        headers={**bank.headers("alice"), "Content-Type": "application/json"},
    )
    problem(answer, 422, "invalid_amount")  # more decimals than USD has: refused, not rounded
    exact = bank.client.post(
        "/transactions/deposit",
        content=f'{{"account_id": {mine}, "amount": 0.1}}'.encode(),
        headers={**bank.headers("alice"), "Content-Type": "application/json"},
    )
    assert exact.status_code == 201
    assert exact.json()["amount"] == "0.10"
    assert bank.balance(mine) == 10


BAD_AMOUNTS: list[Any] = [
    "abc", "-5.00", "0", "0.00", "1.001", "NaN", "Infinity", "1e3", "", " ", True, None, [], {},
]  # fmt: skip


def test_bad_amounts_answer_invalid_amount_and_write_nothing(bank: Bank) -> None:
    mine = bank.open_account("alice")
    bank.fund(mine, "50.00")
    theirs = bank.open_account("bob")
    before = bank.counts()
    for amount in BAD_AMOUNTS:
        for path, body in (
            ("/transactions/deposit", {"account_id": mine, "amount": amount}),
            ("/transactions/withdraw", {"pin": PIN, "account_id": mine, "amount": amount}),
            (
                "/transactions/transfer",
                {"pin": PIN, "from_account_id": mine, "to_account_id": theirs, "amount": amount},
            ),
            (
                "/transactions/batch",
                {
                    "pin": PIN,
                    "transfers": [
                        {"from_account_id": mine, "to_account_id": theirs, "amount": amount}
                    ],
                },
            ),
        ):
            answer = bank.post("alice", path, body, key=f"bad-{path}")
            assert answer.status_code == 422, (path, amount, answer.text)
            assert answer.json()["code"] == "invalid_amount", (path, amount, answer.json())
    assert bank.counts() == before
    assert bank.balance(mine) == 50_00


def test_amount_above_the_maximum_is_refused(bank: Bank) -> None:
    mine = bank.open_account("alice")
    answer = bank.post(
        "alice", "/transactions/deposit", {"account_id": mine, "amount": "1000000000.01"}
    )
    problem(answer, 422, "invalid_amount")


def test_business_rules_answer_their_codes_and_write_nothing(bank: Bank) -> None:
    mine = bank.open_account("alice")
    euros = bank.open_account("alice", currency="EUR")
    theirs = bank.open_account("bob")
    bank.fund(mine, "10.00")
    before = bank.counts()
    problem(
        bank.post(
            "alice", "/transactions/withdraw", {"pin": PIN, "account_id": mine, "amount": "10.01"}
        ),
        422,
        "insufficient_funds",
    )
    problem(
        bank.post(
            "alice",
            "/transactions/transfer",
            {"pin": PIN, "from_account_id": mine, "to_account_id": euros, "amount": "1.00"},
        ),
        422,
        "currency_mismatch",
    )
    problem(
        bank.post(
            "alice",
            "/transactions/transfer",
            {"pin": PIN, "from_account_id": mine, "to_account_id": mine, "amount": "1.00"},
        ),
        422,
        "same_account",
    )
    problem(
        bank.post(
            "alice",
            "/transactions/transfer",
            {"pin": PIN, "from_account_id": mine, "to_account_id": 987654, "amount": "1.00"},
        ),
        404,
        "not_found",
    )
    problem(
        bank.post("alice", "/transactions/deposit", {"account_id": mine}), 422, "validation_error"
    )
    problem(
        bank.post(
            "alice",
            "/transactions/deposit",
            {"account_id": mine, "amount": "1.00", "description": "x" * 501},
        ),
        422,
        "validation_error",
    )
    problem(
        bank.post("alice", "/transactions/deposit", {"account_id": "one", "amount": "1.00"}),
        422,
        "validation_error",
    )
    assert bank.counts() == before
    assert bank.balance(theirs) == 0


def test_customers_move_money_only_from_their_own_accounts(bank: Bank) -> None:
    mine = bank.open_account("alice")
    theirs = bank.open_account("bob")
    bank.fund(theirs, "100.00")
    before = bank.counts()
    for path, body in (
        ("/transactions/deposit", {"account_id": theirs, "amount": "1.00"}),
        ("/transactions/withdraw", {"pin": PIN, "account_id": theirs, "amount": "1.00"}),
        (
            "/transactions/transfer",
            {"pin": PIN, "from_account_id": theirs, "to_account_id": mine, "amount": "1.00"},
        ),
        (
            "/transactions/batch",
            {
                "pin": PIN,
                "transfers": [{"from_account_id": theirs, "to_account_id": mine, "amount": "1.00"}],
            },
        ),
    ):
        hidden = problem(bank.post("alice", path, body), 404, "not_found")
        assert str(theirs) in hidden["detail"]
    assert bank.counts() == before
    assert bank.balance(theirs) == 100_00


def test_a_transfer_may_go_to_any_active_customer_account(bank: Bank) -> None:
    mine = bank.open_account("alice")
    theirs = bank.open_account("bob")
    bank.fund(mine, "5.00")
    assert (
        bank.post(
            "alice",
            "/transactions/transfer",
            {"pin": PIN, "from_account_id": mine, "to_account_id": theirs, "amount": "5.00"},
        ).status_code
        == 201
    )
    bank.post("fraud_analyst", f"/accounts/{theirs}/freeze", {"reason": "mule"})
    bank.fund(mine, "5.00")
    problem(
        bank.post(
            "alice",
            "/transactions/transfer",
            {"pin": PIN, "from_account_id": mine, "to_account_id": theirs, "amount": "1.00"},
        ),
        422,
        "account_frozen",
    )


def test_atomic_batch_posts_all_or_nothing(bank: Bank) -> None:
    mine = bank.open_account("alice")
    savings = bank.open_account("alice", kind="savings")
    theirs = bank.open_account("bob")
    bank.fund(mine, "100.00")
    posted = bank.post(
        "alice",
        "/transactions/batch",
        {
            "pin": PIN,
            "transfers": [
                {"from_account_id": mine, "to_account_id": theirs, "amount": "60.00"},
                {
                    "from_account_id": mine,
                    "to_account_id": savings,
                    "amount": "40.00",
                    "description": "save",
                },
            ],
        },
    )
    assert posted.status_code == 201, posted.text
    result = posted.json()
    assert result["atomic"] is True
    assert (result["posted"], result["blocked"], result["failed"]) == (2, 0, 0)
    assert result["batch_id"]
    assert [item["transaction"]["amount"] for item in result["items"]] == ["60.00", "40.00"]
    assert {item["transaction"]["batch_id"] for item in result["items"]} == {result["batch_id"]}
    assert bank.balance(mine) == 0
    # the second transfer cannot be covered: nothing of the batch is posted
    bank.fund(mine, "50.00")
    before = bank.counts()
    refused = bank.post(
        "alice",
        "/transactions/batch",
        {
            "pin": PIN,
            "atomic": True,
            "transfers": [
                {"from_account_id": mine, "to_account_id": theirs, "amount": "30.00"},
                {"from_account_id": mine, "to_account_id": theirs, "amount": "30.00"},
            ],
        },
    )
    assert problem(refused, 422, "insufficient_funds")["index"] == 1
    assert bank.counts() == before
    assert bank.balance(mine) == 50_00
    problem(
        bank.post("alice", "/transactions/batch", {"pin": PIN, "transfers": []}),
        422,
        "validation_error",
    )


def test_non_atomic_batch_posts_each_transfer_on_its_own(bank: Bank) -> None:
    mine = bank.open_account("alice")
    theirs = bank.open_account("bob")
    bank.fund(mine, "50.00")
    answer = bank.post(
        "alice",
        "/transactions/batch",
        {
            "pin": PIN,
            "atomic": False,
            "transfers": [
                {"from_account_id": mine, "to_account_id": theirs, "amount": "30.00"},
                {"from_account_id": mine, "to_account_id": theirs, "amount": "30.00"},
                {"from_account_id": theirs, "to_account_id": mine, "amount": "1.00"},
                {"from_account_id": mine, "to_account_id": theirs, "amount": "20.00"},
            ],
        },
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["atomic"] is False
    assert (result["posted"], result["blocked"], result["failed"]) == (2, 0, 2)
    statuses = [(item["index"], item["status"]) for item in result["items"]]
    assert statuses == [(0, "posted"), (1, "failed"), (2, "failed"), (3, "posted")]
    assert result["items"][1]["error"]["code"] == "insufficient_funds"
    assert result["items"][2]["error"]["code"] == "not_found"  # bob's account, not alice's
    assert result["items"][0]["transaction"]["amount"] == "30.00"
    assert bank.balance(mine) == 0
    assert bank.balance(theirs) == 50_00


def test_one_transaction_with_entries_risk_and_privacy(bank: Bank) -> None:
    mine = bank.open_account("alice")
    theirs = bank.open_account("bob")
    bank.fund(mine, "80.00")
    bank.fund(theirs, "1000.00")
    moved = bank.post(
        "alice",
        "/transactions/transfer",
        {"pin": PIN, "from_account_id": mine, "to_account_id": theirs, "amount": "25.00"},
    ).json()
    seen_by_alice = bank.get("alice", f"/transactions/{moved['id']}")
    assert seen_by_alice.status_code == 200, seen_by_alice.text
    detail = seen_by_alice.json()
    assert detail["id"] == moved["id"]
    assert detail["risk"] is None  # customers: no risk at all
    assert bank.get("auditor", f"/transactions/{moved['id']}").json()["risk"]["verdict"] == "SAFE"
    legs = {e["account_id"]: e for e in detail["entries"]}
    assert legs[mine]["amount"] == "-25.00"
    assert legs[mine]["balance_after"] == "55.00"
    assert legs[theirs]["amount"] == "25.00"
    assert legs[theirs]["balance_after"] is None  # bob's balance is not alice's business
    assert detail["flags"] is None
    assert detail["reversed_by_id"] is None
    # bob, the payee, sees it too, with his own balance
    seen_by_bob = bank.get("bob", f"/transactions/{moved['id']}").json()
    bob_legs = {e["account_id"]: e for e in seen_by_bob["entries"]}
    assert bob_legs[theirs]["balance_after"] == "1025.00"
    assert bob_legs[mine]["balance_after"] is None
    # staff see every balance
    staff_legs = {
        e["account_id"]: e
        for e in bank.get("auditor", f"/transactions/{moved['id']}").json()["entries"]
    }
    assert staff_legs[mine]["balance_after"] == "55.00"
    assert staff_legs[theirs]["balance_after"] == "1025.00"


def test_another_customers_transaction_answers_404_like_a_missing_one(bank: Bank) -> None:
    theirs = bank.open_account("bob")
    private = bank.fund(theirs, "10.00")
    hidden = problem(bank.get("alice", f"/transactions/{private}"), 404, "not_found")
    missing = problem(bank.get("alice", f"/transactions/{private + 100}"), 404, "not_found")
    assert hidden["title"] == missing["title"]
    problem(bank.get("alice", "/transactions/0"), 422, "validation_error")


def test_admin_reverses_a_transaction_once(bank: Bank) -> None:
    mine = bank.open_account("alice")
    theirs = bank.open_account("bob")
    bank.fund(mine, "40.00")
    moved = bank.post(
        "alice",
        "/transactions/transfer",
        {"pin": PIN, "from_account_id": mine, "to_account_id": theirs, "amount": "15.00"},
    ).json()
    reversal = bank.post("admin", f"/transactions/{moved['id']}/reverse", {"reason": "duplicate"})
    assert reversal.status_code == 201, reversal.text
    body = reversal.json()
    assert body["type"] == "reversal"
    assert body["reverses_id"] == moved["id"]
    assert body["amount"] == "15.00"
    assert (body["from_account_id"], body["to_account_id"]) == (theirs, mine)
    assert bank.balance(mine) == 40_00
    assert bank.balance(theirs) == 0
    original = bank.get("alice", f"/transactions/{moved['id']}").json()
    assert original["status"] == "reversed"
    assert original["reversed_by_id"] == body["id"]
    problem(
        bank.post("admin", f"/transactions/{moved['id']}/reverse", {"reason": "again"}),
        409,
        "not_reversible",
    )
    problem(
        bank.post("admin", f"/transactions/{body['id']}/reverse", {"reason": "undo"}),
        409,
        "not_reversible",
    )
    problem(bank.post("admin", "/transactions/424242/reverse", {"reason": "x"}), 404, "not_found")
    problem(bank.post("admin", f"/transactions/{moved['id']}/reverse", {}), 422, "validation_error")


def test_staff_flag_a_transaction_and_the_audit_trail_says_so(bank: Bank) -> None:
    mine = bank.open_account("alice")
    deposit = bank.fund(mine, "9000.00")
    flagged = bank.post(
        "fraud_analyst", f"/transactions/{deposit}/flag", {"reason": "cash, odd hour"}
    )
    assert flagged.status_code == 201, flagged.text
    flag = flagged.json()
    assert flag["transaction_id"] == deposit
    assert flag["reason"] == "cash, odd hour"
    assert flag["flagged_by"] == bank.users["fraud_analyst"]
    second = bank.post("compliance_officer", f"/transactions/{deposit}/flag", {"reason": "CTR"})
    assert second.status_code == 201
    detail = bank.get("auditor", f"/transactions/{deposit}").json()
    assert [f["reason"] for f in detail["flags"]] == ["cash, odd hour", "CTR"]
    assert bank.get("alice", f"/transactions/{deposit}").json()["flags"] is None  # no tip-off
    stored = bank.read(
        lambda conn: conn.execute(select(transaction_flags.c.reason)).scalars().all()
    )
    assert stored == ["cash, odd hour", "CTR"]
    audited = bank.read(
        lambda conn: (
            conn.execute(
                select(audit_log.c.actor_id).where(
                    audit_log.c.action == "transaction.flagged",
                    audit_log.c.entity_id == str(deposit),
                )
            )
            .scalars()
            .all()
        )
    )
    assert audited == [bank.users["fraud_analyst"], bank.users["compliance_officer"]]
    problem(bank.post("admin", "/transactions/55555/flag", {"reason": "x"}), 404, "not_found")
    problem(
        bank.post("admin", f"/transactions/{deposit}/flag", {"reason": ""}), 422, "validation_error"
    )


def _set_pin(bank: Bank, who: str, pin: str) -> None:
    bank.database.write(
        lambda conn: conn.execute(
            users.update().where(users.c.id == bank.users[who]).values(pin_hash=hash_secret(pin))
        )
    )


def test_money_leaving_an_account_needs_the_pin_once_one_is_set(bank: Bank) -> None:
    mine = bank.open_account("alice")
    theirs = bank.open_account("bob")
    bank.fund(mine, "100.00")
    _set_pin(bank, "alice", "4321")
    before = bank.counts()
    withdraw = {"account_id": mine, "amount": "1.00"}
    transfer = {"from_account_id": mine, "to_account_id": theirs, "amount": "1.00"}
    batch = {"transfers": [transfer]}
    for path, body in (
        ("/transactions/withdraw", withdraw),
        ("/transactions/transfer", transfer),
        ("/transactions/batch", batch),
    ):
        problem(bank.post("alice", path, body), 403, "pin_required")
        problem(bank.post("alice", path, {**body, "pin": "1111"}), 403, "invalid_pin")
    problem(
        bank.post("alice", "/transactions/withdraw", {**withdraw, "pin": "12"}),
        422,
        "validation_error",
    )
    assert bank.counts() == before
    for path, body in (
        ("/transactions/withdraw", withdraw),
        ("/transactions/transfer", transfer),
        ("/transactions/batch", batch),
    ):
        assert bank.post("alice", path, {**body, "pin": "4321"}).status_code == 201
    # deposits bring money in: no PIN
    assert (
        bank.post(
            "alice", "/transactions/deposit", {"account_id": mine, "amount": "1.00"}
        ).status_code
        == 201
    )
    assert bank.balance(mine) == 100_00 - 3_00 + 1_00


def _metric(bank: Bank, name: str) -> float:
    text = bank.get("auditor", "/metrics").text
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_postings_and_refusals_are_counted(bank: Bank) -> None:
    mine = bank.open_account("alice")
    theirs = bank.open_account("bob")
    names = (
        "ledgerbank_deposits_posted_total",
        "ledgerbank_withdrawals_posted_total",
        "ledgerbank_transfers_posted_total",
        'ledgerbank_postings_refused_total{code="insufficient_funds"}',
    )
    before = {name: _metric(bank, name) for name in names}
    bank.post("alice", "/transactions/deposit", {"account_id": mine, "amount": "10"}, key="m-1")
    bank.post("alice", "/transactions/deposit", {"account_id": mine, "amount": "10"}, key="m-1")
    bank.post("alice", "/transactions/withdraw", {"pin": PIN, "account_id": mine, "amount": "1"})
    transfer = {"from_account_id": mine, "to_account_id": theirs, "amount": "1"}
    bank.post("alice", "/transactions/batch", {"pin": PIN, "transfers": [transfer, transfer]})
    bank.post("alice", "/transactions/withdraw", {"pin": PIN, "account_id": mine, "amount": "100"})
    after = {name: _metric(bank, name) for name in names}
    assert {name: after[name] - before[name] for name in names} == {
        "ledgerbank_deposits_posted_total": 1,  # the replay posts nothing and counts nothing
        "ledgerbank_withdrawals_posted_total": 1,
        "ledgerbank_transfers_posted_total": 2,
        'ledgerbank_postings_refused_total{code="insufficient_funds"}': 1,
    }
