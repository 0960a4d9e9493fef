"""GET /ledger/balance-sheet and /ledger/integrity: the books, checked against the postings."""

from __future__ import annotations

import pytest
from api_helpers import Bank, problem
from sqlalchemy import text

from ledgerbank.ledger import posting

READERS = {"admin": 200, "auditor": 200, "financial_manager": 200, "compliance_officer": 200}
REFUSED = {"alice": 403, "fraud_analyst": 403}


def test_balance_sheet_balances_and_matches_the_postings(bank: Bank) -> None:
    usd = bank.open_account("alice")
    eur = bank.open_account("bob", currency="EUR")
    bank.fund(usd, "1250.00")
    bank.fund(eur, "80.50")
    bank.database.write(
        lambda conn: posting.post_fee(conn, account_id=usd, amount="2.50", actor_id=None)
    )

    answer = bank.get("auditor", "/ledger/balance-sheet")

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["balanced"] is True
    lines = {line["currency"]: line for line in body["items"]}
    assert lines["USD"] == {
        "currency": "USD",
        "assets": "1250.00",
        "liabilities": "1247.50",
        "equity": "2.50",
        "difference": "0.00",
        "balanced": True,
        "fx_position": "0.00",
    }
    assert lines["EUR"]["assets"] == "80.50"
    assert lines["EUR"]["liabilities"] == "80.50"


def test_integrity_reports_sound_books_then_names_a_broken_balance(bank: Bank) -> None:
    account = bank.open_account("alice")
    bank.fund(account, "10.00")
    assert bank.get("admin", "/ledger/integrity").json()["ok"] is True

    # Accounts are not append-only: a direct write that bypasses the engine is caught.
    bank.database.write(
        lambda conn: conn.execute(
            text("UPDATE accounts SET balance = balance + 1 WHERE id = :id"), {"id": account}
        )
    )
    body = bank.get("admin", "/ledger/integrity").json()

    assert body["ok"] is False
    assert {
        "check": "balance_mismatch",
        "entity_type": "account",
        "entity_id": account,
        "difference_minor": 1,
        "meaning": "stored balance differs from the sum of the account's entries",
    } in body["violations"]
    # Put it back so the fixture's own soundness check holds.
    bank.database.write(
        lambda conn: conn.execute(
            text("UPDATE accounts SET balance = balance - 1 WHERE id = :id"), {"id": account}
        )
    )


@pytest.mark.parametrize("path", ["/ledger/balance-sheet", "/ledger/integrity"])
def test_who_may_read_the_books(bank: Bank, path: str) -> None:
    for who, status in (READERS | REFUSED).items():
        answer = bank.get(who, path)
        assert answer.status_code == status, (who, answer.text)
    problem(bank.get(None, path), 401, "not_authenticated")
    problem(bank.get("alice", path), 403, "forbidden")
