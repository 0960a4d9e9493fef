"""Customer analytics over HTTP: spending summary and prediction against the fixture's figures."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from analytics_bank import ACCOUNTS, Bank, month_label, month_start

from ledgerbank.kit.money import exponent, to_decimal_string


def flows(
    bank: Bank,
    owner: str,
    scope: set[str],
    start: datetime | None = None,
    end: datetime | None = None,
) -> dict[str, dict[str, list[int]]]:
    """{currency: {month: [income, expenses]}} computed from the fixture's own operations."""
    own = {key for key, (who, _, _) in ACCOUNTS.items() if who == owner}
    found: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for op in bank.ops:
        if op.status != "posted" or op.type == "reversal":
            continue  # blocked moved nothing; a reversed one and its reversal cancel out
        if op.type == "transfer" and op.source in own and op.target in own:
            continue  # between one's own accounts
        if (start and op.at < start) or (end and op.at >= end):
            continue
        if op.target in scope:
            found[op.currency][month_label(op.at)][0] += op.minor
        if op.source in scope:
            found[op.currency][month_label(op.at)][1] += op.minor
    return found


def months_between(first: str, last: str) -> list[str]:
    labels = []
    year, month = (int(x) for x in first.split("-"))
    while f"{year:04d}-{month:02d}" <= last:
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return labels


def block(currency: str, by_month: dict[str, list[int]], labels: list[str]) -> dict[str, object]:
    def money(minor: int) -> str:
        return to_decimal_string(minor, currency)

    income = sum(v[0] for v in by_month.values())
    expenses = sum(v[1] for v in by_month.values())
    return {
        "currency": currency,
        "income": money(income),
        "expenses": money(expenses),
        "net_flow": money(income - expenses),
        "by_month": [
            {
                "month": m,
                "income": money(by_month.get(m, [0, 0])[0]),
                "expenses": money(by_month.get(m, [0, 0])[1]),
                "net_flow": money(by_month.get(m, [0, 0])[0] - by_month.get(m, [0, 0])[1]),
            }
            for m in labels
        ],
    }


def test_spending_summary_of_all_accounts_is_per_currency(bank: Bank) -> None:
    answer = bank.get("alice", "/analytics/spending-summary")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    expected = flows(bank, "alice", {"alice_checking", "alice_savings", "alice_wallet"})
    first = min(m for by_month in expected.values() for m in by_month)
    labels = months_between(first, month_label(bank.now))
    usd = block("USD", expected["USD"], labels)
    eur = block("EUR", expected["EUR"], labels)
    assert body["currencies"] == [eur, usd]
    # The oldest account's currency leads; own transfers (200.00 a month) count nowhere.
    assert {k: body[k] for k in usd} == usd
    assert body["account_id"] is None
    assert Decimal(body["expenses"]) > 0
    assert Decimal(body["income"]) > 0


