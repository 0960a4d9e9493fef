"""What the customer web app reads and writes (issue 13): saved payees, counterparties by name
and masked number, search by counterparty, running balances, statements for a period, "I don't
recognise this", and spending by category with corrections remembered per payee."""

from __future__ import annotations

import csv
import io

from api_helpers import PIN, Bank, problem
from sqlalchemy import func, select

from ledgerbank.analytics.tables import spending_categories
from ledgerbank.audit.tables import audit_log
from ledgerbank.ledger.tables import accounts
from ledgerbank.risk.tables import risk_alerts

STAFF = ("admin", "auditor", "fraud_analyst", "financial_manager", "compliance_officer")


def number_of(bank: Bank, account_id: int) -> str:
    return str(
        bank.read(
            lambda conn: conn.execute(
                select(accounts.c.account_number).where(accounts.c.id == account_id)
            ).scalar_one()
        )
    )


def pay(bank: Bank, who: str, source: int, target: int, amount: str, text: str = "") -> int:
    body = {"pin": PIN, "from_account_id": source, "to_account_id": target, "amount": amount}
    if text:
        body["description"] = text
    answer = bank.post(who, "/transactions/transfer", body)
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def rename(bank: Bank, who: str, full_name: str) -> None:
    answer = bank.call(who, "PUT", "/users/profile", json={"full_name": full_name})
    assert answer.status_code == 200, answer.text


def test_saved_payees_are_the_callers_own(bank: Bank) -> None:
    rename(bank, "bob", "Bob Smith")
    alice = bank.open_account("alice")
    bob = bank.open_account("bob")
    number = number_of(bank, bob)

    added = bank.post("alice", "/payees", {"account_number": number, "nickname": "Landlord"})
    assert added.status_code == 201, added.text
    payee = added.json()
    assert payee["holder"] == "Bob S."
    assert payee["account_number"] == "··" + number[-4:]
    assert payee["account_id"] == bob
    assert payee["payable"] is True
    assert "Smith" not in added.text
    assert number not in added.text

    problem(bank.post("alice", "/payees", {"account_number": number}), 409, "conflict")
    own = {"account_number": number_of(bank, alice)}
    problem(bank.post("alice", "/payees", own), 422, "validation_error")
    problem(bank.post("alice", "/payees", {"account_number": "999999999999"}), 404, "not_found")
    problem(bank.post("alice", "/payees", {"account_number": "12ab"}), 422, "validation_error")

    listed = bank.get("alice", "/payees").json()["items"]
    assert [p["nickname"] for p in listed] == ["Landlord"]
    assert bank.get("bob", "/payees").json()["items"] == []
    # another customer's payee answers 404, exactly as a missing one
    problem(bank.call("bob", "DELETE", f"/payees/{payee['id']}"), 404, "not_found")
    problem(bank.call("alice", "DELETE", "/payees/999999"), 404, "not_found")
    for staff in STAFF:
        problem(bank.get(staff, "/payees"), 403, "forbidden")
    problem(bank.get(None, "/payees"), 401, "not_authenticated")

    assert bank.call("alice", "DELETE", f"/payees/{payee['id']}").status_code == 204
    assert bank.get("alice", "/payees").json()["items"] == []
    actions = bank.read(
        lambda conn: list(
            conn.execute(
                select(audit_log.c.action).where(audit_log.c.action.like("payee.%"))
            ).scalars()
        )
    )
    assert actions == ["payee.saved", "payee.removed"]


