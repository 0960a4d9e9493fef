"""Closing an account: zero balance or the rest moved out in the same request, standing orders
end, statements stay readable, and a closed account refuses every movement."""

from __future__ import annotations

from api_helpers import PIN, Bank, problem
from standing_helpers import JAN_31, at, run_job_at, schedule


def test_a_zero_balance_account_closes_and_then_refuses_every_movement(bank: Bank) -> None:
    closing, other, bobs = (
        bank.open_account("alice"),
        bank.open_account("alice", kind="savings"),
        bank.open_account("bob"),
    )
    bank.fund(other, "100.00")
    bank.fund(bobs, "100.00")
    bank.fund(closing, "20.00")
    moved = bank.post(
        "alice",
        "/transactions/transfer",
        {"from_account_id": closing, "to_account_id": other, "amount": "20.00", "pin": PIN},
    )
    assert moved.status_code == 201, moved.text
    order = schedule(
        bank,
        "alice",
        from_account_id=closing,
        to_account_id=bobs,
        amount="5.00",
        first_date=JAN_31,
        description="Ends",
    )
    incoming = schedule(
        bank,
        "bob",
        from_account_id=bobs,
        to_account_id=closing,
        amount="5.00",
        first_date=JAN_31,
        description="Into a closed account",
    )

    closed = bank.post("alice", f"/accounts/{closing}/close", {"reason": "moving banks"})
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["account"]["status"] == "closed"
    assert body["moved_out"] is None
    assert sorted(body["standing_orders_ended"]) == sorted([order["id"], incoming["id"]])
    assert bank.get("alice", f"/payments/scheduled/{order['id']}").json()["status"] == "ended"
    assert "account_closed" in [
        n["kind"] for n in bank.get("alice", "/users/notices").json()["items"]
    ]
    assert "standing_order_ended" in [
        n["kind"] for n in bank.get("bob", "/users/notices").json()["items"]
    ]

    refused = [
        bank.post("alice", "/transactions/deposit", {"account_id": closing, "amount": "1.00"}),
        bank.post("admin", "/transactions/deposit", {"account_id": closing, "amount": "1.00"}),
        bank.post(
            "alice",
            "/transactions/withdraw",
            {"account_id": closing, "amount": "1.00", "pin": PIN},
        ),
        bank.post(
            "alice",
            "/transactions/transfer",
            {"from_account_id": closing, "to_account_id": other, "amount": "1.00", "pin": PIN},
        ),
        bank.post(
            "bob",
            "/transactions/transfer",
            {"from_account_id": bobs, "to_account_id": closing, "amount": "1.00", "pin": PIN},
        ),
        bank.post(
            "alice",
            "/transactions/batch",
            {
                "transfers": [{"from_account_id": other, "to_account_id": closing, "amount": "1"}],
                "pin": PIN,
            },
        ),
    ]
    for answer in refused:
        problem(answer, 422, "account_closed")
    assert bank.balance(closing) == 0
    problem(bank.post("alice", f"/accounts/{closing}/close", {}), 409, "invalid_transition")
    statement = bank.get("alice", f"/accounts/{closing}/statement")
    assert statement.status_code == 200, statement.text
    assert [e["amount"] for e in statement.json()["entries"]] == ["20.00", "-20.00"]
    assert run_job_at(bank, at(JAN_31)).items == 0  # its orders ended with it


def test_money_left_refuses_to_close_unless_moved_out_with_the_pin(bank: Bank) -> None:
    closing, savings = bank.open_account("alice"), bank.open_account("alice", kind="savings")
    bank.fund(closing, "75.50")
    before = bank.counts()
    problem(bank.post("alice", f"/accounts/{closing}/close", {}), 409, "balance_not_zero")
    problem(
        bank.post("alice", f"/accounts/{closing}/close", {"move_to_account_id": savings}),
        403,
        "pin_required",
    )
    assert bank.counts()["transactions"] == before["transactions"]
    assert bank.get("alice", f"/accounts/{closing}").json()["status"] == "active"

    closed = bank.post(
        "alice", f"/accounts/{closing}/close", {"move_to_account_id": savings, "pin": PIN}
    )
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["account"]["status"] == "closed"
    assert body["account"]["balance"] == "0.00"
    assert body["moved_out"]["amount"] == "75.50"
    assert body["moved_out"]["to_account_id"] == savings
    assert bank.balance(savings) == 7550


def test_another_customers_account_and_staff_moving_money_away(bank: Bank) -> None:
    alices, alices_savings, bobs = (
        bank.open_account("alice"),
        bank.open_account("alice", kind="savings"),
        bank.open_account("bob"),
    )
    bank.fund(alices, "10.00")
    problem(bank.post("bob", f"/accounts/{alices}/close", {}), 404, "not_found")
    problem(bank.post("auditor", f"/accounts/{alices}/close", {}), 403, "forbidden")
    # staff move the rest only to the same customer's accounts
    problem(
        bank.post("admin", f"/accounts/{alices}/close", {"move_to_account_id": bobs}),
        404,
        "not_found",
    )
    closed = bank.post(
        "admin",
        f"/accounts/{alices}/close",
        {"move_to_account_id": alices_savings, "reason": "deceased estate settled"},
    )
    assert closed.status_code == 200, closed.text
    assert bank.balance(alices_savings) == 1000
    assert bank.get("alice", f"/accounts/{alices}").json()["status"] == "closed"