def test_spending_summary_of_one_account_and_period(bank: Bank) -> None:
    start, end = month_start(bank.now, 5), month_start(bank.now, 2)
    answer = bank.get(
        "alice",
        "/analytics/spending-summary",
        account_id=bank.accounts["alice_checking"],
        # `to` is inclusive: the last day of the month three months ago
        **{"from": start.date().isoformat(), "to": (end - timedelta(days=1)).date().isoformat()},
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    expected = flows(bank, "alice", {"alice_checking"}, start, end)
    labels = [month_label(month_start(bank.now, n)) for n in (5, 4, 3)]
    assert {k: body[k] for k in ("currency", "income", "expenses", "net_flow", "by_month")} == (
        block("USD", expected["USD"], labels)
    )
    assert body["account_id"] == bank.accounts["alice_checking"]
    assert body["period_start"].startswith(start.date().isoformat())
    # The transfer to savings is not an expense even when only checking is looked at.
    saved = sum(
        op.minor
        for op in bank.ops
        if op.type == "transfer" and op.target == "alice_savings" and start <= op.at < end
    )
    assert saved > 0
    spent = sum(
        op.minor
        for op in bank.ops
        if op.source == "alice_checking" and op.status == "posted" and start <= op.at < end
    )
    assert Decimal(body["expenses"]) * 100 == spent - saved


def test_spending_summary_in_the_wallet_currency(bank: Bank) -> None:
    answer = bank.get(
        "alice", "/analytics/spending-summary", account_id=bank.accounts["alice_wallet"]
    )
    body = answer.json()
    assert body["currency"] == "EUR"
    expected = flows(bank, "alice", {"alice_wallet"})
    assert body["expenses"] == to_decimal_string(sum(v[1] for v in expected["EUR"].values()), "EUR")
    assert [c["currency"] for c in body["currencies"]] == ["EUR"]


def test_another_customers_account_is_not_found(bank: Bank) -> None:
    for path in ("/analytics/spending-summary", "/analytics/spending-prediction"):
        theirs = bank.get("alice", path, account_id=bank.accounts["bob_checking"])
        missing = bank.get("alice", path, account_id=999_999)
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json()["code"] == missing.json()["code"] == "not_found"


def test_bad_periods_are_refused(bank: Bank) -> None:
    backwards = bank.get(
        "alice", "/analytics/spending-summary", **{"from": "2024-05-01", "to": "2024-04-01"}
    )
    garbage = bank.get("alice", "/analytics/spending-summary", **{"from": "last tuesday"})
    assert backwards.status_code == garbage.status_code == 422
    assert garbage.json()["code"] == "validation_error"


def least_squares(values: list[int]) -> Decimal:
    """The next value on the least-squares line through (0, v0), (1, v1), ... exactly."""
    n = len(values)
    x_mean = Decimal(n - 1) / 2
    y_mean = Decimal(sum(values)) / n
    sxx = sum((Decimal(i) - x_mean) ** 2 for i in range(n))
    sxy = sum((Decimal(i) - x_mean) * (v - y_mean) for i, v in enumerate(values))
    slope = sxy / sxx
    return y_mean + slope * (n - x_mean)


def test_spending_prediction_history_baseline_and_range(bank: Bank) -> None:
    answer = bank.get("alice", "/analytics/spending-prediction")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    current = month_label(bank.now)
    expected = flows(bank, "alice", {"alice_checking", "alice_savings"})["USD"]
    months = sorted(m for m in expected if m < current)
    spending = [expected[m][1] for m in months]
    assert body["month"] == current
    assert body["currency"] == "USD"
    assert body["history"] == [
        {"month": m, "spending": to_decimal_string(v, "USD")}
        for m, v in zip(months, spending, strict=True)
    ]
    # The baseline is the original least-squares line, rounded to the cent.
    line = least_squares(spending).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    assert Decimal(body["baseline"]["predicted_next_month"]) * 100 == line
    assert body["baseline"]["method"] == "linear_regression"
    assert body["method"] == "robust_seasonal"
    predicted = Decimal(body["predicted_next_month"])
    assert Decimal(body["lower"]) <= predicted <= Decimal(body["upper"])
    # The monthly rent to bob is found as a recurring payment, at its amount.
    bob_number = bank.account_number("bob_checking")
    assert {"payee": f"transfer to account {bob_number}", "amount": "1200.00"} in body[
        "recurring_payments"
    ]
    # The month under way is not history, and the rent alone is a floor for the forecast.
    assert all(item["month"] < current for item in body["history"])
    assert predicted >= Decimal("1200.00")


def test_spending_prediction_baseline_on_request(bank: Bank) -> None:
    answer = bank.get("bob", "/analytics/spending-prediction", method="linear_regression").json()
    assert answer["method"] == "linear_regression"
    assert answer["predicted_next_month"] == answer["baseline"]["predicted_next_month"]


def test_spending_prediction_in_a_currency_without_decimals(bank: Bank) -> None:
    body = bank.get(
        "carol", "/analytics/spending-prediction", account_id=bank.accounts["carol_yen"]
    ).json()
    assert body["currency"] == "JPY"
    assert exponent("JPY") == 0
    assert all("." not in item["spending"] for item in body["history"])
    withdrawals: dict[str, int] = defaultdict(int)
    for op in bank.ops:
        if op.source == "carol_yen" and month_label(op.at) < month_label(bank.now):
            withdrawals[month_label(op.at)] += op.minor
    assert [int(item["spending"]) for item in body["history"]] == [
        withdrawals[m] for m in sorted(withdrawals)
    ]


def test_operations_cover_the_cases_the_tests_rely_on(bank: Bank) -> None:
    kinds = {(op.type, op.status) for op in bank.ops}
    assert {("withdrawal", "reversed"), ("reversal", "posted"), ("withdrawal", "blocked")} <= kinds
