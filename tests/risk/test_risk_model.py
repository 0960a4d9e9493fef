"""The NumPy evaluator reproduces scikit-learn's Isolation Forest; calibration; saved versions."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from risk_helpers import risk_settings
from sklearn.ensemble import IsolationForest

from ledgerbank.risk import model as anomaly
from ledgerbank.risk.model import Forest
from ledgerbank.risk.params import Params
from ledgerbank.risk.scoring import Scorer

FEATURES = ("a", "b", "c", "d", "e")


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"max_features": 0.6},
        {"max_features": 3, "bootstrap": True},
        {"max_samples": 64, "n_estimators": 17},
        {"max_samples": 1.0, "n_estimators": 10},
    ],
)
def test_numpy_evaluator_equals_sklearn_score_samples(options: dict[str, object]) -> None:
    rng = np.random.default_rng(11)
    train = rng.normal(size=(600, 5)) * [1, 10, 100, 0.01, 1] + [0, 5, -3, 0, 1000]
    train[:, 4] = np.round(train[:, 4])  # a discrete column, with ties
    forest = IsolationForest(random_state=3, **options).fit(train)  # type: ignore[arg-type]
    ours = Forest.from_sklearn(forest)
    rows = np.vstack([train[:50], rng.normal(size=(400, 5)) * 50])
    expected = -forest.score_samples(rows)
    assert np.max(np.abs(ours.score(rows) - expected)) < 1e-9
    one_by_one = np.array([ours.score_one(list(row)) for row in rows[:60]])
    assert np.max(np.abs(one_by_one - expected[:60])) < 1e-9


def test_calibration_spreads_training_scores_evenly_and_is_monotone() -> None:
    rng = np.random.default_rng(5)
    rows = rng.normal(size=(2000, 5))
    fitted = anomaly.fit(rows, FEATURES, trees=30, max_samples=128, seed=1)
    percentiles = fitted.percentiles(fitted.forest.score(rows))
    assert abs(float(np.mean(percentiles >= 0.9)) - 0.1) < 0.02
    assert abs(float(np.mean(percentiles >= 0.5)) - 0.5) < 0.03
    raw = np.linspace(0.2, 0.9, 200)
    assert np.all(np.diff(fitted.percentiles(raw)) >= 0)
    assert fitted.percentile(10.0) == 1.0
    assert fitted.percentile(-1.0) == 0.0


def test_the_model_contribution_starts_at_the_floor_alerts_at_its_percentile_and_is_capped() -> (
    None
):
    settings = risk_settings(risk_model_floor=0.9, risk_model_alert=0.98, risk_model_cap=0.75)
    scorer = Scorer(Params.from_settings(settings), None)
    assert scorer.contribution(0.5) == 0.0
    assert scorer.contribution(0.9) == 0.0
    assert scorer.contribution(0.98) == pytest.approx(0.5)
    assert scorer.contribution(1.0) == pytest.approx(0.75)
    assert 0 < scorer.contribution(0.95) < 0.5


def test_standouts_name_the_features_outside_the_training_range() -> None:
    rng = np.random.default_rng(2)
    rows = rng.normal(size=(3000, 5))
    fitted = anomaly.fit(rows, FEATURES, trees=20, max_samples=64, seed=1)
    found = fitted.standouts([0.0, 9.0, 0.0, -9.0, 0.0])
    assert {f["feature"] for f in found} == {"b", "d"}
    assert {f["direction"] for f in found} == {"high", "low"}
    assert fitted.standouts([0.0] * 5) == []


def test_saved_models_load_back_newest_first_and_damaged_ones_are_skipped(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    rows = rng.normal(size=(500, 5))
    older = anomaly.fit(rows, FEATURES, trees=5, max_samples=32, seed=1)
    later = datetime(2999, 1, 1, tzinfo=UTC)
    newer = anomaly.fit(rows * 2, FEATURES, trees=5, max_samples=32, seed=2, now=later)
    anomaly.save(older, tmp_path)
    anomaly.save(newer, tmp_path)
    loaded = anomaly.load_newest(tmp_path, FEATURES)
    assert loaded is not None
    assert loaded.version == newer.version
    assert np.array_equal(loaded.forest.score(rows), newer.forest.score(rows))
    assert np.array_equal(loaded.calibration_scores, newer.calibration_scores)
    # A damaged newest file: the older version is used.
    (tmp_path / f"{anomaly.MODEL_PREFIX}{newer.version}.npz").write_bytes(b"not a model")
    fallback = anomaly.load_newest(tmp_path, FEATURES)
    assert fallback is not None
    assert fallback.version == older.version
    # A model trained on other features is never used.
    assert anomaly.load_newest(tmp_path, ("x",)) is None
    assert anomaly.load_newest(tmp_path / "missing", FEATURES) is None


def test_a_version_is_its_training_time_and_a_hash_of_its_trees(tmp_path: Path) -> None:
    rows = np.random.default_rng(4).normal(size=(300, 5))
    fitted = anomaly.fit(rows, FEATURES, trees=5, max_samples=32, seed=1)
    stamp, digest = fitted.version.split("-")
    assert len(stamp) == 16
    assert stamp.endswith("Z")
    assert digest == fitted.forest.digest()[:8]
    path = anomaly.save(fitted, tmp_path)
    tampered = dict(np.load(path))
    tampered["threshold"] = tampered["threshold"] + 1.0
    np.savez(path, **tampered)
    with pytest.raises(ValueError, match="do not match"):
        anomaly.load(path)
