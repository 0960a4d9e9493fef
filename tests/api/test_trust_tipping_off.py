"""Tipping off: a customer never reads a risk score, a verdict, a rule, a threshold, the model,
an alert or a staff note, in any answer or event about a screened transaction (issue 11).

The risk engine is the real one: a large cash deposit (SUSPICIOUS: large_cash over the
10,000.00 threshold, an alert for the fraud team and compliance); compliance freezes the account
with a note; a transfer stopped by a screen that blocks (CRITICAL). Then every route that
mentions those transactions is read as the customer, the payee and staff."""

from __future__ import annotations

import json
from typing import Any

from api_helpers import PIN, Bank, ThresholdScreen, problem
from sqlalchemy import select
from trust_helpers import tipping_off

from ledgerbank.events.feed import Cursor
from ledgerbank.identity.deps import Principal
from ledgerbank.identity.permissions import Role
from ledgerbank.risk.screen import build_screen
from ledgerbank.risk.tables import risk_alerts
from ledgerbank.web import events

NOTE = "Freeze pending SAR outcome"
# Rule names and thresholds the engine's reasons carry; none may reach a customer.
WORDS = (
    NOTE,
    "large_cash",
    "new_account_high_value",
    "test_threshold",
    "10000.00",
    "10,000.00",
    "compliance alert",
    "smaller amount",
    "adds ",
)


def _screened_bank(bank: Bank) -> dict[str, Any]:
    """Alice: a large cash deposit (SUSPICIOUS, posted, alerts), a transfer to bob stopped
    by risk, her account frozen by compliance with a note. Bob: the payee."""
    settings = bank.app.state.settings.model_copy(update={"risk_enabled": True})
    bank.set_screen(build_screen(settings))  # the real engine: the rules alone
    cash_account = bank.open_account("alice")
    spending = bank.open_account("alice", kind="savings")
    theirs = bank.open_account("bob")
    # large cash is paid in at the counter (past the self-service limit): staff post it
    cash = bank.pay_in_cash(cash_account, "12345.67")
    bank.fund(spending, "5000.00")
    bank.set_screen(ThresholdScreen(1000_00))
    stopped = bank.post(
        "alice",
        "/transactions/transfer",
        {"from_account_id": spending, "to_account_id": theirs, "amount": "1500.00",
         "description": "for the car", "pin": PIN},
    )  # fmt: skip
    assert stopped.status_code == 422, stopped.text
    small = bank.post(
        "alice",
        "/transactions/transfer",
        {"from_account_id": spending, "to_account_id": theirs, "amount": "20.00", "pin": PIN},
    )
    assert small.status_code == 201, small.text
    alert = bank.read(
        lambda conn: conn.execute(
            select(risk_alerts.c.id).where(
                risk_alerts.c.queue == "compliance", risk_alerts.c.rule_id == "large_cash"
            )
        ).scalar_one()
    )
    frozen = bank.post(
        "compliance_officer",
        f"/compliance/alerts/{alert}/actions",
        {"action": "freeze_account", "note": NOTE},
    )
    assert frozen.status_code == 200, frozen.text
    return {
        "cash": cash,
        "stopped": int(stopped.json()["reference"]),
        "small": small.json()["id"],
        "cash_account": cash_account,
        "spending": spending,
        "theirs": theirs,
        "posting_answers": [stopped.json(), small.json()],  # the customer's own
        "alert": alert,
    }


def _json(bank: Bank, who: str, path: str, **params: Any) -> Any:
    answer = bank.get(who, path, params=params)
    assert answer.status_code == 200, (path, answer.text)
    return answer.json()


