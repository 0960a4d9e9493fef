"""The supervised model: NumPy over exported boosted trees equals scikit-learn, it is saved
without pickle beside its forest, and `risk train` fits it once analysts labelled enough."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from risk_helpers import DbBank, risk_settings
from sqlalchemy import insert, select

from ledgerbank.config import Settings
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.risk import alerts, supervised, training
from ledgerbank.risk.features import FEATURES
from ledgerbank.risk.screen import RiskScreen, models_dir
from ledgerbank.risk.tables import risk_alerts, risk_scores


def labelled_rows(seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(600, len(FEATURES)))
    percentiles = rng.random(600)
    targets = ((rows[:, 0] + rows[:, 25] > 1.2) | (percentiles > 0.97)).astype(np.int64)
    return rows, percentiles, targets


def test_numpy_walk_equals_sklearn_predict_proba() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier

    rows, percentiles, targets = labelled_rows()
    weights = np.where(targets == 1, 1.0, 3.0)
    model = supervised.fit(rows, percentiles, targets, weights, FEATURES, anomaly_version="f-1")
    reference = HistGradientBoostingClassifier(
        max_iter=supervised.MAX_ITER, learning_rate=supervised.LEARNING_RATE,
        max_leaf_nodes=supervised.MAX_LEAF_NODES, min_samples_leaf=10,
        l2_regularization=1.0, early_stopping=False, random_state=0,
    ).fit(np.column_stack([rows, percentiles]), targets, sample_weight=weights)  # fmt: skip
    fresh = np.random.default_rng(9).normal(size=(300, len(FEATURES)))
    fresh_percentiles = np.random.default_rng(10).random(300)
    expected = reference.predict_proba(np.column_stack([fresh, fresh_percentiles]))[:, 1]
    assert np.allclose(model.probabilities(fresh, fresh_percentiles), expected, atol=1e-9)
    one = model.probability(fresh[0].tolist(), float(fresh_percentiles[0]))
    assert one == pytest.approx(expected[0], abs=1e-9)
    assert model.features[-1] == supervised.PERCENTILE_FEATURE


def test_saved_without_pickle_and_bound_to_its_forest(tmp_path: Path) -> None:
    rows, percentiles, targets = labelled_rows()
    model = supervised.fit(
        rows, percentiles, targets, np.ones(len(targets)), FEATURES, anomaly_version="f-1"
    )
    path = supervised.save(model, tmp_path)
    with np.load(path, allow_pickle=False) as data:
        assert "meta" in data
    again = supervised.load(path)
    assert np.array_equal(
        again.probabilities(rows, percentiles), model.probabilities(rows, percentiles)
    )
    assert supervised.load_for(tmp_path, "f-1", FEATURES) is not None
    assert supervised.load_for(tmp_path, "another-forest", FEATURES) is None
    path.write_bytes(path.read_bytes()[:100])  # damaged: skipped, not fatal
    assert supervised.load_for(tmp_path, "f-1", FEATURES) is None


def training_settings(data_dir: Path, **overrides: object) -> Settings:
    return risk_settings(
        data_dir,
        risk_train_min_rows=40,
        risk_model_trees=10,
        risk_model_max_samples=32,
        risk_supervised_min_fraud=2,
        risk_supervised_min_false_positive=2,
        **overrides,
    )


def bank_with_history(
    database: Database, settings: Settings
) -> tuple[DbBank, list[int], tuple[int, int]]:
    bank = DbBank(database, RiskScreen(settings))
    bank.customer("alice")
    bank.customer("bob")
    alice, bob = bank.account("alice"), bank.account("bob")
    start = utcnow() - timedelta(days=5)
    bank.deposit(alice, "900.00", at=start)
    bank.deposit(bob, "900.00", at=start + timedelta(minutes=1))
    ids = []
    for i in range(50):
        src, dst = (alice, bob) if i % 2 else (bob, alice)
        posted = bank.transfer(src, dst, f"{5 + i % 7}.25", at=start + timedelta(hours=2 + i))
        ids.append(int(posted.transaction["id"]))
    return bank, ids, (alice, bob)


def label(
    database: Database, transaction_id: int, *, rule: str | None, resolution: str | None
) -> None:
    now = utcnow()
    database.write(
        lambda conn: conn.execute(
            insert(risk_alerts).values(
                queue="fraud", transaction_id=transaction_id, rule_id=rule, severity="medium",
                status="closed" if resolution else "open", score=0.6, verdict="SUSPICIOUS",
                summary="test label", resolution=resolution, created_at=now, updated_at=now,
            )
        )
    )  # fmt: skip


def test_customer_reports_count_as_fraud_unless_an_analyst_dismissed_them(
    database: Database, tmp_path: Path
) -> None:
    _, ids, _ = bank_with_history(database, training_settings(tmp_path))
    label(database, ids[1], rule=alerts.CUSTOMER_REPORT, resolution=None)
    label(database, ids[2], rule=alerts.CUSTOMER_REPORT, resolution="false_positive")
    label(database, ids[3], rule=None, resolution="fraud")
    label(database, ids[4], rule=None, resolution="false_positive")
    label(database, ids[4], rule=alerts.CUSTOMER_REPORT, resolution=None)  # fraud wins
    with database.read() as conn:
        assert alerts.training_labels(conn) == {ids[1]: 1, ids[2]: 0, ids[3]: 1, ids[4]: 1}
        assert alerts.labelled_fraud(conn) == {ids[1], ids[3], ids[4]}


def test_risk_train_fits_the_supervised_model_once_labels_suffice(
    database: Database, tmp_path: Path
) -> None:
    settings = training_settings(tmp_path)
    bank, ids, (alice, bob) = bank_with_history(database, settings)
    too_few = training.SupervisedOutcome()
    assert training.train_model(database, tmp_path, settings=settings, outcome=too_few)
    assert too_few.version is None
    assert "too few analyst labels (0 fraud, 0 false positive" in too_few.reason
    for path in models_dir(settings).glob("*.npz"):  # versions are named to the second
        path.unlink()
    for index in (5, 9, 13):
        label(database, ids[index], rule=alerts.CUSTOMER_REPORT, resolution=None)
    for index in (6, 10):
        label(database, ids[index], rule=None, resolution="false_positive")
    learned = training.SupervisedOutcome()
    forest = training.train_model(database, tmp_path, settings=settings, outcome=learned)
    assert learned.version is not None
    assert (learned.fraud, learned.false_positive) == (3, 2)
    assert learned.unquestioned > 0
    saved = supervised.load_for(models_dir(settings), str(forest), FEATURES)
    assert saved is not None
    assert saved.info["fraud"] == 3
    # The screen loads the pair and names both versions on each score.
    screen = RiskScreen(settings)
    assert screen.reload() == f"{forest}+{learned.version}"
    bank.screen = screen
    posted = bank.transfer(alice, bob, "1.00")
    (score,) = bank.rows(
        select(risk_scores).where(risk_scores.c.transaction_id == posted.transaction["id"])
    )
    assert score["model_version"] == f"{forest}+{learned.version}"
