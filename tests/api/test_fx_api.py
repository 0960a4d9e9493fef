"""Currencies and exchange over HTTP: rates, quotes, exchanges between own accounts and
transfers into another currency, fees linked to their cause, `ledger verify` after each step."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from api_helpers import PIN, Bank, problem
from sqlalchemy import select

from ledgerbank.events.tables import events
from ledgerbank.fx.tables import fx_conversions
from ledgerbank.ledger import accounts as account_service
from ledgerbank.ledger.tables import entries, fee_links
from ledgerbank.proof import postings as proof


def verified(bank: Bank) -> None:
    """`ledger verify` (full) finds nothing: every posting against its record and entries."""
    with proof.snapshot(bank.database) as conn:
        report = proof.run(conn, full=True)
    assert report.ok, report.findings


def set_rate(bank: Bank, base: str, quote: str, rate: str, **extra: Any) -> dict[str, Any]:
    answer = bank.call(
        "financial_manager",
        "PUT",
        "/fx/rates",
        json={"base": base, "quote": quote, "rate": rate, **extra},
    )
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    return body


def internal_balance(bank: Bank, currency: str, kind: str) -> int:
    """An internal account's balance as the bank reads it (credit positive)."""

    def read(conn: Any) -> int:
        account_id = account_service.internal_account_id(conn, currency, kind)
        found = conn.execute(select(entries.c.amount).where(entries.c.account_id == account_id))
        return sum(int(a) for a in found.scalars())

    return int(bank.database.write(read))