def test_a_customer_reads_no_risk_anywhere(bank: Bank) -> None:
    story = _screened_bank(bank)
    ids = (story["cash"], story["stopped"], story["small"])
    found: dict[str, list[str]] = {}

    def check(name: str, answer: Any) -> None:
        if problems := tipping_off(answer, words=WORDS):
            found[name] = problems

    # the posting answers (the blocked one is the lead's `payment_declined`; no risk in it)
    for index, answer in enumerate(story["posting_answers"]):
        check(f"posting answer {index}", answer)
    for transaction_id in ids:
        check(
            f"GET /transactions/{transaction_id}",
            _json(bank, "alice", f"/transactions/{transaction_id}"),
        )
    history = _json(bank, "alice", "/transactions/history")
    check("history", history)
    assert {item["id"] for item in history["items"]} >= set(ids)
    stopped = next(item for item in history["items"] if item["id"] == story["stopped"])
    assert stopped["status"] == "declined"  # never "blocked"
    for status in ("blocked", "posted"):
        check(
            f"history status={status}", _json(bank, "alice", "/transactions/history", status=status)
        )
    csv_export = bank.get("alice", "/transactions/history", params={"format": "csv"})
    assert csv_export.status_code == 200
    check("history csv", csv_export.text)
    assert "declined" in csv_export.text
    assert ",blocked," not in csv_export.text
    for account in (story["cash_account"], story["spending"]):
        check(f"account {account}", _json(bank, "alice", f"/accounts/{account}"))
        check(f"statement {account}", _json(bank, "alice", f"/accounts/{account}/statement"))
        for kind in ("csv", "pdf"):
            download = bank.get("alice", f"/accounts/{account}/statement", params={"format": kind})
            assert download.status_code == 200
            check(f"statement {kind} {account}", download.content.decode("latin-1"))
    accounts = _json(bank, "alice", "/accounts/")
    check("accounts", accounts)
    for path in ("/analytics/spending-summary", "/analytics/spending-prediction"):
        check(path, _json(bank, "alice", path))
    scores = bank.get("alice", "/analytics/risk-scores")
    assert scores.status_code == 403  # staff only now
    check("risk-scores refusal", scores.json())
    for path in ("/fraud/alerts", f"/fraud/alerts/{story['alert']}", "/compliance/alerts",
                 f"/compliance/alerts/{story['alert']}", "/risk/model"):  # fmt: skip
        assert bank.get("alice", path).status_code == 403, path
    notices = _json(bank, "alice", "/users/notices")
    check("notices", notices)
    assert [n["kind"] for n in notices["items"]] == ["account_frozen", "new_payee"]
    assert found == {}, json.dumps(found, indent=1)

    # the frozen account says only the neutral reason (the issue saw "compliance alert 5:
    # Freeze pending SAR outcome" on the customer's Accounts page)
    frozen = _json(bank, "alice", f"/accounts/{story['cash_account']}")
    assert frozen["status"] == "frozen"
    assert frozen["status_reason"] == frozen["freeze_message"]
    assert "contact us" in frozen["freeze_message"]
    assert frozen["frozen_by"] is None
    assert frozen["can_unfreeze"] is False


def test_the_payee_never_learns_of_a_stopped_payment(bank: Bank) -> None:
    story = _screened_bank(bank)
    problem(bank.get("bob", f"/transactions/{story['stopped']}"), 404, "not_found")
    listed = _json(bank, "bob", "/transactions/history")
    assert story["stopped"] not in [item["id"] for item in listed["items"]]
    assert story["small"] in [item["id"] for item in listed["items"]]
    assert tipping_off(listed, words=WORDS) == []
    export = bank.get("bob", "/transactions/history", params={"format": "csv"}).text
    assert "for the car" not in export
    assert "1500.00" not in export


def test_staff_still_read_every_score_reason_and_note(bank: Bank) -> None:
    story = _screened_bank(bank)
    cash = _json(bank, "fraud_analyst", f"/transactions/{story['cash']}")
    assert cash["risk"]["verdict"] == "SUSPICIOUS"
    assert "large_cash" in {r.get("rule") for r in cash["risk"]["reasons"]}
    stopped = _json(bank, "fraud_analyst", f"/transactions/{story['stopped']}")
    assert (stopped["status"], stopped["risk"]["verdict"]) == ("blocked", "CRITICAL")
    account = _json(bank, "compliance_officer", f"/accounts/{story['cash_account']}")
    assert account["status_reason"] == f"compliance alert {story['alert']}: {NOTE}"
    assert account["frozen_by"] == "compliance"
    scores = _json(bank, "auditor", "/analytics/risk-scores")
    assert story["cash"] in {item["transaction_id"] for item in scores["items"]}


def _principal(bank: Bank, who: str) -> Principal:
    role = "customer" if who in ("alice", "bob") else who
    return Principal(bank.users[who], who, Role(role))


def test_the_event_stream_tells_no_payee_and_no_risk(bank: Bank) -> None:
    """The live feed, read as web/events.py builds it: the payee gets no event of the stopped
    payment (the issue saw its amount and description on bob's dashboard); the payer reads it
    as declined; no event carries a score, a verdict or an alert to a customer."""
    feeds = {who: events._feeds(_principal(bank, who)) for who in ("alice", "bob", "fraud_analyst")}
    cursors = {who: Cursor() for who in feeds}
    story = _screened_bank(bank)
    seen = {who: events._news(bank.database, feeds[who], cursors[who]) for who in feeds}
    bob = {data["id"]: data for event, data, _ in seen["bob"] if event == "transaction"}
    assert story["stopped"] not in bob
    assert story["small"] in bob
    assert all(event == "transaction" for event, _, _ in seen["bob"])
    alice = {data["id"]: data for event, data, _ in seen["alice"] if event == "transaction"}
    assert alice[story["stopped"]]["status"] == "declined"
    for who in ("alice", "bob"):
        assert tipping_off([data for _, data, _ in seen[who]], words=WORDS) == [], who
    staff = {data["id"]: data for event, data, _ in seen["fraud_analyst"] if event == "transaction"}
    assert staff[story["stopped"]]["status"] == "blocked"
    assert any(event == "alert" for event, _, _ in seen["fraud_analyst"])