def test_history_names_the_counterparty_with_a_masked_number(bank: Bank) -> None:
    rename(bank, "alice", "Alice Johnson")
    rename(bank, "bob", "Bob Smith")
    alice = bank.open_account("alice")
    bob = bank.open_account("bob")
    bank.fund(alice, "100.00")
    sent = pay(bank, "alice", alice, bob, "12.50")

    item = next(
        i for i in bank.get("alice", "/transactions/history").json()["items"] if i["id"] == sent
    )
    assert item["to_party"] == {
        "name": "Bob S.",
        "account_number": "··" + number_of(bank, bob)[-4:],
        "own": False,
    }
    assert item["from_party"]["own"] is True
    assert item["from_party"]["name"] == "Your checking"
    seen_by_bob = bank.get("bob", f"/transactions/{sent}").json()
    assert seen_by_bob["from_party"]["name"] == "Alice J."
    assert [e["party"]["name"] for e in seen_by_bob["entries"]] == ["Alice J.", "Your checking"]
    deposit = bank.get("alice", "/transactions/history", params={"type": "deposit"}).json()
    assert deposit["items"][0]["from_party"] is None  # cash

    staff = bank.get("auditor", f"/transactions/{sent}").json()
    assert staff["to_party"]["name"] == "Bob Smith"
    assert staff["to_party"]["account_number"] == number_of(bank, bob)

    export = bank.get("alice", "/transactions/history", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert "from_account_id" not in rows[0]
    assert "to_account_id" not in rows[0]
    row = next(r for r in rows if r["id"] == str(sent))
    assert (row["to_name"], row["to_account"]) == ("Bob S.", "··" + number_of(bank, bob)[-4:])
    assert str(bob) not in (row["to_name"], row["to_account"])


def test_search_by_counterparty_and_running_balance(bank: Bank) -> None:
    rename(bank, "bob", "Bob Smith")
    alice = bank.open_account("alice")
    savings = bank.open_account("alice", kind="savings")
    bob = bank.open_account("bob")
    bank.fund(alice, "100.00")
    to_bob = pay(bank, "alice", alice, bob, "10.00")
    pay(bank, "alice", alice, savings, "5.00")

    def search(who: str, q: str) -> list[int]:
        items = bank.get(who, "/transactions/history", params={"q": q}).json()["items"]
        return [int(i["id"]) for i in items]

    # a customer finds the payee by what they read of him ("Bob S.", ··1234), and no more:
    # his last name or more digits of his number would confirm what the bank keeps back
    for q in ("bob", "Bob S.", "bob smith", number_of(bank, bob)[-4:]):
        assert search("alice", q) == [to_bob], q
    for q in ("smith", "bob t", number_of(bank, bob)[-6:]):
        assert search("alice", q) == [], q
    assert search("admin", "smith") == [to_bob]  # staff read whole names

    page = bank.get(
        "alice", "/transactions/history", params={"account_id": alice, "sort": "created_at"}
    ).json()["items"]
    assert [i["balance_after"] for i in page] == ["100.00", "90.00", "85.00"]
    unfiltered = bank.get("alice", "/transactions/history").json()["items"]
    assert {i["balance_after"] for i in unfiltered} == {None}
    # another customer's account as a filter shows nothing of it
    theirs = bank.get("alice", "/transactions/history", params={"account_id": bob}).json()
    assert all(i["balance_after"] is None for i in theirs["items"])


def test_statements_for_a_period_and_another_customers_is_404(bank: Bank) -> None:
    alice = bank.open_account("alice")
    bob = bank.open_account("bob")
    bank.fund(alice, "40.00")
    period = {"from": "2000-01-01", "to": "2999-12-31"}
    for fmt, media in (("csv", "text/csv"), ("pdf", "application/pdf")):
        mine = bank.get("alice", f"/accounts/{alice}/statement", params={**period, "format": fmt})
        assert mine.status_code == 200, mine.text
        assert mine.headers["content-type"].startswith(media)
        problem(
            bank.get("alice", f"/accounts/{bob}/statement", params={**period, "format": fmt}),
            404,
            "not_found",
        )


def test_i_dont_recognise_this_opens_one_fraud_case_and_tells_nothing_of_risk(bank: Bank) -> None:
    alice = bank.open_account("alice")
    bob = bank.open_account("bob")
    bank.fund(alice, "50.00")
    sent = pay(bank, "alice", alice, bob, "20.00")

    first = bank.post("alice", f"/transactions/{sent}/unrecognised", {"note": "not me"})
    assert first.status_code == 201, first.text
    body = first.json()
    assert set(body) == {"transaction_id", "reported_at", "already_reported", "next_steps"}
    assert body["already_reported"] is False
    assert body["next_steps"]
    for word in ("score", "verdict", "rule", "alert", "SUSPICIOUS", "SAFE"):
        assert word not in first.text
    again = bank.post("alice", f"/transactions/{sent}/unrecognised")
    assert again.status_code == 200
    assert again.json()["already_reported"] is True

    alerts = bank.read(
        lambda conn: list(
            conn.execute(select(risk_alerts).where(risk_alerts.c.transaction_id == sent)).mappings()
        )
    )
    assert len(alerts) == 1
    assert (alerts[0]["queue"], alerts[0]["rule_id"], alerts[0]["account_id"]) == (
        "fraud",
        "customer_report",
        alice,
    )
    assert "not me" in alerts[0]["summary"]
    # bob received it and may report it too; someone else's transaction is 404; staff 403
    assert bank.post("bob", f"/transactions/{sent}/unrecognised").status_code == 201
    problem(bank.post("alice", "/transactions/999999/unrecognised"), 404, "not_found")
    other = bank.fund(bob, "1.00")
    problem(bank.post("alice", f"/transactions/{other}/unrecognised"), 404, "not_found")
    problem(bank.post("fraud_analyst", f"/transactions/{sent}/unrecognised"), 403, "forbidden")


def test_spending_by_category_explains_and_remembers_corrections(bank: Bank) -> None:
    rename(bank, "bob", "Oakwood Properties")
    alice = bank.open_account("alice")
    bob = bank.open_account("bob")
    bank.fund(alice, "500.00")
    rent = pay(bank, "alice", alice, bob, "300.00")
    pay(bank, "alice", alice, bob, "20.00", "coffee beans")
    withdrawn = bank.post(
        "alice", "/transactions/withdraw", {"pin": PIN, "account_id": alice, "amount": "50.00"}
    )
    assert withdrawn.status_code == 201, withdrawn.text

    summary = bank.get("alice", "/analytics/spending-by-category").json()
    totals = {c["category"]: c["amount"] for c in summary["categories"]}
    assert totals == {"housing": "300.00", "cash": "50.00", "dining": "20.00"}
    assert summary["total"] == "370.00"
    reasons = {i["transaction_id"]: i["reason"] for i in summary["items"]}
    assert "payee's name" in reasons[rent]

    corrected = bank.call(
        "alice",
        "PUT",
        "/analytics/categories",
        json={"transaction_id": rent, "category": "shopping"},
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["payee_key"] == f"account:{bob}"
    after = bank.get("alice", "/analytics/spending-by-category").json()
    totals = {c["category"]: c["amount"] for c in after["categories"]}
    # remembered per payee: both payments to the account move, the description rule included
    assert totals == {"shopping": "320.00", "cash": "50.00"}
    assert all(i["corrected"] for i in after["items"] if i["payee"])
    assert (
        bank.read(
            lambda conn: conn.execute(
                select(func.count()).select_from(spending_categories)
            ).scalar()
        )
        == 1
    )

    wrong = {"transaction_id": rent, "category": "lottery"}
    problem(bank.call("alice", "PUT", "/analytics/categories", json=wrong), 422, "validation_error")
    theirs = {"transaction_id": rent, "category": "other"}
    problem(bank.call("bob", "PUT", "/analytics/categories", json=theirs), 404, "not_found")
    assert bank.get("bob", "/analytics/spending-by-category").json()["categories"] == []
    problem(bank.get("auditor", "/analytics/spending-by-category"), 403, "forbidden")
