"""Reports for financial managers over HTTP, checked against figures computed from the fixture."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import openpyxl
from analytics_bank import (
    ACCOUNTS,
    Bank,
    Op,
    balances,
    booked,
    in_period,
    month_label,
    month_start,
)

from ledgerbank.kit.money import exponent, to_decimal_string, to_minor


def mean(total: int, count: int, currency: str) -> str:
    places = exponent(currency)
    value = (Decimal(total) / count).scaleb(-places)
    return str(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


def expected_average_balances(bank: Bank, before: datetime | None) -> list[dict[str, Any]]:
    by_currency: dict[str, list[int]] = defaultdict(list)
    for key, balance in balances(bank, before).items():
        by_currency[ACCOUNTS[key][2]].append(balance)
    return [
        {
            "currency": c,
            "accounts": len(v),
            "total_balance": to_decimal_string(sum(v), c),
            "average_balance": mean(sum(v), len(v), c),
        }
        for c, v in sorted(by_currency.items())
    ]


def expected_by_type(ops: list[Op]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for op in ops:
        groups[(op.type, op.currency)].append(op.minor)
    return [
        {"type": t, "currency": c, "count": len(v), "volume": to_decimal_string(sum(v), c)}
        for (t, c), v in sorted(groups.items())
    ]


def test_kpis_over_all_history(bank: Bank) -> None:
    answer = bank.get("financial_manager", "/reports/kpis")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    ops = booked(bank)
    assert body["by_type"] == expected_by_type(ops)
    assert body["transaction_count"] == len(ops)
    assert body["blocked_count"] == sum(op.status == "blocked" for op in bank.ops) == 1
    touched = {key for op in ops for key in (op.source, op.target) if key}
    assert body["active_accounts"] == len(touched)
    assert body["new_customers"] == 3
    assert body["new_accounts"] == len(ACCOUNTS)
    assert body["average_balance"] == expected_average_balances(bank, None)
    raised = Counter((a["queue"], a["severity"]) for a in bank.alerts)
    assert body["alert_counts"]["raised"] == [
        {"queue": q, "severity": s, "count": n} for (q, s), n in sorted(raised.items())
    ]
    unresolved = Counter(a["queue"] for a in bank.alerts if a["status"] != "closed")
    assert body["alert_counts"]["unresolved"] == [
        {"queue": q, "count": n} for q, n in sorted(unresolved.items())
    ]


def test_kpis_for_a_period(bank: Bank) -> None:
    start, end = month_start(bank.now, 5), month_start(bank.now, 2)
    body = bank.get(
        "auditor",
        "/reports/kpis",
        **{"from": start.isoformat(), "to": (end - timedelta(microseconds=1)).isoformat()},
    ).json()
    ops = booked(bank, start, end)
    assert body["by_type"] == expected_by_type(ops)
    assert body["blocked_count"] == 0
    assert body["new_customers"] == 0
    assert body["new_accounts"] == 0  # the fixture's accounts were opened today
    assert body["balance_as_of"].startswith(end.date().isoformat())
    # Balances at the end of the period, from the entries before it.
    assert body["average_balance"] == expected_average_balances(bank, end)
    in_window = [a for a in bank.alerts if start <= a["created_at"] < end]
    assert sum(item["count"] for item in body["alert_counts"]["raised"]) == len(in_window)


def test_kpis_count_new_customers_by_when_they_joined(bank: Bank) -> None:
    joined = month_start(bank.now, 15)  # alice joined then, bob 40 and carol 80 days later
    body = bank.get(
        "admin",
        "/reports/kpis",
        **{
            "from": (joined + timedelta(days=30)).isoformat(),
            "to": (joined + timedelta(days=60)).isoformat(),
        },
    ).json()
    assert body["new_customers"] == 1


def test_monthly_volume_trend_is_per_currency(bank: Bank) -> None:
    body = bank.get(
        "financial_manager", "/reports/trends", interval="month", metric="volume"
    ).json()
    first = month_label(min(op.at for op in bank.ops))
    labels = sorted({month_label(month_start(bank.now, n)) for n in range(20)})
    labels = [m for m in labels if first <= m <= month_label(bank.now)]
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for op in booked(bank):
        totals[(op.currency, month_label(op.at))] += op.minor
    expected = [
        {"period": m, "type": None, "currency": c, "value": to_decimal_string(totals[(c, m)], c)}
        for c in ("EUR", "JPY", "USD")
        for m in labels
    ]
    assert body["points"] == expected
    assert body["interval"] == "month"


def test_daily_count_trend_lists_every_day_of_the_period(bank: Bank) -> None:
    start, end = month_start(bank.now, 3), month_start(bank.now, 2)
    body = bank.get(
        "financial_manager",
        "/reports/trends",
        interval="day",
        metric="count",
        **{"from": start.date().isoformat(), "to": (end - timedelta(days=1)).date().isoformat()},
    ).json()
    days = [(start + timedelta(days=n)).date().isoformat() for n in range((end - start).days)]
    counts = Counter(op.at.date().isoformat() for op in booked(bank, start, end))
    assert body["points"] == [
        {"period": d, "type": None, "currency": None, "value": counts[d]} for d in days
    ]


def test_weekly_trend_by_type(bank: Bank) -> None:
    start, end = month_start(bank.now, 4), month_start(bank.now, 3)
    body = bank.get(
        "financial_manager",
        "/reports/trends",
        interval="week",
        metric="count",
        by_type="true",
        **{"from": start.isoformat(), "to": (end - timedelta(microseconds=1)).isoformat()},
    ).json()

    def monday(moment: datetime) -> str:
        return (moment.date() - timedelta(days=moment.weekday())).isoformat()

    weeks = sorted({monday(start + timedelta(days=n)) for n in range((end - start).days)})
    counts = Counter((op.type, monday(op.at)) for op in booked(bank, start, end))
    kinds = sorted({t for t, _ in counts})
    assert body["points"] == [
        {"period": w, "type": t, "currency": None, "value": counts[(t, w)]}
        for t in kinds
        for w in weeks
    ]


def custom(bank: Bank, body: dict[str, Any], who: str = "financial_manager", **params: Any) -> Any:
    answer = bank.post(who, "/reports/custom", body, **params)
    assert answer.status_code == 200, answer.text
    return answer


def test_custom_report_by_customer_and_month_with_every_metric(bank: Bank) -> None:
    start, end = month_start(bank.now, 6), month_start(bank.now, 1)
    request = {
        "group_by": ["customer", "month"],
        "metrics": ["count", "sum", "avg", "min", "max"],
        "filters": {"from": start.isoformat(), "to": (end - timedelta(microseconds=1)).isoformat()},
    }
    body = custom(bank, request).json()
    assert body["group_by"] == ["customer", "month", "currency"]
    groups: dict[tuple[int, str, str], list[int]] = defaultdict(list)
    for op in bank.ops:  # every status: the report filters none unless asked
        if in_period(op, start, end):
            groups[(bank.users[op.owner], month_label(op.at), op.currency)].append(op.minor)
    names = {user_id: name for name, user_id in bank.users.items()}
    expected = [
        {
            "customer": who,
            "month": m,
            "currency": c,
            "customer_username": names[who],
            "count": len(v),
            "sum": to_decimal_string(sum(v), c),
            "avg": mean(sum(v), len(v), c),
            "min": to_decimal_string(min(v), c),
            "max": to_decimal_string(max(v), c),
        }
        for (who, m, c), v in sorted(groups.items())
    ]
    assert body["rows"] == expected
    assert body["row_count"] == len(expected)
    assert body["truncated"] is False


def test_custom_report_by_verdict_and_type(bank: Bank) -> None:
    body = custom(bank, {"group_by": ["verdict", "type"], "metrics": ["count"]}).json()
    counts = Counter((op.verdict, op.type) for op in bank.ops)
    assert body["rows"] == [
        {"verdict": v, "type": t, "count": n} for (v, t), n in sorted(counts.items())
    ]
    assert {"CRITICAL", "SUSPICIOUS", "SAFE", "UNSCORED"} <= {v for v, _ in counts}


def test_custom_report_filters(bank: Bank) -> None:
    request = {
        "group_by": ["account_type", "status"],
        "metrics": ["count", "sum"],
        "filters": {
            "types": ["withdrawal"],
            "currencies": ["usd"],
            "min_amount": "100",
            "max_amount": 300.5,
        },
    }
    body = custom(bank, request).json()
    groups: dict[tuple[str, str], list[int]] = defaultdict(list)
    for op in bank.ops:
        if op.type == "withdrawal" and op.currency == "USD" and 10000 <= op.minor <= 30050:
            groups[(ACCOUNTS[op.account][1], op.status)].append(op.minor)
    assert body["rows"] == [
        {"account_type": a, "status": s, "currency": "USD", "count": len(v),
         "sum": to_decimal_string(sum(v), "USD")}
        for (a, s), v in sorted(groups.items())
    ]  # fmt: skip
    suspicious = custom(
        bank,
        {
            "metrics": ["count"],
            "filters": {"customer_ids": [bank.users["bob"]], "verdicts": ["SUSPICIOUS"]},
        },
    ).json()
    assert suspicious["rows"] == [
        {"count": sum(op.owner == "bob" and op.verdict == "SUSPICIOUS" for op in bank.ops)}
    ]


def test_custom_report_amount_bounds_are_per_currency(bank: Bank) -> None:
    body = custom(
        bank, {"group_by": ["currency"], "metrics": ["count"], "filters": {"min_amount": "10000"}}
    ).json()
    counts = Counter(op.currency for op in bank.ops if op.minor >= to_minor("10000", op.currency))
    assert body["rows"] == [{"currency": c, "count": n} for c, n in sorted(counts.items())]
    assert counts["JPY"] > 0


def test_custom_report_order_and_limit(bank: Bank) -> None:
    body = custom(
        bank,
        {"group_by": ["customer"], "metrics": ["sum"], "order_by": "-sum", "limit": 2,
         "filters": {"currencies": ["USD"]}},
    ).json()  # fmt: skip
    totals: dict[str, int] = defaultdict(int)
    for op in bank.ops:
        if op.currency == "USD":
            totals[op.owner] += op.minor
    top = sorted(totals.items(), key=lambda item: -item[1])[:2]
    assert [(r["customer_username"], r["sum"]) for r in body["rows"]] == [
        (who, to_decimal_string(v, "USD")) for who, v in top
    ]
    assert body["truncated"] is (len(totals) > 2)


def test_custom_report_refuses_unknown_fields(bank: Bank) -> None:
    for request in (
        {"group_by": ["colour"]},
        {"metrics": ["median"]},
        {"metrics": []},
        {"filters": {"min_amount": "-1"}},
        {"filters": {"from": "yesterday"}},
        {"order_by": "avg", "metrics": ["avg"]},
        {"filters": {"customer_ids": [2**70]}},
        {"filters": {"max_amount": "1e30"}},
        {"filters": {"currencies": ["XYZ"]}},
    ):
        answer = bank.post("financial_manager", "/reports/custom", request)
        assert answer.status_code == 422, request
        assert answer.json()["code"] in ("validation_error", "unknown_currency")
    for params in ({"from": "0001-01-01", "interval": "day"}, {"to": "9999-12-31"}):
        answer = bank.get("financial_manager", "/reports/trends", **params)
        assert answer.status_code == 422, params
        assert answer.json()["code"] == "validation_error"


def test_custom_report_exports_parse_back(bank: Bank) -> None:
    request = {
        "group_by": ["month", "type"],
        "metrics": ["count", "sum", "avg"],
        "filters": {"statuses": ["posted", "reversed"]},
    }
    rows = custom(bank, request).json()["rows"]
    assert rows
    exported = custom(bank, request, format="csv")
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    parsed = list(csv.DictReader(io.StringIO(exported.text)))
    assert parsed == [{k: str(v) for k, v in row.items()} for row in rows]

    workbook = custom(bank, request, format="xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(workbook.content)).active
    assert sheet is not None
    cells = list(sheet.iter_rows(values_only=True))
    assert list(cells[0]) == ["month", "type", "currency", "count", "sum", "avg"]
    assert len(cells) == len(rows) + 1
    for row, values in zip(rows, cells[1:], strict=True):
        month, kind, currency, count, total, average = values
        assert month == datetime.strptime(row["month"], "%Y-%m")  # a real date cell
        assert (kind, currency, count) == (row["type"], row["currency"], row["count"])
        assert isinstance(count, int)
        assert isinstance(total, int | float)
        places = Decimal(1).scaleb(-exponent(currency))
        assert Decimal(str(total)).quantize(places) == Decimal(row["sum"])
        assert Decimal(str(average)).quantize(places) == Decimal(row["avg"])
        row_formats = [
            sheet.cell(row=len([r for r in cells if r is not None]), column=i).number_format
            for i in (1, 4)
        ]
        assert row_formats == ["yyyy-mm", "0"]
    money_formats = {
        (values[2], sheet.cell(row=index, column=5).number_format)
        for index, values in enumerate(cells[1:], start=2)
    }
    assert ("USD", "#,##0.00") in money_formats
    assert ("JPY", "#,##0") in money_formats


def test_trends_of_new_customers_blocked_attempts_and_averages(bank: Bank) -> None:
    def series(metric: str, interval: str = "month", **params: Any) -> list[dict[str, Any]]:
        answer = bank.get(
            "financial_manager", "/reports/trends", interval=interval, metric=metric, **params
        )
        assert answer.status_code == 200, answer.text
        return list(answer.json()["points"])

    joined = month_start(bank.now, 15)
    customers = Counter(
        month_label(joined + timedelta(days=40 * index)) for index in range(3)
    )  # alice, bob and carol; staff are not customers
    points = series("new_customers")
    assert {p["period"]: p["value"] for p in points if p["value"]} == dict(customers)
    assert points[0]["period"] == min(customers)
    today = bank.now.date().isoformat()
    blocked = series("blocked", "day", **{"from": today})
    assert blocked == [{"period": today, "type": None, "currency": None, "value": 1}]
    averages = series("average", **{"currency": "JPY"})
    by_month: dict[str, list[int]] = defaultdict(list)
    for op in booked(bank):
        if op.currency == "JPY":
            by_month[month_label(op.at)].append(op.minor)
    assert {p["period"]: p["value"] for p in averages if p["value"] is not None} == {
        m: mean(sum(v), len(v), "JPY") for m, v in by_month.items()
    }
