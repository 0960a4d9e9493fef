"""A posting the risk screen calls CRITICAL is recorded as blocked, moves nothing, answers 422:
`payment_declined` with a reference to the customer (nothing about why: telling them would be
tipping off), `blocked_by_risk` with the assessment to staff."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from api_helpers import PIN, Bank, ThresholdScreen, problem
from sqlalchemy import select

from ledgerbank.ledger.tables import entries, transactions
from ledgerbank.risk.screen import build_screen
from ledgerbank.risk.tables import risk_scores

BLOCK_FROM = 1000_00  # minor units: 1000.00 and above are CRITICAL for the test screen
# All a customer reads of a declined payment.
DECLINED_FIELDS = {"type", "title", "status", "detail", "code", "reference", "request_id"}


def stored(bank: Bank, transaction_id: int) -> tuple[str, int]:
    """The stored status of a transaction and how many entries it has."""

    def read(conn: Any) -> tuple[str, int]:
        status = conn.execute(
            select(transactions.c.status).where(transactions.c.id == transaction_id)
        ).scalar_one()
        legs = conn.execute(
            select(entries.c.id).where(entries.c.transaction_id == transaction_id)
        ).all()
        return status, len(legs)

    result: tuple[str, int] = bank.read(read)
    return result


def test_a_blocked_transfer_is_recorded_moves_nothing_and_answers_422(bank: Bank) -> None:
    screen = ThresholdScreen(BLOCK_FROM)
    bank.set_screen(screen)
    mine = bank.open_account("alice")
    theirs = bank.open_account("bob")
    bank.fund(mine, "5000.00")
    body = {"from_account_id": mine, "to_account_id": theirs, "amount": "1500.00", "pin": PIN}
    blocked = problem(
        bank.post("alice", "/transactions/transfer", body, key="big-1"), 422, "payment_declined"
    )
    # the customer learns that it failed and whom to ask, nothing of why
    assert set(blocked) <= DECLINED_FIELDS, blocked
    assert "contact us" in blocked["detail"]
    transaction_id = int(blocked["reference"])
    # committed as the record of the attempt, with no money moved
    assert stored(bank, transaction_id) == ("blocked", 0)
    assert bank.balance(mine) == 5000_00
    assert bank.balance(theirs) == 0
    assert [(s.transaction_id, s.posted) for s in screen.recorded] == [(transaction_id, False)]
    # staff look the reference up and read the assessment; the payee never learns of it
    seen = bank.get("fraud_analyst", f"/transactions/{transaction_id}").json()
    assert seen["status"] == "blocked"
    assert seen["entries"] == []
    assert seen["risk"]["verdict"] == "CRITICAL"
    assert seen["risk"]["reasons"] == [
        {"kind": "rule", "rule": "test_threshold", "account_id": mine}
    ]
    # the customer who tried reads it as declined, with nothing more
    mine_view = bank.get("alice", f"/transactions/{transaction_id}").json()
    assert (mine_view["status"], mine_view["risk"]) == ("declined", None)
    problem(bank.get("bob", f"/transactions/{transaction_id}"), 404, "not_found")
    history = bank.get("bob", "/transactions/history").json()["items"]
    assert transaction_id not in [t["id"] for t in history]

    # the replay answers the same 422 and records nothing more
    replay = bank.post("alice", "/transactions/transfer", body, key="big-1")
    assert replay.status_code == 422
    assert replay.json() == blocked
    assert replay.headers["idempotent-replayed"] == "true"
    assert len(screen.recorded) == 1
    # below the threshold the same screen lets it through; the answer carries no assessment
    small = bank.post("alice", "/transactions/transfer", {**body, "amount": "999.99"})
    assert small.status_code == 201
    assert "risk" not in small.json()
    assert bank.balance(theirs) == 999_99


def test_staff_paying_cash_in_read_why_it_was_blocked(bank: Bank) -> None:
    bank.set_screen(ThresholdScreen(BLOCK_FROM))
    mine = bank.open_account("alice")
    blocked = problem(
        bank.post("admin", "/transactions/deposit", {"account_id": mine, "amount": "2500.00"}),
        422,
        "blocked_by_risk",
    )
    assert blocked["transaction_ids"] == [blocked["transaction_id"]]
    assert blocked["risk"]["verdict"] == "CRITICAL"
    assert stored(bank, blocked["transaction_id"]) == ("blocked", 0)
    posted = bank.post("admin", "/transactions/deposit", {"account_id": mine, "amount": "25.00"})
    assert posted.status_code == 201, posted.text
    assert posted.json()["risk"]["verdict"] == "SAFE"
    assert bank.balance(mine) == 25_00


def test_blocked_deposit_and_withdrawal(bank: Bank) -> None:
    bank.set_screen(ThresholdScreen(BLOCK_FROM))
    mine = bank.open_account("alice")
    bank.fund(mine, "3000.00")  # set-up posts without the screen
    deposit = problem(
        bank.post("alice", "/transactions/deposit", {"account_id": mine, "amount": "2000"}),
        422,
        "payment_declined",
    )
    withdrawal = problem(
        bank.post(
            "alice", "/transactions/withdraw", {"pin": PIN, "account_id": mine, "amount": "1000.00"}
        ),
        422,
        "payment_declined",
    )
    assert stored(bank, int(deposit["reference"])) == ("blocked", 0)
    assert stored(bank, int(withdrawal["reference"])) == ("blocked", 0)
    assert bank.balance(mine) == 3000_00


def test_batches_with_a_blocked_transfer(bank: Bank) -> None:
    bank.set_screen(ThresholdScreen(BLOCK_FROM))
    mine = bank.open_account("alice")
    theirs = bank.open_account("bob")
    bank.fund(mine, "5000.00")
    transfers = [
        {"from_account_id": mine, "to_account_id": theirs, "amount": "10.00"},
        {"from_account_id": mine, "to_account_id": theirs, "amount": "1200.00"},
        {"from_account_id": mine, "to_account_id": theirs, "amount": "20.00"},
    ]
    # atomic: the blocked one is recorded, none is posted
    atomic = problem(
        bank.post("alice", "/transactions/batch", {"pin": PIN, "transfers": transfers}),
        422,
        "payment_declined",
    )
    assert set(atomic) <= DECLINED_FIELDS
    assert stored(bank, int(atomic["reference"])) == ("blocked", 0)
    assert bank.balance(mine) == 5000_00
    # one by one: the others are posted, the blocked one is declined without a reason
    answer = bank.post(
        "alice", "/transactions/batch", {"pin": PIN, "transfers": transfers, "atomic": False}
    )
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert (result["posted"], result["blocked"], result["failed"]) == (2, 0, 1)
    assert [i["status"] for i in result["items"]] == ["posted", "failed", "posted"]
    declined = result["items"][1]["error"]
    assert declined["code"] == "payment_declined"
    assert set(declined) <= DECLINED_FIELDS
    assert all("risk" not in (i["transaction"] or {}) for i in result["items"])
    assert stored(bank, int(declined["reference"])) == ("blocked", 0)
    assert bank.balance(mine) == 5000_00 - 30_00
    assert bank.balance(theirs) == 30_00


def test_the_risk_engines_stored_score_is_what_a_transaction_shows(bank: Bank) -> None:
    settings = bank.app.state.settings.model_copy(update={"risk_enabled": True})
    bank.set_screen(build_screen(settings))  # the real engine (rules alone: no model trained)
    mine = bank.open_account("alice")
    posted = bank.post("admin", "/transactions/deposit", {"account_id": mine, "amount": "20.00"})
    assert posted.status_code == 201, posted.text
    transaction_id = posted.json()["id"]
    stored_score = bank.read(
        lambda conn: conn.execute(
            select(risk_scores.c.verdict, risk_scores.c.scored_at).where(
                risk_scores.c.transaction_id == transaction_id
            )
        ).one()
    )
    shown = bank.get("auditor", f"/transactions/{transaction_id}").json()["risk"]
    assert shown["verdict"] == stored_score.verdict == posted.json()["risk"]["verdict"]
    assert datetime.fromisoformat(shown["scored_at"]) == stored_score.scored_at
    listed = bank.get("auditor", "/transactions/history").json()["items"]
    assert listed[0]["risk"] == shown
    # the customer sees none of it, in the detail or the history
    assert bank.get("alice", f"/transactions/{transaction_id}").json()["risk"] is None
    assert bank.get("alice", "/transactions/history").json()["items"][0]["risk"] is None
