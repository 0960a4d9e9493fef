"""Training on the bank's own history, (re)scoring it, analysts' labels, the auditors' view."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from risk_helpers import DbBank, risk_settings
from sqlalchemy import func, select, text

from ledgerbank.config import Settings
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.ledger.screening import NO_SCREEN
from ledgerbank.risk import alerts, training
from ledgerbank.risk import model as anomaly
from ledgerbank.risk.features import FEATURES
from ledgerbank.risk.params import Params
from ledgerbank.risk.scoring import Scorer
from ledgerbank.risk.screen import RiskScreen, models_dir
from ledgerbank.risk.tables import risk_account_stats, risk_alerts, risk_scores


def small_model_settings(data_dir: Path) -> Settings:
    return risk_settings(
        data_dir,
        risk_train_min_rows=40,
        risk_model_trees=10,
        risk_model_max_samples=32,
    )


@pytest.fixture
def bank(database: Database, tmp_path: Path) -> DbBank:
    world = DbBank(database, RiskScreen(small_model_settings(tmp_path)))
    world.customer("alice")
    world.customer("bob")
    return world


def history(bank: DbBank, movements: int) -> tuple[int, int]:
    """Two customers paying each other small amounts over the last days."""
    alice, bob = bank.account("alice"), bank.account("bob")
    start = utcnow() - timedelta(days=5)
    bank.deposit(alice, "900.00", at=start)
    bank.deposit(bob, "900.00", at=start + timedelta(minutes=1))
    for i in range(movements - 2):
        at = start + timedelta(hours=2 + i)
        src, dst = (alice, bob) if i % 2 else (bob, alice)
        bank.transfer(src, dst, f"{5 + i % 7}.25", at=at)
    return alice, bob


def test_training_waits_for_enough_history_then_saves_a_version(
    bank: DbBank, database: Database
) -> None:
    settings = bank.screen.settings
    history(bank, 30)
    assert training.train_model(database, settings.data_dir, settings=settings) is None
    assert anomaly.model_paths(models_dir(settings)) == []
    alice = bank.account("alice")
    for i in range(12):
        bank.deposit(alice, f"{20 + i}.00", at=utcnow() - timedelta(hours=12 - i))
    version = training.train_model(database, settings.data_dir, settings=settings)
    assert version is not None
    loaded = anomaly.load_newest(models_dir(settings), FEATURES)
    assert loaded is not None
    assert loaded.version == version
    assert loaded.info["postings"] == 42
    assert bank.screen.reload() == version
    posted = bank.deposit(alice, "31.00").transaction
    assert posted["risk"]["model_version"] == version
    assert score_of(bank, posted["id"])["model_version"] == version


def score_of(bank: DbBank, transaction_id: int) -> dict[str, object]:
    (row,) = bank.rows(select(risk_scores).where(risk_scores.c.transaction_id == transaction_id))
    return dict(row)


def test_rescoring_scores_unscored_history_once_and_rebuilds_the_statistics(
    bank: DbBank, database: Database
) -> None:
    plain = DbBank(database, bank.screen, users=bank.users)
    plain.screen = NO_SCREEN  # type: ignore[assignment]  # posted as by an unscreened import
    alice, bob = plain.account("alice"), plain.account("bob")
    plain.deposit(alice, "12345.67")
    for i in range(5):
        plain.transfer(alice, bob, f"{10 + i}.00")
    assert bank.rows(select(risk_scores)) == []
    scorer = Scorer(Params.from_settings(bank.screen.settings), None)
    first = training.rescore(database, scorer, everything=False, rebuild_stats=True, batch=4)
    assert (first.scanned, first.scored, first.newly_scored) == (6, 6, 6)
    assert first.by_verdict == {"SUSPICIOUS": 1, "SAFE": 5}
    assert first.stats_rebuilt == 2
    alerts = bank.rows(select(risk_alerts.c.queue, risk_alerts.c.rule_id))
    assert sorted((a["queue"], a["rule_id"] or "") for a in alerts) == [
        ("compliance", "large_cash"),
        ("compliance", "new_account_high_value"),
        ("fraud", ""),
    ]
    stats = {
        r["account_id"]: (r["in_count"], r["out_count"])
        for r in bank.rows(select(risk_account_stats))
    }
    assert stats == {alice: (1, 5), bob: (5, 0)}
    again = training.rescore(database, scorer, everything=True)
    assert (again.scored, again.newly_scored) == (6, 0)
    assert len(bank.rows(select(risk_alerts.c.id))) == 3  # rescoring raises nothing twice
    # The next live posting continues from the rebuilt statistics.
    bank.transfer(alice, bob, "11.00")
    (row,) = bank.rows(select(risk_account_stats).where(risk_account_stats.c.account_id == bob))
    assert row["in_count"] == 6


def test_transactions_confirmed_as_fraud_are_left_out_of_training(
    bank: DbBank, database: Database
) -> None:
    settings = bank.screen.settings
    alice, _ = history(bank, 44)
    suspicious = bank.deposit(alice, "10500.50").transaction
    analyst = bank.customer("analyst", role="fraud_analyst")
    (alert,) = bank.rows(
        select(risk_alerts).where(
            risk_alerts.c.queue == "fraud", risk_alerts.c.transaction_id == suspicious["id"]
        )
    )
    database.write(
        lambda conn: alerts.resolve_fraud_alert(
            conn, int(alert["id"]), resolution="fraud", note="confirmed", actor_id=analyst
        )
    )
    with database.read() as conn:
        assert alerts.labelled_fraud(conn) == {suspicious["id"]}
    version = training.train_model(database, settings.data_dir, settings=settings)
    assert version is not None
    trained = anomaly.load_newest(models_dir(settings), FEATURES)
    assert trained is not None
    assert trained.info["left_out_as_fraud"] == 1
    assert trained.info["postings"] == 44
    assert 0.0 <= trained.info["confirmed_fraud_median_percentile"] <= 1.0


def test_auditors_view_lists_flagged_transactions_with_their_alerts(
    bank: DbBank, database: Database
) -> None:
    alice = bank.account("alice")
    bank.deposit(alice, "40.00")
    flagged = bank.deposit(alice, "12345.67").transaction
    source = bank.account("bob")
    bank.deposit(source, "3000.00")
    payees = []
    for i in range(6):
        bank.customer(f"payee{i}")
        payees.append(bank.account(f"payee{i}"))
    blocked = [bank.transfer(source, p, "50.00") for p in payees][-1].transaction
    with database.read() as conn:
        rows = conn.execute(
            text(
                "SELECT transaction_id, verdict, status, alert_count, open_alert_count, "
                "fraud_resolution, amount_minor FROM vw_flagged_transactions "
                "ORDER BY transaction_id"
            )
        ).all()
        total = conn.execute(select(func.count()).select_from(risk_scores)).scalar_one()
    assert total == 9
    assert [tuple(r) for r in rows] == [
        (flagged["id"], "SUSPICIOUS", "posted", 3, 3, None, 1_234_567),
        (blocked["id"], "CRITICAL", "blocked", 2, 2, None, 5_000),
    ]
