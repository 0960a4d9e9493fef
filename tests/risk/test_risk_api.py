"""The risk API over HTTP: who may call what (customers never read scores), the fraud and
compliance workflows, blocking, and the model the app loads at start."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from httpx import Response
from risk_helpers import risk_settings
from sqlalchemy import select

from ledgerbank.app import create_app
from ledgerbank.audit.tables import audit_log
from ledgerbank.config import Settings
from ledgerbank.identity import pins, tokens
from ledgerbank.identity import service as identity
from ledgerbank.identity.tables import users
from ledgerbank.kit.db import Database
from ledgerbank.ledger import accounts as account_service
from ledgerbank.ledger import integrity
from ledgerbank.risk import model as anomaly
from ledgerbank.risk.features import FEATURES
from ledgerbank.risk.tables import risk_alerts

STAFF = ("admin", "auditor", "fraud_analyst", "financial_manager", "compliance_officer")
EVERYONE = ("alice", *STAFF)


PIN = "2468"


@dataclass
class World:
    client: TClient
    database: Database
    settings: Settings
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def add_user(self, name: str, role: str = "customer") -> None:
        row = self.database.write(
            lambda conn: identity.create_user(
                conn,
                username=name,
                password="correct horse battery",
                email=f"{name}@example.test",
                full_name=name.title(),
                role=role,
                kyc_status="verified",
            )
        )
        self.users[name] = int(row["id"])
        if role == "customer":
            keyring = self.settings.pin_keyring()
            self.database.write(
                lambda conn: conn.execute(
                    users.update()
                    .where(users.c.id == row["id"])
                    .values(pin_hash=pins.hash_pin(keyring, int(row["id"]), PIN))
                )
            )
        self.tokens[name], _ = tokens.issue(
            user_id=int(row["id"]), role=role, secret=self.settings.signing_secret(), ttl_minutes=30
        )

    def account(self, who: str) -> int:
        row = self.database.write(
            lambda conn: account_service.open_account(
                conn, owner_id=self.users[who], account_type="checking", currency="USD"
            )
        )
        return int(row["id"])

    def call(self, who: str | None, method: str, path: str, body: Any = None) -> Response:
        headers = {} if who is None else {"Authorization": f"Bearer {self.tokens[who]}"}
        return self.client.request(method, path, json=body, headers=headers)

    def deposit(self, who: str, account: int, amount: str) -> Response:
        return self.call(
            who, "POST", "/transactions/deposit", {"account_id": account, "amount": amount}
        )

    def pay_in_cash(self, account: int, amount: str) -> int:
        """Staff take cash at the counter; above the four-eyes threshold a second admin
        ("checker") approves it. The posted transaction's id."""
        proposed = self.deposit("admin", account, amount)
        if proposed.status_code == 201:
            return int(proposed.json()["id"])
        assert proposed.status_code == 202, proposed.text
        if "checker" not in self.users:
            self.add_user("checker", "admin")
        approval = proposed.json()["approval_id"]
        decided = self.call("checker", "POST", f"/approvals/{approval}/approve", {})
        assert decided.status_code == 200, decided.text
        return int(decided.json()["result"]["transaction_id"])

    def transfer(self, who: str, src: int, dst: int, amount: str) -> Response:
        body = {"from_account_id": src, "to_account_id": dst, "amount": amount, "pin": PIN}
        return self.call(who, "POST", "/transactions/transfer", body)

    def balance(self, account: int) -> str:
        found: str = self.call("admin", "GET", f"/accounts/{account}").json()["balance"]
        return found

    def alert_ids(self, queue: str) -> list[int]:
        with self.database.read() as conn:
            query = select(risk_alerts.c.id).where(risk_alerts.c.queue == queue)
            return [int(i) for i in conn.execute(query.order_by(risk_alerts.c.id)).scalars()]


TClient = TestClient


def make_world(database_url: str, data_dir: Path) -> Iterator[World]:
    settings = risk_settings(data_dir, database_url=database_url)
    app = create_app(settings)
    with TestClient(app) as client:
        world = World(client, app.state.db, settings)
        world.add_user("alice")
        world.add_user("bob")
        for role in STAFF:
            world.add_user(role, role)
        yield world
        with world.database.read() as conn:
            assert integrity.violations(conn) == []


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    yield from make_world(database_url, tmp_path)


def large_cash(world: World) -> int:
    """Alice pays 12,345.67 in cash at the counter (past the self-service deposit limit, so
    staff take it): a fraud alert and compliance alerts."""
    account = world.account("alice")
    posted = world.pay_in_cash(account, "12345.67")
    staff = world.call("admin", "GET", f"/transactions/{posted}").json()
    assert staff["risk"]["verdict"] == "SUSPICIOUS"  # staff read it
    mine = world.call("alice", "GET", f"/transactions/{posted}").json()
    assert mine["risk"] is None  # the customer is not told
    return account


# --- who may call what --------------------------------------------------------------------

READ_RISK = {"admin", "auditor", "fraud_analyst", "compliance_officer"}  # never customers
FRAUD = {"admin", "fraud_analyst"}
COMPLIANCE = {"admin", "compliance_officer"}
MODEL = {"admin", "auditor", "fraud_analyst", "compliance_officer"}


