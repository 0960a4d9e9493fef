"""The accounts endpoints: open, list, read, balance (now and at a moment), statement, freeze."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time, timedelta

from api_helpers import PIN, Bank, problem
from sqlalchemy import select, update

from ledgerbank.audit.tables import audit_log
from ledgerbank.ledger.tables import accounts, entries

ACCOUNT_FIELDS = {
    "id",
    "account_number",
    "owner_id",
    "account_type",
    "currency",
    "balance",
    "available_balance",
    "status",
    "created_at",
}


def test_open_account_answers_201_with_the_account(bank: Bank) -> None:
    response = bank.post("alice", "/accounts/", {"account_type": "savings", "currency": "usd"})
    assert response.status_code == 201, response.text
    account = response.json()
    assert set(account) >= ACCOUNT_FIELDS
    assert account["owner_id"] == bank.users["alice"]
    assert account["account_type"] == "savings"
    assert account["currency"] == "USD"
    assert account["balance"] == "0.00"
    assert account["available_balance"] == "0.00"
    assert account["status"] == "active"
    assert len(account["account_number"]) == 12
    assert datetime.fromisoformat(account["created_at"]).utcoffset() == timedelta(0)
    # it is there to read back
    again = bank.get("alice", f"/accounts/{account['id']}")
    assert again.status_code == 200
    assert again.json() == account


def test_open_account_defaults_to_usd_and_formats_each_currency(bank: Bank) -> None:
    usd = bank.post("alice", "/accounts/", {"account_type": "wallet"}).json()
    assert usd["currency"] == "USD"
    jpy = bank.post("alice", "/accounts/", {"account_type": "checking", "currency": "JPY"})
    assert jpy.status_code == 201
    bank.fund(jpy.json()["id"], "1500")
    assert bank.get("alice", f"/accounts/{jpy.json()['id']}").json()["balance"] == "1500"


def test_open_account_refuses_bad_input_and_writes_nothing(bank: Bank) -> None:
    def account_count() -> int:
        return len(bank.read(lambda conn: conn.execute(select(accounts.c.id)).all()))

    before = account_count()
    problem(
        bank.post("alice", "/accounts/", {"account_type": "savings", "currency": "XYZ"}),
        422,
        "unknown_currency",
    )
    problem(bank.post("alice", "/accounts/", {"account_type": "loan"}), 422, "validation_error")
    problem(bank.post("alice", "/accounts/", {"currency": "USD"}), 422, "validation_error")
    problem(
        bank.post(
            "alice", "/accounts/", {"account_type": "savings", "owner_id": bank.users["bob"]}
        ),
        422,
        "validation_error",
    )
    malformed = bank.client.post(
        "/accounts/",
        content=b'{"account_type": ',
        headers={**bank.headers("alice"), "Content-Type": "application/json"},
    )
    problem(malformed, 400, "malformed_request")
    assert account_count() == before


def test_list_shows_a_customer_only_their_accounts(bank: Bank) -> None:
    mine = [bank.open_account("alice"), bank.open_account("alice", kind="savings")]
    theirs = bank.open_account("bob")
    listed = bank.get("alice", "/accounts/")
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()["items"]] == mine
    # asking for someone else's accounts shows nothing rather than theirs
    other = bank.get("alice", "/accounts/", params={"owner_id": bank.users["bob"]})
    assert other.json()["items"] == []
    assert theirs not in [a["id"] for a in other.json()["items"]]


def test_staff_list_everyone_filter_by_owner_and_page(bank: Bank) -> None:
    alice = [bank.open_account("alice") for _ in range(3)]
    bob = [bank.open_account("bob") for _ in range(2)]
    everyone = bank.get("auditor", "/accounts/").json()
    assert [a["id"] for a in everyone["items"]] == alice + bob
    assert everyone["next_cursor"] is None
    only_bob = bank.get("auditor", "/accounts/", params={"owner_id": bank.users["bob"]}).json()
    assert [a["id"] for a in only_bob["items"]] == bob
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = bank.get("admin", "/accounts/", params=params).json()
        assert len(page["items"]) <= 2
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == alice + bob
    problem(bank.get("admin", "/accounts/", params={"cursor": "garbage!"}), 422, "validation_error")
    problem(bank.get("admin", "/accounts/", params={"limit": 501}), 422, "validation_error")


def test_another_customers_account_answers_404_like_a_missing_one(bank: Bank) -> None:
    theirs = bank.open_account("bob")
    for path in ("", "/balance", "/statement"):
        hidden = problem(bank.get("alice", f"/accounts/{theirs}{path}"), 404, "not_found")
        missing = problem(bank.get("alice", f"/accounts/{theirs + 1000}{path}"), 404, "not_found")
        assert hidden["title"] == missing["title"]
        assert str(theirs) in str(hidden["detail"])
    problem(bank.get("alice", "/accounts/9223372036854775808"), 422, "validation_error")
    problem(bank.get("alice", "/accounts/0"), 422, "validation_error")


def test_balance_now_and_at_a_past_moment(bank: Bank) -> None:
    account = bank.open_account("alice")
    bank.fund(account, "100.00")
    bank.fund(account, "50.25")
    with bank.database.read() as conn:
        first_posted = (
            conn.execute(
                select(entries.c.posted_at)
                .where(entries.c.account_id == account)
                .order_by(entries.c.id)
            )
            .scalars()
            .first()
        )
    assert first_posted is not None
    now = bank.get("alice", f"/accounts/{account}/balance").json()
    assert now["account_id"] == account
    assert now["currency"] == "USD"
    assert now["balance"] == "150.25"
    assert now["available_balance"] == "150.25"
    assert datetime.fromisoformat(now["as_of"]).utcoffset() == timedelta(0)

    at_first = bank.get(
        "alice", f"/accounts/{account}/balance", params={"at": first_posted.isoformat()}
    ).json()
    assert at_first["balance"] == "100.00"
    before_anything = first_posted - timedelta(seconds=1)
    early = bank.get(
        "alice", f"/accounts/{account}/balance", params={"at": before_anything.isoformat()}
    )
    assert early.json()["balance"] == "0.00"
    assert datetime.fromisoformat(early.json()["as_of"]) == before_anything
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    problem(
        bank.get("alice", f"/accounts/{account}/balance", params={"at": future}),
        422,
        "validation_error",
    )
    problem(
        bank.get("alice", f"/accounts/{account}/balance", params={"at": "yesterday"}),
        422,
        "validation_error",
    )


def test_available_balance_includes_the_overdraft_limit(bank: Bank) -> None:
    account = bank.open_account("alice")
    bank.database.write(
        lambda conn: conn.execute(
            update(accounts).where(accounts.c.id == account).values(overdraft_limit=5000)
        )
    )
    bank.fund(account, "10.00")
    view = bank.get("alice", f"/accounts/{account}").json()
    assert view["balance"] == "10.00"
    assert view["available_balance"] == "60.00"
    assert bank.get("alice", f"/accounts/{account}/balance").json()["available_balance"] == "60.00"


def test_statement_json_for_a_period(bank: Bank) -> None:
    account = bank.open_account("alice")
    other = bank.open_account("bob")
    bank.fund(account, "100.00")
    moved = bank.post(
        "alice",
        "/transactions/transfer",
        {
            "pin": PIN,
            "from_account_id": account,
            "to_account_id": other,
            "amount": "30.00",
            "description": "rent",
        },
    )
    assert moved.status_code == 201, moved.text
    whole = bank.get("alice", f"/accounts/{account}/statement").json()
    assert whole["account_id"] == account
    assert whole["currency"] == "USD"
    assert whole["opening_balance"] == "0.00"
    assert whole["closing_balance"] == "70.00"
    assert [(e["type"], e["amount"], e["balance_after"]) for e in whole["entries"]] == [
        ("deposit", "100.00", "100.00"),
        ("transfer", "-30.00", "70.00"),
    ]
    assert whole["entries"][1]["transaction_id"] == moved.json()["id"]
    assert whole["entries"][1]["description"] == "rent"
    # a period that starts after the deposit opens with its balance
    start = whole["entries"][1]["posted_at"]
    later = bank.get("alice", f"/accounts/{account}/statement", params={"from": start}).json()
    assert later["opening_balance"] == "100.00"
    assert later["closing_balance"] == "70.00"
    assert len(later["entries"]) == 1
    # a whole day by date: today includes both, yesterday neither
    today = datetime.now(UTC).date()
    by_day = bank.get(
        "alice", f"/accounts/{account}/statement", params={"from": str(today), "to": str(today)}
    ).json()
    assert len(by_day["entries"]) == 2
    assert datetime.fromisoformat(by_day["from"]) == datetime.combine(today, time(), UTC)
    assert datetime.fromisoformat(by_day["to"]) == datetime.combine(
        today, time(23, 59, 59, 999999), UTC
    )
    assert whole["from"] is None
    assert whole["to"] is None
    yesterday = str(today - timedelta(days=1))
    empty = bank.get(
        "alice", f"/accounts/{account}/statement", params={"from": yesterday, "to": yesterday}
    ).json()
    assert empty["entries"] == []
    assert empty["opening_balance"] == empty["closing_balance"] == "0.00"
    problem(
        bank.get(
            "alice",
            f"/accounts/{account}/statement",
            params={"from": str(today), "to": yesterday},
        ),
        422,
        "validation_error",
    )


def test_statement_csv_and_pdf_downloads(bank: Bank) -> None:
    account = bank.open_account("alice")
    bank.fund(account, "12.50")
    answer = bank.get("alice", f"/accounts/{account}/statement", params={"format": "csv"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert len(rows) == 1
    assert rows[0]["type"] == "deposit"
    assert rows[0]["amount"] == "12.50"
    assert rows[0]["balance_after"] == "12.50"
    pdf = bank.get("alice", f"/accounts/{account}/statement", params={"format": "pdf"})
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    problem(
        bank.get("alice", f"/accounts/{account}/statement", params={"format": "docx"}),
        422,
        "validation_error",
    )


def test_freeze_and_unfreeze(bank: Bank) -> None:
    account = bank.open_account("alice")
    bank.fund(account, "20.00")
    frozen = bank.post("fraud_analyst", f"/accounts/{account}/freeze", {"reason": "card skimming"})
    assert frozen.status_code == 200, frozen.text
    assert frozen.json()["status"] == "frozen"
    assert frozen.json()["status_reason"] == "card skimming"
    # a frozen account moves no money
    refused = bank.post(
        "alice", "/transactions/withdraw", {"pin": PIN, "account_id": account, "amount": "1.00"}
    )
    problem(refused, 422, "account_frozen")
    problem(
        bank.post("compliance_officer", f"/accounts/{account}/freeze", {"reason": "again"}),
        409,
        "invalid_transition",
    )
    thawed = bank.post("compliance_officer", f"/accounts/{account}/unfreeze", {"reason": "cleared"})
    assert thawed.status_code == 200
    assert thawed.json()["status"] == "active"
    problem(
        bank.post("admin", f"/accounts/{account}/unfreeze", {"reason": "again"}),
        409,
        "invalid_transition",
    )
    problem(
        bank.post("admin", f"/accounts/{account}/freeze", {"reason": ""}), 422, "validation_error"
    )
    problem(bank.post("admin", f"/accounts/{account}/freeze", {}), 422, "validation_error")
    problem(bank.post("admin", "/accounts/999999/freeze", {"reason": "x"}), 404, "not_found")
    recorded = bank.read(
        lambda conn: conn.execute(
            select(audit_log.c.action, audit_log.c.actor_id)
            .where(audit_log.c.entity_type == "account", audit_log.c.entity_id == str(account))
            .order_by(audit_log.c.id)
        ).all()
    )
    assert [tuple(r) for r in recorded][-2:] == [
        ("account.frozen", bank.users["fraud_analyst"]),
        ("account.unfrozen", bank.users["compliance_officer"]),
    ]
