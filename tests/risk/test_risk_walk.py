"""One row at a time (the inline screen), both models give exactly what the walk they replaced
gave: the level walk over the trees' int64 and float64 arrays, kept here as the reference."""

from __future__ import annotations

import numpy as np
from test_risk_supervised import labelled_rows

from ledgerbank.risk import model as anomaly
from ledgerbank.risk import supervised
from ledgerbank.risk.features import FEATURES
from ledgerbank.risk.model import Forest
from ledgerbank.risk.supervised import BoostedTrees


def reference_forest_score(forest: Forest, row: list[float]) -> float:
    """`Forest.score_one` before the walk was made compact (float32 input, float64 splits)."""
    x = np.asarray(row, dtype=np.float32).astype(np.float64)
    nodes = forest.roots
    for _ in range(forest.depth):
        nodes = np.where(
            x[forest.feature[nodes]] <= forest.threshold[nodes],
            forest.left[nodes],
            forest.right[nodes],
        )
    total = float(forest.value[nodes].sum())
    return float(2.0 ** (-total / forest.denominator))


def reference_boosted_raw(trees: BoostedTrees, row: list[float]) -> float:
    """`BoostedTrees.raw_one` before the walk was made compact."""
    x = np.asarray(row, dtype=np.float64)
    nodes = trees.roots
    for _ in range(trees.depth):
        nodes = np.where(
            x[trees.feature[nodes]] <= trees.threshold[nodes], trees.left[nodes], trees.right[nodes]
        )
    return trees.baseline + float(trees.value[nodes].sum())


def on_the_splits(
    feature: np.ndarray, threshold: np.ndarray, columns: int, seed: int
) -> np.ndarray:
    """Rows whose values sit on split thresholds and on the float32 values either side of
    them, where rounding a threshold the wrong way would send a row down the other branch."""
    rng = np.random.default_rng(seed)
    inner = np.flatnonzero(np.isfinite(threshold))
    rows = rng.normal(size=(600, columns))
    for r in range(rows.shape[0]):
        for node in rng.choice(inner, size=columns, replace=False):
            cut = np.float32(threshold[node])
            step = rng.integers(-1, 2)  # one float32 below, the nearest, one above
            value = cut if step == 0 else np.nextafter(cut, np.float32(np.inf * step))
            rows[r, feature[node]] = float(value) if r % 3 else float(threshold[node])
    return rows


def test_the_forest_scores_each_row_exactly_as_the_reference_walk() -> None:
    rng = np.random.default_rng(21)
    train = rng.normal(size=(3000, len(FEATURES))) * rng.uniform(0.01, 1000, len(FEATURES))
    train[:, :6] = np.round(train[:, :6])  # discrete columns, with ties
    fitted = anomaly.fit(train, FEATURES, trees=60, max_samples=256, seed=4)
    forest = fitted.forest
    rows = np.vstack(
        [
            train[:300],
            on_the_splits(forest.feature, forest.threshold, len(FEATURES), seed=5),
            rng.normal(size=(200, len(FEATURES))) * 1e6,
        ]
    )
    ours = np.array([forest.score_one(row.tolist()) for row in rows])
    reference = np.array([reference_forest_score(forest, row.tolist()) for row in rows])
    assert np.array_equal(ours, reference)
    assert np.max(np.abs(ours - forest.score(rows))) < 1e-12  # the batch walk agrees too


def test_the_supervised_model_scores_each_row_exactly_as_the_reference_walk() -> None:
    rows, percentiles, targets = labelled_rows()
    weights = np.where(targets == 1, 1.0, 3.0)
    model = supervised.fit(rows, percentiles, targets, weights, FEATURES, anomaly_version="f-1")
    trees = model.trees
    width = len(FEATURES) + 1
    fresh = np.vstack(
        [
            np.column_stack([rows, percentiles]),
            on_the_splits(trees.feature, trees.threshold, width, 6),
        ]
    )
    ours = np.array([trees.raw_one(row.tolist()) for row in fresh])
    reference = np.array([reference_boosted_raw(trees, row.tolist()) for row in fresh])
    assert np.array_equal(ours, reference)
    assert np.max(np.abs(ours - trees.raw(fresh))) < 1e-12
    one = model.probability(fresh[0, :-1].tolist(), float(fresh[0, -1]))
    assert one == float(model.probabilities(fresh[:1, :-1], fresh[:1, -1])[0])