def test_every_risk_route_admits_exactly_its_roles(world: World) -> None:
    large_cash(world)
    fraud = world.alert_ids("fraud")[0]
    compliance = world.alert_ids("compliance")[0]
    routes: list[tuple[str, str, Any, set[str], set[int]]] = [
        ("GET", "/analytics/risk-scores", None, READ_RISK, {200}),
        ("GET", "/fraud/alerts", None, FRAUD, {200}),
        ("GET", f"/fraud/alerts/{fraud}", None, FRAUD, {200}),
        ("POST", f"/fraud/alerts/{fraud}/assign", None, FRAUD, {200}),
        (
            "POST",
            f"/fraud/alerts/{fraud}/resolve",
            {"resolution": "false_positive", "note": "known customer"},
            FRAUD,
            {200, 409},  # the second allowed caller finds it closed
        ),
        ("GET", "/compliance/alerts", None, COMPLIANCE, {200}),
        ("GET", f"/compliance/alerts/{compliance}", None, COMPLIANCE, {200}),
        (
            "POST",
            f"/compliance/alerts/{compliance}/actions",
            {"action": "file_report", "note": "CTR filed"},
            COMPLIANCE,
            {200},
        ),
        ("GET", "/risk/model", None, MODEL, {200}),
    ]
    for method, path, body, allowed, ok in routes:
        assert world.call(None, method, path, body).status_code == 401, path
        for who in EVERYONE:
            status = world.call(who, method, path, body).status_code
            if who in allowed:
                assert status in ok, (who, method, path, status)
            else:
                assert status == 403, (who, method, path, status)


# --- scores -------------------------------------------------------------------------------


def test_scores_are_for_staff_and_customers_read_none(world: World) -> None:
    large_cash(world)
    theirs = world.account("bob")
    assert world.deposit("bob", theirs, "20.00").status_code == 201
    for customer in ("alice", "bob"):
        refused = world.call(customer, "GET", "/analytics/risk-scores")
        assert refused.status_code == 403
        assert refused.json()["code"] == "forbidden"
        assert "SUSPICIOUS" not in refused.text
    staff = world.call("auditor", "GET", "/analytics/risk-scores?verdict=SUSPICIOUS").json()
    (item,) = staff["items"]
    assert item["amount"] == "12345.67"
    assert item["currency"] == "USD"
    assert item["type"] == "deposit"
    assert item["model_version"] is None
    assert {r["rule"] for r in item["reasons"]} >= {"large_cash"}
    assert world.call("auditor", "GET", "/analytics/risk-scores?min_score=0.6").json()["items"]
    page = world.call("admin", "GET", "/analytics/risk-scores?limit=1").json()
    assert len(page["items"]) == 1
    rest = world.call("admin", "GET", f"/analytics/risk-scores?cursor={page['next_cursor']}")
    assert len(rest.json()["items"]) == 1
    assert rest.json()["next_cursor"] is None


# --- the fraud workspace ------------------------------------------------------------------


def test_a_fraud_analyst_drills_down_assigns_and_resolves(world: World) -> None:
    account = large_cash(world)
    (alert_id,) = world.alert_ids("fraud")
    queue = world.call("fraud_analyst", "GET", "/fraud/alerts?status=open&severity=medium")
    assert [a["id"] for a in queue.json()["items"]] == [alert_id]
    detail = world.call("fraud_analyst", "GET", f"/fraud/alerts/{alert_id}").json()
    assert detail["alert"]["account_id"] == account
    assert detail["transaction"]["risk"]["verdict"] == "SUSPICIOUS"
    assert detail["account"]["id"] == account
    assert [t["id"] for t in detail["recent_activity"]] == [detail["transaction"]["id"]]
    taken = world.call("fraud_analyst", "POST", f"/fraud/alerts/{alert_id}/assign").json()
    assert taken["status"] == "investigating"
    assert taken["assigned_to"] == world.users["fraud_analyst"]
    resolved = world.call(
        "fraud_analyst",
        "POST",
        f"/fraud/alerts/{alert_id}/resolve",
        {"resolution": "fraud", "note": "customer denies the deposit"},
    )
    assert resolved.json()["status"] == "closed"
    assert resolved.json()["resolution"] == "fraud"
    again = world.call(
        "fraud_analyst", "POST", f"/fraud/alerts/{alert_id}/resolve", {"resolution": "fraud"}
    )
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"
    history = world.call("fraud_analyst", "GET", f"/fraud/alerts/{alert_id}").json()["actions"]
    assert [a["action"] for a in history] == ["assign", "resolve_fraud"]
    assert world.call("fraud_analyst", "GET", "/fraud/alerts/999999").status_code == 404
    compliance_id = world.alert_ids("compliance")[0]  # another queue's alert is not found here
    assert world.call("admin", "GET", f"/fraud/alerts/{compliance_id}").status_code == 404
    with world.database.read() as conn:
        actions = set(
            conn.execute(
                select(audit_log.c.action).where(audit_log.c.entity_type == "risk_alert")
            ).scalars()
        )
    assert actions == {"risk_alert.assign", "risk_alert.resolve_fraud"}