def test_worked_example_exchange_transfer_and_reversal(bank: Bank) -> None:
    usd = bank.open_account("alice")
    eur = bank.open_account("alice", currency="EUR", kind="savings")
    bob_eur = bank.open_account("bob", currency="EUR")
    bank.fund(usd, "1000.00")
    set_rate(bank, "EUR", "USD", "1.0850")
    verified(bank)

    # A quote first: 100.00 USD at EUR/USD 1.085 is 92.165898... EUR -> 92.17, fee 0.50 USD.
    quote = bank.get(
        "alice", "/fx/quote", params={"from_currency": "USD", "to_currency": "EUR", "amount": "100"}
    )
    assert quote.status_code == 200, quote.text
    assert quote.json() == {
        "base": "EUR",
        "quote": "USD",
        "rate": "1.085",
        "from_currency": "USD",
        "from_amount": "100.00",
        "to_currency": "EUR",
        "to_amount": "92.17",
        "fee": "0.50",
        "fee_currency": "USD",
        "total_debited": "100.50",
        "rounding": "half-even",
    }

    answer = bank.post(
        "alice",
        "/transactions/exchange",
        {"from_account_id": usd, "to_account_id": eur, "amount": "100.00", "pin": PIN},
        key="exchange-1",
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["type"] == "transfer"
    assert body["amount"] == "100.00"
    assert body["currency"] == "USD"
    assert "risk" not in body or body["risk"] is None
    exchange = body["exchange"]
    assert (exchange["rate"], exchange["to_amount"], exchange["fee"]) == ("1.085", "92.17", "0.50")
    assert bank.balance(usd) == 100000 - 10000 - 50
    assert bank.balance(eur) == 9217
    # Each currency balances through the FX position; the spread is fee income.
    assert internal_balance(bank, "USD", "fx_position") == 10000
    assert internal_balance(bank, "EUR", "fx_position") == -9217
    assert internal_balance(bank, "USD", "fee_income") == 50
    with bank.database.read() as conn:
        link = conn.execute(select(fee_links)).mappings().one()
        assert link["caused_by_id"] == body["id"]
        assert link["fee_transaction_id"] == exchange["fee_transaction_id"]
        assert link["fee_kind"] == "fx_spread"
        conversion = conn.execute(select(fx_conversions)).mappings().one()
        assert (conversion["from_amount"], conversion["to_amount"]) == (10000, 9217)
        told = conn.execute(select(events.c.body).where(events.c.account_id == eur)).scalars()
        seen = [json.loads(text) for text in told]
        assert [(e["amount"], e["currency"]) for e in seen] == [("92.17", "EUR")]  # its own side
    verified(bank)

    # The same key replays the answer and posts nothing.
    before = bank.counts()
    again = bank.post(
        "alice",
        "/transactions/exchange",
        {"from_account_id": usd, "to_account_id": eur, "amount": "100.00", "pin": PIN},
        key="exchange-1",
    )
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json() == body
    assert bank.counts() == before

    # A transfer to Bob's EUR account converts too (EUR -> USD would use the inverse).
    sent = bank.post(
        "alice",
        "/transactions/transfer",
        {"from_account_id": usd, "to_account_id": bob_eur, "amount": "10.85", "pin": PIN},
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["exchange"]["to_amount"] == "10.00"
    assert bank.balance(bob_eur) == 1000
    verified(bank)

    # Staff reverse the exchange: both currencies mirror, and its fee is reversed with it.
    reversal = bank.post("admin", f"/transactions/{body['id']}/reverse", {"reason": "asked"})
    assert reversal.status_code == 201, reversal.text
    assert bank.balance(eur) == 0
    assert bank.balance(usd) == 100000 - 1085 - 5  # only the transfer to Bob and its fee
    assert internal_balance(bank, "EUR", "fx_position") == -1000
    assert internal_balance(bank, "USD", "fee_income") == 5
    verified(bank)

    sheet = {
        line["currency"]: line
        for line in bank.get("auditor", "/ledger/balance-sheet").json()["items"]
    }
    assert sheet["EUR"]["fx_position"] == "-10.00"
    assert sheet["EUR"]["difference"] == "0.00"
    assert sheet["USD"]["fx_position"] == "10.85"


def all_balances(bank: Bank, customer: list[int]) -> dict[str, int]:
    """Every customer account's balance and each currency's FX position and fee income."""
    found = {f"account {i}": bank.balance(i) for i in customer}
    for currency in ("USD", "EUR"):
        for kind in ("fx_position", "fee_income"):
            found[f"{kind}:{currency}"] = internal_balance(bank, currency, kind)
    return found


def test_reversing_an_exchange_undoes_its_fee_too(bank: Bank) -> None:
    usd = bank.open_account("alice")
    eur = bank.open_account("alice", currency="EUR", kind="savings")
    bank.fund(usd, "500.00")
    set_rate(bank, "EUR", "USD", "1.0850")

    def exchange(amount: str) -> dict[str, Any]:
        answer = bank.post(
            "alice",
            "/transactions/exchange",
            {"from_account_id": usd, "to_account_id": eur, "amount": amount, "pin": PIN},
        )
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        assert body["exchange"]["fee_transaction_id"] is not None
        return body

    def status(transaction_id: int) -> str:
        return str(bank.get("admin", f"/transactions/{transaction_id}").json()["status"])

    before = all_balances(bank, [usd, eur])
    first = exchange("100.00")
    assert bank.balance(usd) == 50000 - 10000 - 50
    reversal = bank.post("admin", f"/transactions/{first['id']}/reverse", {"reason": "mistake"})
    assert reversal.status_code == 201, reversal.text
    assert all_balances(bank, [usd, eur]) == before  # both currency legs and the fee undone
    fee_id = first["exchange"]["fee_transaction_id"]
    assert (status(first["id"]), status(fee_id)) == ("reversed", "reversed")
    verified(bank)

    # The fee alone may be refunded first; reversing the exchange later does not refund it twice.
    second = exchange("200.00")
    fee_id = second["exchange"]["fee_transaction_id"]
    refund = bank.post("admin", f"/transactions/{fee_id}/reverse", {"reason": "goodwill"})
    assert refund.status_code == 201, refund.text
    undone = bank.post("admin", f"/transactions/{second['id']}/reverse", {"reason": "mistake"})
    assert undone.status_code == 201, undone.text
    assert all_balances(bank, [usd, eur]) == before
    problem(
        bank.post("admin", f"/transactions/{fee_id}/reverse", {"reason": "again"}),
        409,
        "not_reversible",
    )
    verified(bank)


def test_exchange_refusals_change_nothing(bank: Bank) -> None:
    usd = bank.open_account("alice")
    usd_too = bank.open_account("alice", kind="savings")
    gbp = bank.open_account("alice", currency="GBP")
    chf = bank.open_account("alice", currency="CHF")
    bob_gbp = bank.open_account("bob", currency="GBP")
    bank.fund(usd, "50.00")
    later = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    set_rate(bank, "GBP", "USD", "1.27", valid_from=later)  # not in force yet
    before = bank.counts()

    def exchange(to: int, amount: str = "10.00", who: str = "alice") -> Any:
        return bank.post(
            who,
            "/transactions/exchange",
            {"from_account_id": usd, "to_account_id": to, "amount": amount, "pin": PIN},
        )

    problem(exchange(gbp), 422, "no_rate_in_force")
    problem(exchange(chf), 422, "no_rate_in_force")  # an unknown pair
    problem(exchange(usd_too), 422, "same_currency")
    problem(exchange(usd), 422, "same_account")
    problem(exchange(bob_gbp), 404, "not_found")  # an exchange is between one's own accounts
    problem(exchange(gbp, "0.001"), 422, "invalid_amount")
    problem(exchange(gbp, who="bob"), 404, "not_found")  # not Bob's account
    transfer = bank.post(
        "alice",
        "/transactions/transfer",
        {"from_account_id": usd, "to_account_id": bob_gbp, "amount": "1.00", "pin": PIN},
    )
    problem(transfer, 422, "currency_mismatch")  # the contract's code when no rate is in force
    set_rate(bank, "USD", "GBP", "0.79")
    problem(exchange(gbp, "50.00"), 422, "insufficient_funds")  # 50.00 plus the 0.25 spread
    bad_pin = bank.post(
        "alice",
        "/transactions/exchange",
        {"from_account_id": usd, "to_account_id": gbp, "amount": "1.00", "pin": "0000"},
    )
    problem(bad_pin, 403, "invalid_pin")
    assert bank.counts()["entries"] == before["entries"]
    verified(bank)


def test_rates_who_may_set_and_read_and_bad_rates(bank: Bank) -> None:
    for who, status in (("admin", 201), ("financial_manager", 201), ("auditor", 403),
                        ("alice", 403), (None, 401)):  # fmt: skip
        answer = bank.call(
            who,
            "PUT",
            "/fx/rates",
            json={
                "base": "USD",
                "quote": "JPY",
                "rate": "151.25",
                "valid_from": f"2026-01-0{1 + (who or 'x').__len__() % 8}T00:00:00Z",
            },
        )
        assert answer.status_code == status, (who, answer.text)
    for rate, code in (("0", "invalid_rate"), ("-1", "invalid_rate"), ("1e3", "invalid_rate"),
                       ("0.123456789012", "invalid_rate"), ("abc", "invalid_rate")):  # fmt: skip
        answer = bank.call(
            "admin", "PUT", "/fx/rates", json={"base": "USD", "quote": "EUR", "rate": rate}
        )
        problem(answer, 422, code)
    problem(
        bank.call("admin", "PUT", "/fx/rates", json={"base": "USD", "quote": "XXX", "rate": "1"}),
        422,
        "unknown_currency",
    )
    problem(
        bank.call("admin", "PUT", "/fx/rates", json={"base": "USD", "quote": "usd", "rate": "1"}),
        422,
        "same_currency",
    )
    listed = bank.get("alice", "/fx/rates").json()["items"]
    assert {(r["base"], r["quote"], r["rate"]) for r in listed} == {("USD", "JPY", "151.25")}
    assert len(listed) == 2  # the history: two moments
    audit = bank.get("admin", "/audit/logs", params={"action": "fx.rate_set"})
    assert audit.status_code == 200, audit.text


def test_withdrawals_beyond_the_free_ones_pay_a_linked_fee(bank: Bank) -> None:
    bank.app.state.money.fees = bank.app.state.money.fees.__class__(
        withdrawal_fee="1.50", free_withdrawals=2
    )
    usd = bank.open_account("alice")
    bank.fund(usd, "100.00")
    ids = []
    for _ in range(3):
        answer = bank.post(
            "alice", "/transactions/withdraw", {"account_id": usd, "amount": "10.00", "pin": PIN}
        )
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    assert bank.balance(usd) == 10000 - 3000 - 150
    with bank.database.read() as conn:
        links = conn.execute(select(fee_links)).mappings().all()
    assert [(link["caused_by_id"], link["fee_kind"]) for link in links] == [(ids[2], "withdrawal")]
    statement = bank.get("alice", f"/accounts/{usd}/statement").json()
    kinds = [entry["type"] for entry in statement["entries"]]
    assert kinds.count("fee") == 1
    assert kinds[-1] == "fee"
    # Not enough for the withdrawal and its fee: neither posts.
    problem(
        bank.post(
            "alice", "/transactions/withdraw", {"account_id": usd, "amount": "68.50", "pin": PIN}
        ),
        422,
        "insufficient_funds",
    )
    assert bank.balance(usd) == 6850
    verified(bank)


def test_interest_rates_who_may_set_and_read(bank: Bank) -> None:
    callers = ("admin", "financial_manager", "auditor", "fraud_analyst", "compliance_officer",
               "alice", None)  # fmt: skip
    for day, who in enumerate(callers, start=1):
        answer = bank.call(
            who,
            "PUT",
            "/interest/rates",
            json={
                "account_type": "savings",
                "annual_rate": "0.02",
                "valid_from": f"2026-01-0{day}",
            },
        )
        expected = 401 if who is None else 201 if who in ("admin", "financial_manager") else 403
        assert answer.status_code == expected, (who, answer.text)
        read = bank.get(who, "/interest/rates")
        assert read.status_code == (401 if who is None else 200), (who, read.text)
    assert [r["valid_from"] for r in bank.get("alice", "/interest/rates").json()["items"]] == [
        "2026-01-02",
        "2026-01-01",
    ]
    problem(
        bank.call(
            "admin",
            "PUT",
            "/interest/rates",
            json={"account_type": "savings", "annual_rate": "2", "valid_from": "2026-02-01"},
        ),
        422,
        "invalid_rate",
    )


def test_history_shows_each_side_of_an_exchange_in_its_own_currency(bank: Bank) -> None:
    """An account's history reads an exchange (and a transfer into another currency) as its
    statement does: its own amount, currency and balance; the whole list shows the receiving
    side to a customer who only received it."""
    usd = bank.open_account("alice")
    eur = bank.open_account("alice", currency="EUR", kind="savings")
    bob_eur = bank.open_account("bob", currency="EUR")
    bank.fund(usd, "500.00")
    set_rate(bank, "EUR", "USD", "1.0850")
    exchanged = bank.post(
        "alice",
        "/transactions/exchange",
        {"from_account_id": usd, "to_account_id": eur, "amount": "100.00", "pin": PIN},
    )
    assert exchanged.status_code == 201, exchanged.text
    sent = bank.post(
        "alice",
        "/transactions/transfer",
        {"from_account_id": usd, "to_account_id": bob_eur, "amount": "10.85", "pin": PIN},
    )
    assert sent.status_code == 201, sent.text
    exchange_id, sent_id = exchanged.json()["id"], sent.json()["id"]

    def item(who: str, transaction_id: int, **params: Any) -> tuple[str, str, str | None]:
        page = bank.get(who, "/transactions/history", params=params).json()["items"]
        [found] = [i for i in page if i["id"] == transaction_id]
        return found["amount"], found["currency"], found["balance_after"]

    def statement_side(account_id: int, transaction_id: int) -> tuple[str, str]:
        body = bank.get("alice", f"/accounts/{account_id}/statement").json()
        [entry] = [e for e in body["entries"] if e["transaction_id"] == transaction_id]
        return entry["amount"], entry["balance_after"]

    assert item("alice", exchange_id, account_id=eur) == ("92.17", "EUR", "92.17")
    assert statement_side(eur, exchange_id) == ("92.17", "92.17")
    assert item("alice", exchange_id, account_id=usd) == ("100.00", "USD", "400.00")
    assert statement_side(usd, exchange_id) == ("-100.00", "400.00")
    assert item("admin", exchange_id, account_id=eur) == ("92.17", "EUR", "92.17")
    assert item("alice", exchange_id) == ("100.00", "USD", None)  # the whole list: as sent
    assert item("bob", sent_id) == ("10.00", "EUR", None)  # Bob received euros
    assert item("bob", sent_id, account_id=bob_eur) == ("10.00", "EUR", "10.00")
    assert item("alice", sent_id) == ("10.85", "USD", None)
    exported = bank.get(
        "alice", "/transactions/history", params={"account_id": eur, "format": "csv"}
    )
    assert exported.status_code == 200, exported.text
    [line] = [row for row in exported.text.splitlines() if row.startswith(f"{exchange_id},")]
    assert ",posted,92.17,EUR," in line  # amount and currency columns: the EUR side
