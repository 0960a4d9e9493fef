"""GET /accounts/payee: a customer confirms whom an account number reaches before paying it."""

from __future__ import annotations

from api_helpers import PIN, Bank, problem
from sqlalchemy import select

from ledgerbank.ledger.tables import accounts


def number_of(bank: Bank, account_id: int) -> str:
    return str(
        bank.read(
            lambda conn: conn.execute(
                select(accounts.c.account_number).where(accounts.c.id == account_id)
            ).scalar_one()
        )
    )


def test_a_customer_finds_another_customers_account_by_number_and_pays_it(bank: Bank) -> None:
    alice = bank.open_account("alice")
    bob = bank.open_account("bob", kind="savings")
    bank.fund(alice, "50.00")

    answer = bank.get("alice", "/accounts/payee", params={"account_number": number_of(bank, bob)})

    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "account_id": bob,
        "account_number": number_of(bank, bob),
        "account_type": "savings",
        "currency": "USD",
        "holder": "Bob",
    }
    paid = bank.post(
        "alice",
        "/transactions/transfer",
        {
            "pin": PIN,
            "from_account_id": alice,
            "to_account_id": answer.json()["account_id"],
            "amount": "5",
        },
    )
    assert paid.status_code == 201, paid.text


def test_unknown_frozen_and_malformed_numbers(bank: Bank) -> None:
    bob = bank.open_account("bob")
    bank.post("admin", f"/accounts/{bob}/freeze", {"reason": "investigation"})

    problem(
        bank.get("alice", "/accounts/payee", params={"account_number": number_of(bank, bob)}),
        404,
        "not_found",
    )
    problem(
        bank.get("alice", "/accounts/payee", params={"account_number": "400000000000"}),
        404,
        "not_found",
    )
    problem(
        bank.get("alice", "/accounts/payee", params={"account_number": "12ab"}),
        422,
        "validation_error",
    )


def test_only_customers_who_move_money_look_up_payees(bank: Bank) -> None:
    params = {"account_number": number_of(bank, bank.open_account("bob"))}
    problem(bank.get(None, "/accounts/payee", params=params), 401, "not_authenticated")
    for staff in ("admin", "auditor", "fraud_analyst", "financial_manager", "compliance_officer"):
        problem(bank.get(staff, "/accounts/payee", params=params), 403, "forbidden")
    assert bank.get("bob", "/accounts/payee", params=params).status_code == 200