# --- the compliance workspace -------------------------------------------------------------


def test_compliance_escalates_reports_freezes_and_closes(world: World) -> None:
    account = large_cash(world)
    rules = world.call("compliance_officer", "GET", "/compliance/alerts").json()["items"]
    assert {a["rule_id"] for a in rules} == {"large_cash", "new_account_high_value"}
    (alert,) = [a for a in rules if a["rule_id"] == "large_cash"]
    path = f"/compliance/alerts/{alert['id']}/actions"

    def act(action: str) -> Response:
        return world.call("compliance_officer", "POST", path, {"action": action, "note": "x"})

    assert act("escalate").json()["status"] == "escalated"
    assert act("escalate").status_code == 409
    assert act("file_report").json()["status"] == "reported"
    assert act("freeze_account").json()["status"] == "reported"
    payee = world.account("bob")
    refused = world.transfer("alice", account, payee, "10.00")
    assert refused.status_code == 422
    assert refused.json()["code"] == "account_frozen"
    assert world.balance(account) == "12345.67"
    closed = act("close").json()
    assert (closed["status"], closed["resolution"]) == ("closed", "reported")
    assert act("close").status_code == 409
    bad = world.call("compliance_officer", "POST", path, {"action": "delete"})
    assert bad.status_code == 422
    listed = world.call("compliance_officer", "GET", "/compliance/alerts?rule=large_cash")
    assert [a["status"] for a in listed.json()["items"]] == ["closed"]
    history = world.call("compliance_officer", "GET", f"/compliance/alerts/{alert['id']}").json()
    assert [a["action"] for a in history["actions"]] == [
        "escalate",
        "file_report",
        "freeze_account",
        "close",
    ]
    assert history["account"]["status"] == "frozen"


# --- blocking -----------------------------------------------------------------------------


def test_a_critical_transfer_answers_422_and_moves_no_money(world: World) -> None:
    source = world.account("alice")
    assert world.deposit("alice", source, "3000.00").status_code == 201
    payees = []
    for i in range(6):
        world.add_user(f"payee{i}")
        payees.append(world.account(f"payee{i}"))
    answers = [world.transfer("alice", source, payee, "100.00") for payee in payees]
    assert [a.status_code for a in answers] == [201] * 5 + [422]
    problem = answers[-1].json()
    assert problem["code"] == "payment_declined"
    assert world.balance(source) == "2500.00"
    assert world.balance(payees[-1]) == "0.00"
    blocked_id = int(problem["reference"])
    blocked = world.call("fraud_analyst", "GET", f"/transactions/{blocked_id}").json()
    assert blocked["status"] == "blocked"
    mine = world.call("alice", "GET", f"/transactions/{blocked_id}").json()
    assert mine["status"] == "declined"  # the customer reads no more than that
    high = world.call("fraud_analyst", "GET", "/fraud/alerts?severity=high").json()["items"]
    assert [a["transaction_id"] for a in high] == [blocked_id]


# --- the model the app loads --------------------------------------------------------------


def test_the_app_loads_the_newest_model_at_start(database_url: str, tmp_path: Path) -> None:
    rows = np.random.default_rng(1).normal(size=(400, len(FEATURES)))
    trained = anomaly.fit(rows, FEATURES, trees=5, max_samples=32, seed=1)
    anomaly.save(trained, tmp_path / "models")
    for world in make_world(database_url, tmp_path):
        info = world.call("auditor", "GET", "/risk/model").json()
        assert info["version"] == trained.version
        assert info["features"] == list(FEATURES)
        assert {r["id"] for r in info["rules"]} >= {"large_cash", "structuring", "fan_in"}
        assert info["settings"]["risk_cash_threshold"] == "10000.00"
        account = world.account("alice")
        posted = world.deposit("alice", account, "25.00").json()
        scores = world.call("auditor", "GET", "/analytics/risk-scores").json()["items"]
        assert scores[0]["transaction_id"] == posted["id"]
        assert scores[0]["model_version"] == trained.version


def test_staff_read_the_reasons_about_both_sides_customers_none(world: World) -> None:
    collector = world.account("bob")
    payers = []
    for i in range(5):
        world.add_user(f"payer{i}")
        payers.append((f"payer{i}", world.account(f"payer{i}")))
    payers.append(("alice", world.account("alice")))
    for who, account in payers:
        assert world.deposit(who, account, "500.00").status_code == 201
        assert world.transfer(who, account, collector, "120.00").status_code == 201
    staff = world.call("compliance_officer", "GET", "/analytics/risk-scores?limit=1").json()
    (last,) = staff["items"]
    assert "fan_in" in {r.get("rule") for r in last["reasons"]}
    for customer in ("alice", "bob"):
        detail = world.call(customer, "GET", f"/transactions/{last['transaction_id']}").json()
        assert detail["risk"] is None
        assert world.call(customer, "GET", "/analytics/risk-scores").status_code == 403
