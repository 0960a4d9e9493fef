"""The anomaly model: a scikit-learn Isolation Forest, evaluated by NumPy and calibrated.

Training uses scikit-learn. Scoring does not: the fitted trees are flattened into five NumPy
arrays (split feature, threshold, left, right, leaf value) and walked level by level for every
tree at once, which scores one row in tens of microseconds instead of scikit-learn's
milliseconds, and a batch of thousands per millisecond-sized step. The walk reproduces
`IsolationForest.score_samples` (inputs cast to float32 as scikit-learn does; leaf value =
depth + average path length of the leaf's samples - 1); the tests hold it to 1e-9.

Raw Isolation Forest scores crowd together, so the model is calibrated: a raw score becomes its
percentile among the training scores, and a percentile becomes the model's contribution to the
risk score (nothing below `risk_model_floor`, 0.5 at `risk_model_alert`, at most
`risk_model_cap`). A saved model is one `.npz` file (no pickle) in `<data_dir>/models`, named
by its version: the training time and a hash of its trees.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.files import private_dir, private_file

log = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
MODEL_PREFIX = "risk-model-"
_CALIBRATION_LEVELS = np.unique(
    np.concatenate([np.linspace(0.0, 0.99, 991), np.linspace(0.99, 1.0, 1001)])
)
_BATCH_ROWS = 1024


def average_path_length(n: FloatArray) -> FloatArray:
    """c(n): the average path length of an unsuccessful search in a binary tree of n nodes."""
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + np.euler_gamma) - 2.0 * (n[big] - 1.0) / n[big]
    return out


@dataclass(frozen=True)
class Forest:
    """Every tree of a fitted Isolation Forest in flat arrays; a leaf loops onto itself."""

    feature: IntArray  # the input column a node splits on (0 at leaves)
    threshold: FloatArray  # go left when x <= threshold (+inf at leaves)
    left: IntArray
    right: IntArray
    value: FloatArray  # at leaves: depth + c(samples in the leaf) - 1
    roots: IntArray
    depth: int  # steps that take every row to a leaf
    denominator: float  # trees * c(max_samples)

    @classmethod
    def from_sklearn(cls, forest: Any) -> Forest:
        features, thresholds, lefts, rights, values, roots = [], [], [], [], [], []
        offset, depth = 0, 0
        n_features = forest.n_features_in_
        for tree, columns, path_lengths, leaf_lengths in zip(
            forest.estimators_,
            forest.estimators_features_,
            forest._decision_path_lengths,
            forest._average_path_length_per_tree,
            strict=True,
        ):
            t = tree.tree_
            index = np.arange(t.node_count, dtype=np.int64)
            leaf = t.children_left < 0
            # A tree trained on a subset of columns splits on positions within that subset.
            column_of = np.asarray(columns, dtype=np.int64)
            if forest._max_features == n_features:
                column_of = np.arange(n_features, dtype=np.int64)
            features.append(np.where(leaf, 0, column_of[np.maximum(t.feature, 0)]))
            thresholds.append(np.where(leaf, np.inf, t.threshold))
            lefts.append(np.where(leaf, index, t.children_left) + offset)
            rights.append(np.where(leaf, index, t.children_right) + offset)
            values.append(np.where(leaf, path_lengths + leaf_lengths - 1.0, 0.0))
            roots.append(offset)
            offset += t.node_count
            depth = max(depth, int(np.max(path_lengths)) - 1)  # the root's depth is 1
        trees = len(forest.estimators_)
        c_max = float(average_path_length(np.array([forest._max_samples], dtype=np.float64))[0])
        return cls(
            feature=np.concatenate(features).astype(np.int64),
            threshold=np.concatenate(thresholds).astype(np.float64),
            left=np.concatenate(lefts).astype(np.int64),
            right=np.concatenate(rights).astype(np.int64),
            value=np.concatenate(values).astype(np.float64),
            roots=np.asarray(roots, dtype=np.int64),
            depth=depth,
            denominator=trees * c_max,
        )

    @cached_property
    def _child(self) -> IntArray:
        """Both children of node i at 2i (right) and 2i + 1 (left): `child[2 * node + go_left]`."""
        child = np.empty(2 * self.left.size, dtype=np.int64)
        child[0::2] = self.right
        child[1::2] = self.left
        return child

    def score_one(self, row: list[float]) -> float:
        """The anomaly score (0..1, higher is stranger) of one row: -score_samples."""
        x = np.asarray(row, dtype=np.float32).astype(np.float64)
        nodes = self.roots
        feature, threshold, left, right = self.feature, self.threshold, self.left, self.right
        for _ in range(self.depth):
            nodes = np.where(x[feature[nodes]] <= threshold[nodes], left[nodes], right[nodes])
        total = float(self.value[nodes].sum())
        return float(2.0 ** (-total / self.denominator)) if self.denominator else 1.0

    def score(self, rows: FloatArray) -> FloatArray:
        """Anomaly scores of many rows (an n x features matrix), a thousand rows per step."""
        rows = np.asarray(rows, dtype=np.float32).astype(np.float64)
        n_rows, n_columns = rows.shape
        out = np.empty(n_rows, dtype=np.float64)
        feature, threshold, child = self.feature, self.threshold, self._child
        for start in range(0, n_rows, _BATCH_ROWS):
            block = rows[start : start + _BATCH_ROWS]
            flat = block.ravel()
            base = (np.arange(block.shape[0], dtype=np.int64) * n_columns)[:, None]
            nodes = np.broadcast_to(self.roots, (block.shape[0], self.roots.size)).copy()
            for _ in range(self.depth):
                nodes = child[2 * nodes + (flat[base + feature[nodes]] <= threshold[nodes])]
            total = self.value[nodes].sum(axis=1)
            out[start : start + block.shape[0]] = (
                2.0 ** (-total / self.denominator) if self.denominator else 1.0
            )
        return out

    def digest(self) -> str:
        h = hashlib.sha256()
        for part in (self.feature, self.threshold, self.left, self.right, self.value, self.roots):
            h.update(np.ascontiguousarray(part).tobytes())
        return h.hexdigest()


@dataclass(frozen=True)
class AnomalyModel:
    """A versioned forest with its calibration and what typical training rows look like."""

    version: str
    features: tuple[str, ...]
    forest: Forest
    calibration_scores: FloatArray  # raw scores at the calibration levels (strictly rising)
    calibration_levels: FloatArray
    typical_low: FloatArray  # per feature: the 0.5th, 50th and 99.5th training percentiles
    typical_mid: FloatArray
    typical_high: FloatArray
    info: dict[str, Any]

    def percentile(self, raw: float) -> float:
        return float(np.interp(raw, self.calibration_scores, self.calibration_levels))

    def percentiles(self, raw: FloatArray) -> FloatArray:
        return np.interp(raw, self.calibration_scores, self.calibration_levels)

    def standouts(self, row: list[float], limit: int = 3) -> list[dict[str, Any]]:
        """The features of a row furthest outside the range of nearly all training rows."""
        return self.standouts_many(np.asarray([row], dtype=np.float64), limit)[0]

    def standouts_many(self, rows: FloatArray, limit: int = 3) -> list[list[dict[str, Any]]]:
        """`standouts` of each row of a matrix, worked out for all rows at once."""
        spread = np.maximum(self.typical_high - self.typical_low, 1e-9)
        high = (rows - self.typical_high) / spread
        low = (self.typical_low - rows) / spread
        distance = np.maximum(high, low)  # > 0 only outside the typical range
        order = np.argsort(-distance, axis=1)[:, :limit]
        found: list[list[dict[str, Any]]] = []
        for r, columns in enumerate(order):
            named = []
            for i in columns:
                if distance[r, i] <= 0:
                    break
                named.append(
                    {
                        "feature": self.features[i],
                        "value": round(float(rows[r, i]), 4),
                        "typical": round(float(self.typical_mid[i]), 4),
                        "direction": "high" if high[r, i] > 0 else "low",
                    }
                )
            found.append(named)
        return found


def fit(
    rows: FloatArray,
    features: tuple[str, ...],
    *,
    trees: int = 100,
    max_samples: int = 256,
    seed: int = 0,
    info: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AnomalyModel:
    """Train an Isolation Forest on `rows` (n x features) and calibrate it on the same rows."""
    from sklearn.ensemble import IsolationForest

    rows = np.asarray(rows, dtype=np.float64)
    forest = IsolationForest(
        n_estimators=trees, max_samples=min(max_samples, rows.shape[0]), random_state=seed
    ).fit(rows)
    return calibrate(Forest.from_sklearn(forest), rows, features, info=info, now=now)


def calibrate(
    forest: Forest,
    rows: FloatArray,
    features: tuple[str, ...],
    *,
    info: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AnomalyModel:
    raw = forest.score(rows)
    levels = _CALIBRATION_LEVELS
    quantiles = np.quantile(raw, levels)
    # Keep the highest level of each distinct raw score, so the grid is strictly rising.
    keep = np.append(quantiles[1:] > quantiles[:-1], True)
    stamp = (now or utcnow()).strftime("%Y%m%dT%H%M%SZ")
    version = f"{stamp}-{forest.digest()[:8]}"
    low, mid, high = np.quantile(rows, [0.005, 0.5, 0.995], axis=0)
    return AnomalyModel(
        version=version,
        features=tuple(features),
        forest=forest,
        calibration_scores=quantiles[keep],
        calibration_levels=levels[keep],
        typical_low=low,
        typical_mid=mid,
        typical_high=high,
        info={**(info or {}), "rows": int(rows.shape[0]), "version": version},
    )


# --- saving and loading ----------------------------------------------------------------


def save(model: AnomalyModel, folder: Path) -> Path:
    """Write the model as `<folder>/risk-model-<version>.npz` (atomically)."""
    private_dir(folder)
    path = folder / f"{MODEL_PREFIX}{model.version}.npz"
    temporary = private_file(folder / f".{path.name}.tmp")
    f = model.forest
    meta = {
        **model.info,
        "version": model.version,
        "features": list(model.features),
        "depth": f.depth,
    }
    with temporary.open("wb") as out:
        np.savez_compressed(
            out,
            feature=f.feature,
            threshold=f.threshold,
            left=f.left,
            right=f.right,
            value=f.value,
            roots=f.roots,
            denominator=np.array(f.denominator),
            calibration_scores=model.calibration_scores,
            calibration_levels=model.calibration_levels,
            typical_low=model.typical_low,
            typical_mid=model.typical_mid,
            typical_high=model.typical_high,
            meta=np.array(json.dumps(meta, sort_keys=True, default=str)),
        )
    os.replace(temporary, path)
    return path


def load(path: Path) -> AnomalyModel:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        forest = Forest(
            feature=data["feature"].astype(np.int64),
            threshold=data["threshold"].astype(np.float64),
            left=data["left"].astype(np.int64),
            right=data["right"].astype(np.int64),
            value=data["value"].astype(np.float64),
            roots=data["roots"].astype(np.int64),
            depth=int(meta["depth"]),
            denominator=float(data["denominator"]),
        )
        model = AnomalyModel(
            version=str(meta["version"]),
            features=tuple(meta["features"]),
            forest=forest,
            calibration_scores=data["calibration_scores"],
            calibration_levels=data["calibration_levels"],
            typical_low=data["typical_low"],
            typical_mid=data["typical_mid"],
            typical_high=data["typical_high"],
            info=meta,
        )
    if forest.digest()[:8] != model.version.rsplit("-", 1)[-1]:
        raise ValueError(f"{path.name}: the trees do not match the version's hash")
    return model


def model_paths(folder: Path) -> list[Path]:
    """Saved models, oldest first (versions start with their training time)."""
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{MODEL_PREFIX}*.npz"))


def load_newest(folder: Path, features: tuple[str, ...]) -> AnomalyModel | None:
    """The newest loadable model trained on `features`, or None (the rules decide alone)."""
    for path in reversed(model_paths(folder)):
        try:
            model = load(path)
        except Exception as exc:  # a damaged file must not stop the bank: use an older one
            log.error("risk model %s cannot be loaded: %s", path.name, exc)
            continue
        if model.features != features:
            log.warning("risk model %s was trained on other features; skipped", path.name)
            continue
        return model
    return None
