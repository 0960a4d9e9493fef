"""The staff's casework API (issue 13): search, the customer view, names on alerts, queue sort
and filters, notes, bulk actions, SARs, the payment network, saved reports, LedgerGPT history,
KPIs against the previous period, and compliance metrics that agree with themselves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from test_risk_api import EVERYONE, World, large_cash, make_world

from ledgerbank.audit.tables import audit_log


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    yield from make_world(database_url, tmp_path)


CASEWORK = {"admin", "fraud_analyst", "compliance_officer"}
FRAUD = {"admin", "fraud_analyst"}
COMPLIANCE = {"admin", "compliance_officer"}
STAFF = {"admin", "auditor", "fraud_analyst", "financial_manager", "compliance_officer"}
REPORTS = {"admin", "auditor", "financial_manager"}


def audited(world: World, action: str) -> list[dict[str, Any]]:
    import json

    with world.database.read() as conn:
        rows = conn.execute(
            select(audit_log.c.actor_id, audit_log.c.entity_id, audit_log.c.after)
            .where(audit_log.c.action == action)
            .order_by(audit_log.c.id)
        ).all()
    return [
        {"actor_id": r.actor_id, "entity_id": r.entity_id, **json.loads(r.after or "{}")}
        for r in rows
    ]


def test_every_casework_route_admits_exactly_its_roles(world: World) -> None:
    large_cash(world)
    fraud = world.alert_ids("fraud")[0]
    compliance = world.alert_ids("compliance")[0]
    alice = world.users["alice"]
    sar = {"activity_type": "unusual_cash", "narrative": "Cash paid in far above the usual."}
    routes: list[tuple[str, str, Any, set[str], set[int]]] = [
        ("GET", "/staff/search?q=ali", None, CASEWORK, {200}),
        ("GET", f"/staff/customers/{alice}", None, CASEWORK, {200}),
        ("GET", f"/staff/people?ids={alice}", None, STAFF, {200}),
        ("POST", f"/fraud/alerts/{fraud}/notes", {"note": "called"}, FRAUD, {200}),
        ("POST", f"/compliance/alerts/{compliance}/notes", {"note": "x"}, COMPLIANCE, {200}),
        ("GET", f"/fraud/alerts/{fraud}/network", None, FRAUD, {200}),
        ("GET", f"/compliance/alerts/{compliance}/network", None, COMPLIANCE, {200}),
        ("POST", "/fraud/alerts/bulk", {"alert_ids": [fraud], "action": "assign"}, FRAUD, {200}),
        (
            "POST",
            "/compliance/alerts/bulk",
            {"alert_ids": [compliance], "action": "assign"},
            COMPLIANCE,
            {200},
        ),
        ("POST", f"/compliance/alerts/{compliance}/reports", sar, COMPLIANCE, {201}),
        ("GET", f"/compliance/alerts/{compliance}/reports", None, COMPLIANCE, {200}),
        ("GET", "/reports/saved", None, REPORTS, {200}),
        ("GET", "/reports/kpis?from=2026-01-01&compare=previous", None, REPORTS, {200}),
        ("GET", "/ledgergpt/history", None, {"admin", "auditor", "compliance_officer"}, {200}),
    ]
    for method, path, body, allowed, ok in routes:
        assert world.call(None, method, path, body).status_code == 401, path
        for who in EVERYONE:
            status = world.call(who, method, path, body).status_code
            if who in allowed:
                assert status in ok, (who, method, path, status)
            else:
                assert status == 403, (who, method, path, status)


def test_staff_find_customers_by_name_number_and_email_and_see_them_whole(world: World) -> None:
    account = large_cash(world)
    theirs = world.account("bob")
    assert world.transfer("alice", account, theirs, "45.10").status_code == 201
    number = world.call("admin", "GET", f"/accounts/{account}").json()["account_number"]
    for query in ("ALI", "alice@example", number[-6:]):
        found = world.call("fraud_analyst", "GET", f"/staff/search?q={query}").json()
        assert [a["id"] for a in found["accounts"]] == [account], query
        assert found["accounts"][0]["owner_name"] == "Alice"
    people = world.call("compliance_officer", "GET", "/staff/search?q=example.test").json()
    assert {c["username"] for c in people["customers"]} == {"alice", "bob"}  # never staff
    assert people["customers"][0]["email"].endswith("@example.test")
    masked = world.call("fraud_analyst", "GET", "/staff/search?q=bob").json()["customers"]
    assert masked[0]["email"] == "[personal]"  # fraud analysts do not read personal data
    assert world.call("admin", "GET", "/staff/search?q=%25_").json()["customers"] == []
    assert world.call("admin", "GET", "/staff/search?q=x").status_code == 422

    alice = world.users["alice"]
    view = world.call("compliance_officer", "GET", f"/staff/customers/{alice}").json()
    assert view["profile"]["full_name"] == "Alice"
    assert view["profile"]["kyc_status"] == "verified"
    assert [a["id"] for a in view["accounts"]] == [account]
    assert view["accounts"][0]["owner_name"] == "Alice"
    out, cash = view["recent_activity"]
    assert (out["signed_amount"], out["counterparty"]) == (
        "-45.10",
        f"Bob ·{theirs_tail(world, theirs)}",
    )
    assert (cash["signed_amount"], cash["counterparty"]) == ("12345.67", "cash")
    assert {a["queue"] for a in view["alerts"]} == {"compliance"}  # the queues they work
    fraud_view = world.call("fraud_analyst", "GET", f"/staff/customers/{alice}").json()
    assert {a["queue"] for a in fraud_view["alerts"]} == {"fraud"}
    assert fraud_view["profile"]["email"] == "[personal]"
    assert (
        world.call("admin", "GET", f"/staff/customers/{world.users['auditor']}").status_code == 404
    )
    assert world.call("admin", "GET", "/staff/customers/999999").status_code == 404
    names = world.call("auditor", "GET", f"/staff/people?ids={alice}&ids=999999").json()
    assert names == {"items": [{"id": alice, "name": "Alice"}]}


def theirs_tail(world: World, account: int) -> str:
    return str(world.call("admin", "GET", f"/accounts/{account}").json()["account_number"])[-4:]


def test_the_queue_names_people_sorts_and_filters(world: World) -> None:
    large_cash(world)
    second = world.account("bob")
    assert world.pay_in_cash(second, "11000.00")
    fraud = world.alert_ids("fraud")
    assert len(fraud) == 2
    items = world.call("fraud_analyst", "GET", "/fraud/alerts").json()["items"]
    assert [a["owner_name"] for a in items] == ["Bob", "Alice"]
    assert all(a["assignee_name"] is None for a in items)
    by_score = world.call("fraud_analyst", "GET", "/fraud/alerts?sort=-score&limit=1").json()
    rest = world.call(
        "fraud_analyst", "GET", f"/fraud/alerts?sort=-score&cursor={by_score['next_cursor']}"
    ).json()
    scores = [by_score["items"][0]["score"], rest["items"][0]["score"]]
    assert scores == sorted(scores, reverse=True)
    assert {by_score["items"][0]["id"], rest["items"][0]["id"]} == set(fraud)
    oldest = world.call("fraud_analyst", "GET", "/fraud/alerts?sort=created_at").json()["items"]
    assert [a["id"] for a in oldest] == fraud
    assert (
        world.call("fraud_analyst", "POST", f"/fraud/alerts/{fraud[0]}/assign").status_code == 200
    )
    mine = world.call("fraud_analyst", "GET", "/fraud/alerts?assigned=me").json()["items"]
    assert [(a["id"], a["assignee_name"]) for a in mine] == [(fraud[0], "Fraud_Analyst")]
    free = world.call("fraud_analyst", "GET", "/fraud/alerts?assigned=none").json()["items"]
    assert [a["id"] for a in free] == [fraud[1]]
    assert world.call("admin", "GET", "/fraud/alerts?sort=amount").status_code == 422
    assert world.call("admin", "GET", "/fraud/alerts?assigned=someone").status_code == 422


def test_notes_bulk_actions_and_the_case_history(world: World) -> None:
    account = large_cash(world)
    bobs = world.account("bob")
    assert world.pay_in_cash(bobs, "11000.00")
    first, second = world.alert_ids("fraud")
    note = world.call("fraud_analyst", "POST", f"/fraud/alerts/{first}/notes", {"note": "rang her"})
    assert note.json()["status"] == "open"  # a note changes nothing else
    empty = world.call("fraud_analyst", "POST", f"/fraud/alerts/{first}/notes", {"note": ""})
    assert empty.status_code == 422
    freeze = {"reason": "holding while we call", "customer_reason": "suspected_fraud"}
    assert (
        world.call("fraud_analyst", "POST", f"/accounts/{account}/freeze", freeze).status_code
        == 200
    )
    assigned = world.call(
        "admin",
        "POST",
        "/fraud/alerts/bulk",
        {
            "alert_ids": [first, second],
            "action": "assign",
            "assignee_id": world.users["fraud_analyst"],
        },
    ).json()
    assert assigned == {"done": [first, second], "skipped": []}
    wrong = world.call(
        "admin",
        "POST",
        "/fraud/alerts/bulk",
        {"alert_ids": [first], "action": "assign", "assignee_id": world.users["alice"]},
    )
    assert wrong.status_code == 422  # customers work no queue
    closed = world.call(
        "fraud_analyst",
        "POST",
        "/fraud/alerts/bulk",
        {"alert_ids": [first, second, 999999], "action": "close", "note": "known payroll"},
    ).json()
    assert closed["done"] == [first, second]
    assert [s["id"] for s in closed["skipped"]] == [999999]
    again = world.call(
        "fraud_analyst", "POST", "/fraud/alerts/bulk", {"alert_ids": [first], "action": "close"}
    ).json()
    assert again["done"] == []
    assert again["skipped"][0]["reason"].endswith("already closed")
    detail = world.call("fraud_analyst", "GET", f"/fraud/alerts/{first}").json()
    assert [(a["action"], a["actor_name"]) for a in detail["actions"]] == [
        ("note", "Fraud_Analyst"),
        ("assign", "Admin"),
        ("resolve_false_positive", "Fraud_Analyst"),
    ]
    assert detail["actions"][1]["note"] == "assigned to Fraud_Analyst"
    assert detail["alert"]["assignee_name"] == "Fraud_Analyst"
    assert detail["account"]["owner_name"] == "Alice"
    # both sides by name and whole number, as staff read them (a cash deposit: no payer)
    assert detail["transaction"]["from_party"] is None
    assert detail["transaction"]["to_party"] == {
        "name": "Alice",
        "account_number": detail["account"]["account_number"],
        "own": False,
    }
    (frozen,) = detail["account_history"]
    assert (frozen["action"], frozen["note"], frozen["actor_name"]) == (
        "account_frozen",
        "holding while we call",
        "Fraud_Analyst",
    )
    assert [t["signed_amount"] for t in detail["recent_activity"]] == ["12345.67"]
    bulk = audited(world, "risk_alert.bulk_close")
    assert [(b["done"], b["skipped"]) for b in bulk] == [([first, second], [999999]), ([], [first])]
    assert len(audited(world, "risk_alert.note")) == 1


def test_a_sar_is_filed_with_its_narrative_and_the_metrics_agree(world: World) -> None:
    large_cash(world)
    alert = next(
        a
        for a in world.call("compliance_officer", "GET", "/compliance/alerts").json()["items"]
        if a["rule_id"] == "large_cash"
    )
    path = f"/compliance/alerts/{alert['id']}/reports"
    short = world.call(
        "compliance_officer", "POST", path, {"activity_type": "fraud", "narrative": "x"}
    )
    assert short.status_code == 422
    narrative = "Alice paid in 12,345.67 in cash at the counter, far above her usual deposits."
    filed = world.call(
        "compliance_officer",
        "POST",
        path,
        {"activity_type": "unusual_cash", "narrative": narrative},
    )
    assert filed.status_code == 201, filed.text
    report = filed.json()
    assert (report["subject_user_id"], report["narrative"]) == (world.users["alice"], narrative)
    listed = world.call("compliance_officer", "GET", path).json()
    assert [(r["id"], r["filed_by_name"]) for r in listed] == [(report["id"], "Compliance_Officer")]
    detail = world.call("compliance_officer", "GET", f"/compliance/alerts/{alert['id']}").json()
    assert detail["alert"]["status"] == "reported"
    assert detail["actions"][-1]["note"] == f"SAR {report['id']} filed (unusual cash)"
    (sar,) = audited(world, "sar.filed")
    assert sar["alert_id"] == alert["id"]
    assert "narrative" not in sar
    view = world.call(
        "compliance_officer", "GET", f"/staff/customers/{world.users['alice']}"
    ).json()
    assert [r["id"] for r in view["reports"]] == [report["id"]]
    fraud_view = world.call(
        "fraud_analyst", "GET", f"/staff/customers/{world.users['alice']}"
    ).json()
    assert fraud_view["reports"] == []
    # the customer reads nothing of it anywhere they can look
    for customer_path in ("/accounts/", "/transactions/history", "/users/notices"):
        answer = world.call("alice", "GET", customer_path)
        assert answer.status_code == 200, customer_path
        assert narrative not in answer.text, customer_path
        assert "SAR" not in answer.text, customer_path
    metrics = world.call("compliance_officer", "GET", "/compliance/metrics").json()
    assert metrics["reports_filed"] == {
        "filed": 1,
        "alerts_reported": 1,
        "alerts_in_reported_status": 1,
    }
    ages = {q["queue"]: q for q in metrics["unresolved_alert_ages"]}
    assert ages["compliance"]["oldest_age_hours"] is not None
    assert ages["compliance"]["oldest_created_at"] is not None
    closed = world.call(
        "compliance_officer",
        "POST",
        f"/compliance/alerts/{alert['id']}/actions",
        {"action": "close"},
    )
    assert closed.status_code == 200
    late = world.call(
        "compliance_officer", "POST", path, {"activity_type": "other", "narrative": narrative}
    )
    assert late.status_code == 409


def test_the_network_around_an_alert_shows_fan_in(world: World) -> None:
    account = large_cash(world)
    senders = []
    for name in ("carol", "dave", "erin"):
        world.add_user(name)
        own = world.account(name)
        assert world.deposit(name, own, "500.00").status_code == 201
        assert world.transfer(name, own, account, "90.00").status_code == 201
        senders.append(own)
    onward = world.account("bob")
    assert world.transfer("alice", account, onward, "250.00").status_code == 201
    fraud = world.alert_ids("fraud")[0]
    graph = world.call("fraud_analyst", "GET", f"/fraud/alerts/{fraud}/network").json()
    assert (graph["fan_in"], graph["fan_out"], graph["pass_through"]) == (3, 1, True)
    labels = {n["account_id"]: n["label"] for n in graph["nodes"]}
    assert labels[account].startswith("Alice ·")
    assert {labels[s].split(" ·")[0] for s in senders} == {"Carol", "Dave", "Erin"}
    edges = {(e["from_account_id"], e["to_account_id"]): e for e in graph["edges"]}
    assert edges[(senders[0], account)]["total"] == "90.00"
    assert edges[(account, onward)]["count"] == 1
    assert world.call("fraud_analyst", "GET", "/fraud/alerts/999999/network").status_code == 404


def test_saved_reports_are_each_users_own(world: World) -> None:
    definition = {
        "group_by": ["type"],
        "metrics": ["count", "sum"],
        "filters": {"from": "2026-01-01"},
    }
    made = world.call(
        "financial_manager", "POST", "/reports/saved", {"name": "By type", "definition": definition}
    )
    assert made.status_code == 201, made.text
    saved = made.json()
    assert saved["definition"]["filters"]["from"] == "2026-01-01"
    listed = world.call("financial_manager", "GET", "/reports/saved").json()["items"]
    assert [r["name"] for r in listed] == ["By type"]
    assert world.call("auditor", "GET", "/reports/saved").json()["items"] == []
    assert world.call("auditor", "DELETE", f"/reports/saved/{saved['id']}").status_code == 404
    bad = world.call("financial_manager", "POST", "/reports/saved", {"name": " ", "definition": {}})
    assert bad.status_code == 422
    bad = world.call(
        "financial_manager",
        "POST",
        "/reports/saved",
        {"name": "x", "definition": {"metrics": ["median"]}},
    )
    assert bad.status_code == 422
    assert (
        world.call("financial_manager", "DELETE", f"/reports/saved/{saved['id']}").status_code
        == 204
    )
    assert world.call("financial_manager", "GET", "/reports/saved").json()["items"] == []
    assert [a["name"] for a in audited(world, "report.saved")] == ["By type"]
    assert len(audited(world, "report.deleted")) == 1


def test_ledgergpt_history_and_kpis_against_the_previous_period(world: World) -> None:
    asked = world.call(
        "auditor", "POST", "/ledgergpt/ask", {"question": "which accounts are frozen"}
    )
    assert asked.status_code == 200, asked.text
    world.call("auditor", "POST", "/ledgergpt/ask", {"question": "tell me a joke"})
    history = world.call("auditor", "GET", "/ledgergpt/history").json()["items"]
    assert [h["question"] for h in history] == ["tell me a joke", "which accounts are frozen"]
    assert history[0]["decision"] == "not_understood"
    assert history[1]["decision"] == "answered"
    assert world.call("admin", "GET", "/ledgergpt/history").json()["items"] == []

    account = world.account("alice")
    assert world.deposit("alice", account, "25.00").status_code == 201
    kpis = world.call("financial_manager", "GET", "/reports/kpis?from=2026-01-01&compare=previous")
    body = kpis.json()
    assert body["previous"]["transaction_count"] == 0
    assert body["previous"]["period_end"] == body["period_start"]
    plain = world.call("financial_manager", "GET", "/reports/kpis").json()
    assert plain["previous"] is None
    assert (
        world.call("financial_manager", "GET", "/reports/kpis?compare=previous").status_code == 422
    )
