"""The risk screen inside the posting engine, on every database: scores, statistics, alerts,
blocking, imports, batches, frozen accounts, and the same scores as a replay of history."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from risk_helpers import DbBank, risk_settings
from sqlalchemy import func, select

from ledgerbank import errors
from ledgerbank.audit.tables import audit_log
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.ledger import integrity, posting
from ledgerbank.ledger.tables import entries, transactions
from ledgerbank.risk import alerts as risk_alerts_service
from ledgerbank.risk.params import Params
from ledgerbank.risk.screen import RiskScreen, read_stats
from ledgerbank.risk.tables import risk_account_stats, risk_alerts, risk_scores
from ledgerbank.risk.training import Replay, replay


@pytest.fixture
def bank(database: Database) -> DbBank:
    world = DbBank(database, RiskScreen(risk_settings()))
    world.customer("alice")
    world.customer("bob")
    return world


def score_row(bank: DbBank, transaction_id: int) -> dict[str, object]:
    rows = bank.rows(select(risk_scores).where(risk_scores.c.transaction_id == transaction_id))
    assert len(rows) == 1
    return dict(rows[0])


def stats_row(bank: DbBank, account_id: int) -> dict[str, object]:
    rows = bank.rows(
        select(risk_account_stats).where(risk_account_stats.c.account_id == account_id)
    )
    assert len(rows) == 1
    return dict(rows[0])


def alerts(bank: DbBank, **where: object) -> list[dict[str, object]]:
    query = select(risk_alerts).order_by(risk_alerts.c.id)
    for column, value in where.items():
        query = query.where(risk_alerts.c[column] == value)
    return [dict(r) for r in bank.rows(query)]


def test_each_posting_stores_its_score_and_keeps_both_accounts_statistics(bank: DbBank) -> None:
    alice, bob = bank.account("alice"), bank.account("bob")
    deposit = bank.deposit(alice, "250.00").transaction
    transfer = bank.transfer(alice, bob, "40.00").transaction
    for row in (deposit, transfer):
        stored = score_row(bank, row["id"])
        assert stored["verdict"] == row["risk"]["verdict"] == "SAFE"
        assert stored["model_version"] is None  # no model trained: the rules decide alone
        assert isinstance(json.loads(str(stored["reasons"])), list)
        assert stored["scored_at"] is not None
    sender, receiver = stats_row(bank, alice), stats_row(bank, bob)
    assert (sender["in_count"], sender["out_count"], sender["counterparties"]) == (1, 1, 1)
    assert (receiver["in_count"], receiver["out_count"], receiver["counterparties"]) == (1, 0, 1)
    assert alerts(bank) == []


def test_large_cash_posts_and_raises_a_fraud_and_a_compliance_alert(bank: DbBank) -> None:
    alice = bank.account("alice")
    result = bank.deposit(alice, "12345.67")
    row = result.transaction
    assert not result.blocked
    assert row["status"] == "posted"
    assert row["risk"]["verdict"] == "SUSPICIOUS"
    assert [r["rule"] for r in row["risk"]["reasons"]] == ["large_cash", "new_account_high_value"]
    assert bank.balance(alice) == 1_234_567
    compliance = alerts(bank, queue="compliance")
    assert {a["rule_id"] for a in compliance} == {"large_cash", "new_account_high_value"}
    assert all(a["account_id"] == alice and a["status"] == "open" for a in compliance)
    (fraud,) = alerts(bank, queue="fraud")
    assert fraud["severity"] == "medium"
    assert fraud["transaction_id"] == row["id"]
    assert "large_cash" in str(fraud["summary"])


def test_structuring_hits_collect_on_one_open_compliance_alert(bank: DbBank) -> None:
    old = utcnow() - timedelta(days=200)
    alice = bank.account("alice", opened=old)
    bank.deposit(alice, "50.00", at=utcnow() - timedelta(days=10))
    for amount in ("9100.00", "9200.00", "9300.00"):
        bank.deposit(alice, amount)
    (alert,) = alerts(bank, queue="compliance", rule_id="structuring")
    assert alert["hits"] == 2
    assert alert["account_id"] == alice
    assert "3 cash movements" not in str(alert["summary"])  # opened by the second deposit
    assert len(alerts(bank, queue="fraud")) == 2


def burst(
    bank: DbBank, owner: str, payees: int, *, funded_at: datetime | None = None
) -> tuple[int, list[int]]:
    """A funded account and `payees` brand-new accounts of other customers."""
    source = bank.account(owner)
    bank.deposit(source, "3000.00", at=funded_at)
    names = [f"payee{i}" for i in range(payees)]
    for name in names:
        bank.customer(name)
    return source, [bank.account(name) for name in names]


def test_a_blocked_transfer_moves_no_money(bank: DbBank, database: Database) -> None:
    source, payees = burst(bank, "alice", 6)
    results = [bank.transfer(source, payee, "100.00") for payee in payees]
    assert [r.blocked for r in results] == [False] * 5 + [True]
    blocked = results[-1].transaction
    assert blocked["status"] == "blocked"
    assert blocked["risk"]["verdict"] == "CRITICAL"
    assert {r["rule"] for r in blocked["risk"]["reasons"]} >= {"velocity_burst", "fan_out"}
    assert bank.balance(source) == 300_000 - 5 * 10_000
    assert bank.balance(payees[-1]) == 0
    assert bank.rows(select(entries).where(entries.c.transaction_id == blocked["id"])) == []
    assert score_row(bank, blocked["id"])["verdict"] == "CRITICAL"
    fraud = alerts(bank, queue="fraud", transaction_id=blocked["id"])
    assert [a["severity"] for a in fraud] == ["high"]
    # The attempt counts as blocked, not as a payment made.
    with database.read() as conn:
        after = read_stats(conn, [source])[source]
    assert after.out_count == 5
    assert len(after.recent_blocked) == 1
    with database.read() as conn:
        assert integrity.violations(conn) == []


def test_imported_history_is_scored_and_alerted_but_never_blocked(bank: DbBank) -> None:
    at = utcnow() - timedelta(hours=2)
    source, payees = burst(bank, "alice", 6, funded_at=at - timedelta(hours=1))
    results = [
        bank.transfer(source, payee, "100.00", at=at + timedelta(minutes=i))
        for i, payee in enumerate(payees)
    ]
    assert not any(r.blocked for r in results)
    last = results[-1].transaction
    assert last["status"] == "posted"
    assert last["risk"]["verdict"] == "CRITICAL"
    assert bank.balance(payees[-1]) == 10_000
    assert alerts(bank, queue="fraud", transaction_id=last["id"])


def test_a_batch_item_sees_the_items_before_it(bank: DbBank, database: Database) -> None:
    source, payees = burst(bank, "alice", 6)
    orders = [posting.TransferOrder(source, payee, "100.00") for payee in payees]
    result = database.write(
        lambda conn: posting.transfer_batch(conn, orders, actor_id=None, screen=bank.screen)
    )
    assert result.blocked
    (blocked,) = result.transactions  # only the CRITICAL item is recorded; nothing moved
    assert blocked["to_account_id"] == payees[-1]
    assert {r["rule"] for r in blocked["risk"]["reasons"]} >= {"velocity_burst", "fan_out"}
    assert bank.balance(source) == 300_000
    assert all(bank.balance(p) == 0 for p in payees)
    safe = [posting.TransferOrder(source, payee, "100.00") for payee in payees[:3]]
    posted = database.write(
        lambda conn: posting.transfer_batch(conn, safe, actor_id=None, screen=bank.screen)
    )
    assert not posted.blocked
    assert stats_row(bank, source)["out_count"] == 3


def test_a_frozen_account_cannot_send(bank: DbBank, database: Database) -> None:
    alice, bob = bank.account("alice"), bank.account("bob")
    bank.deposit(alice, "15000.00")
    officer = bank.customer("officer", role="compliance_officer")
    (alert,) = alerts(bank, queue="compliance", rule_id="large_cash")
    database.write(
        lambda conn: risk_alerts_service.compliance_action(
            conn,
            int(alert["id"]),
            action="freeze_account",
            note="source of funds",
            actor_id=officer,
        )
    )
    count = len(bank.rows(select(transactions.c.id)))
    with pytest.raises(errors.AccountFrozen):
        bank.transfer(alice, bob, "10.00")
    with pytest.raises(errors.AccountFrozen):
        bank.withdraw(alice, "10.00")
    assert len(bank.rows(select(transactions.c.id))) == count
    assert bank.balance(alice) == 1_500_000
    actions = {
        r["action"]
        for r in bank.rows(select(audit_log.c.action).where(audit_log.c.actor_id == officer))
    }
    assert {"account.frozen", "risk_alert.freeze_account"} <= actions


def test_inline_scores_equal_a_replay_of_the_history(bank: DbBank, database: Database) -> None:
    alice, bob = bank.account("alice"), bank.account("bob")
    savings = bank.account("alice", kind="savings")
    start = utcnow() - timedelta(days=3)
    bank.deposit(alice, "5200.00", at=start)
    bank.deposit(bob, "75.50", at=start + timedelta(hours=1))
    for i in range(4):
        bank.transfer(alice, bob, f"{30 + i}.10", at=start + timedelta(hours=5, minutes=i))
    bank.transfer(alice, savings, "1000.00", at=start + timedelta(days=1))
    bank.transfer(bob, alice, "20.00", at=start + timedelta(days=2))
    bank.deposit(alice, "9400.00")
    bank.deposit(alice, "9600.00")
    source, payees = burst(bank, "bob", 6)
    for payee in payees:
        bank.transfer(source, payee, "10.00")
    bank.withdraw(alice, "200.00")
    stored = {
        int(r["transaction_id"]): (float(r["score"]), r["verdict"])
        for r in bank.rows(select(risk_scores))
    }
    with database.read() as conn:
        replayed = list(replay(conn, Replay(Params.from_settings(bank.screen.settings))))
    assert len(replayed) == len(stored) == 18
    assert {v for _, v in stored.values()} == {"SAFE", "SUSPICIOUS", "CRITICAL"}
    for item in replayed:
        again = bank.screen.scorer.combine(item.facts, item.hits, None)
        score, verdict = stored[item.transaction_id]
        assert again.score == pytest.approx(score, abs=1e-12), item.transaction_id
        assert again.verdict.value == verdict


def test_alerts_counted_by_queue(bank: DbBank) -> None:
    alice = bank.account("alice")
    bank.deposit(alice, "11000.00")
    with bank.database.read() as conn:
        by_queue = dict(
            conn.execute(
                select(risk_alerts.c.queue, func.count()).group_by(risk_alerts.c.queue)
            ).all()
        )
    assert by_queue == {"fraud": 1, "compliance": 2}
