"""Compliance metrics against the fixture's alerts, and the allow/deny matrix of every route."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta
from typing import Any

import pytest
from analytics_bank import ROLES, Bank, balances

from ledgerbank.kit.money import to_decimal_string, to_minor


def test_compliance_metrics_match_the_fixture(bank: Bank) -> None:
    start = bank.now - timedelta(days=500)
    answer = bank.get("compliance_officer", "/compliance/metrics", **{"from": start.isoformat()})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    by_rule = Counter((a["queue"], a["rule_id"] or "model", a["status"]) for a in bank.alerts)
    assert [(r["queue"], r["rule"], r["status"], r["count"]) for r in body["alerts_by_rule"]] == [
        (*key, n) for key, n in sorted(by_rule.items())
    ]
    unresolved = [a for a in bank.alerts if a["status"] != "closed"]
    ages = {row["queue"]: row for row in body["unresolved_alert_ages"]}
    for queue in ("compliance", "fraud"):
        mine = [a for a in unresolved if a["queue"] == queue]
        assert ages[queue]["count"] == len(mine)
        assert sum(ages[queue]["by_age"].values()) == len(mine)
        oldest = (bank.now - min(a["created_at"] for a in mine)).total_seconds() / 86400
        assert ages[queue]["oldest_age_days"] == pytest.approx(oldest, abs=0.01)
        over_30 = sum(bank.now - a["created_at"] >= timedelta(days=30) for a in mine)
        assert ages[queue]["by_age"]["30d+"] == over_30
    assert body["reports_filed"]["filed"] == len(bank.reports_filed) > 0
    assert body["reports_filed"]["alerts_in_reported_status"] == sum(
        a["status"] == "reported" for a in bank.alerts
    )
    wallet = balances(bank)["alice_wallet"]
    assert body["frozen_accounts"] == [
        {"currency": "EUR", "count": 1, "balance": to_decimal_string(wallet, "EUR")}
    ]
    # Cash at or above 10000 of the account's currency: the yen stipends, not the USD salaries.
    days: dict[tuple[str, str, str], list[int]] = defaultdict(list)
    for op in bank.ops:
        large = op.minor >= to_minor("10000", op.currency)
        if op.type in ("deposit", "withdrawal") and op.booked and large and op.at >= start:
            days[(op.at.date().isoformat(), op.currency, op.type)].append(op.minor)
    assert body["large_cash_by_day"] == [
        {"day": d, "currency": c, "type": t, "count": len(v), "total": to_decimal_string(sum(v), c)}
        for (d, c, t), v in sorted(days.items())
    ]
    assert {c for _, c, _ in days} == {"JPY"}
    assert body["thresholds"]["cash_threshold"] == "10000.00"


def test_compliance_metrics_default_to_the_last_thirty_days(bank: Bank) -> None:
    body = bank.get("admin", "/compliance/metrics").json()
    recent = [a for a in bank.alerts if a["created_at"] >= bank.now - timedelta(days=30)]
    assert sum(r["count"] for r in body["alerts_by_rule"]) == len(recent)
    assert body["period_start"] is not None


# Who may call what: customers their own analytics; reports for financial managers, auditors
# and admins; compliance metrics for compliance officers and admins. No token: 401.
ALLOWED = {
    "analytics": {"customer"},
    "reports": {"financial_manager", "auditor", "admin"},
    "compliance": {"compliance_officer", "admin"},
}
ROUTES: list[tuple[str, str, str, dict[str, Any] | None, dict[str, str]]] = [
    ("analytics", "GET", "/analytics/spending-summary", None, {}),
    ("analytics", "GET", "/analytics/spending-prediction", None, {}),
    ("reports", "GET", "/reports/kpis", None, {}),
    ("reports", "GET", "/reports/trends", None, {"interval": "month"}),
    ("reports", "POST", "/reports/custom", {"group_by": ["type"]}, {}),
    ("reports", "POST", "/reports/custom", {"group_by": ["type"]}, {"format": "csv"}),
    ("reports", "POST", "/reports/custom", {"group_by": ["type"]}, {"format": "xlsx"}),
    ("compliance", "GET", "/compliance/metrics", None, {}),
]


def test_allow_deny_matrix(bank: Bank) -> None:
    callers = {"customer": "alice", **{role: role for role in ROLES if role != "customer"}}
    seen = []
    for audience, method, path, body, params in ROUTES:
        for role in (*ROLES, None):
            who = callers[role] if role else None
            answer = bank.client.request(
                method, path, json=body, params=params, headers=bank.headers(who)
            )
            if role is None:
                expected = 401
            elif role in ALLOWED[audience]:
                expected = 200
            else:
                expected = 403
            seen.append((path, params.get("format"), role, answer.status_code))
            assert answer.status_code == expected, (path, role, answer.text)
            if expected != 200:
                code = "not_authenticated" if expected == 401 else "forbidden"
                assert answer.json()["code"] == code
    assert len(seen) == len(ROUTES) * 7
