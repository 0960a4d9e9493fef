"""The supervised model: gradient-boosted trees fitted on what analysts and customers said.

Labels come from the fraud queue: alerts analysts resolved as `fraud` or `false_positive`, and
"I don't recognise this" reports by customers (alerts with rule `customer_report`, fraud unless
an analyst resolved one as a false positive). A label exists only where someone looked, so the
model also sees a weighted sample of the transactions nobody questioned, as the normal traffic
they are, and reads the anomaly model's percentile beside the features: it learns which
anomalies analysts confirm and which they dismiss.

Training uses scikit-learn's HistGradientBoostingClassifier. Scoring does not: the fitted trees
are flattened into NumPy arrays, as the forest is (`ledgerbank.risk.model`), and walked level by
level for every tree at once; the tests hold the walk to scikit-learn's `predict_proba` within
1e-9. A saved model is one `.npz` file (no pickle) in `<data_dir>/models`, named by its version
and bound to the forest whose percentiles it reads.
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

from ledgerbank.kit.clock import utcnow
from ledgerbank.risk.model import FloatArray, IntArray

log = logging.getLogger(__name__)

SUPERVISED_PREFIX = "risk-supervised-"
PERCENTILE_FEATURE = "anomaly_percentile"
_BATCH_ROWS = 1024
# Small trees: each posting walks every one of them (60 trees of at most 8 leaves cost about
# half of what 120 of 15 did, for the same precision on the generated banks).
MAX_ITER = 60
LEARNING_RATE = 0.15
MAX_LEAF_NODES = 8


@dataclass(frozen=True)
class BoostedTrees:
    """Every tree of a fitted gradient-boosting model in flat arrays; a leaf loops onto itself.
    The raw score (log-odds) of a row is `baseline` plus the value of its leaf in each tree."""

    feature: IntArray
    threshold: FloatArray  # go left when x <= threshold (+inf at leaves)
    left: IntArray
    right: IntArray
    value: FloatArray  # leaf values (0 at inner nodes)
    roots: IntArray
    depth: int
    baseline: float

    @classmethod
    def from_sklearn(cls, model: Any) -> BoostedTrees:
        features, thresholds, lefts, rights, values, roots = [], [], [], [], [], []
        offset = depth = 0
        for predictors in model._predictors:
            (predictor,) = predictors  # binary classification: one tree per iteration
            nodes = predictor.nodes
            index = np.arange(nodes.shape[0], dtype=np.int64)
            leaf = nodes["is_leaf"].astype(bool)
            features.append(np.where(leaf, 0, nodes["feature_idx"]).astype(np.int64))
            thresholds.append(np.where(leaf, np.inf, nodes["num_threshold"]).astype(np.float64))
            lefts.append(np.where(leaf, index, nodes["left"]).astype(np.int64) + offset)
            rights.append(np.where(leaf, index, nodes["right"]).astype(np.int64) + offset)
            values.append(np.where(leaf, nodes["value"], 0.0).astype(np.float64))
            roots.append(offset)
            offset += nodes.shape[0]
            depth = max(depth, int(nodes["depth"].max()))
        return cls(
            feature=np.concatenate(features),
            threshold=np.concatenate(thresholds),
            left=np.concatenate(lefts),
            right=np.concatenate(rights),
            value=np.concatenate(values),
            roots=np.asarray(roots, dtype=np.int64),
            depth=depth,
            baseline=float(np.ravel(model._baseline_prediction)[0]),
        )

    @cached_property
    def _child(self) -> IntArray:
        child = np.empty(2 * self.left.size, dtype=np.int64)
        child[0::2] = self.right
        child[1::2] = self.left
        return child

    def raw_one(self, row: list[float]) -> float:
        x = np.asarray(row, dtype=np.float64)
        nodes = self.roots
        feature, threshold, child = self.feature, self.threshold, self._child
        for _ in range(self.depth):
            nodes = child[2 * nodes + (x[feature[nodes]] <= threshold[nodes])]
        return self.baseline + float(self.value[nodes].sum())

    def raw(self, rows: FloatArray) -> FloatArray:
        rows = np.asarray(rows, dtype=np.float64)
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
            out[start : start + block.shape[0]] = self.baseline + self.value[nodes].sum(axis=1)
        return out

    def digest(self) -> str:
        h = hashlib.sha256()
        for part in (self.feature, self.threshold, self.left, self.right, self.value, self.roots):
            h.update(np.ascontiguousarray(part).tobytes())
        h.update(np.float64(self.baseline).tobytes())
        return h.hexdigest()


def _sigmoid(raw: FloatArray) -> FloatArray:
    return 1.0 / (1.0 + np.exp(-np.clip(raw, -40.0, 40.0)))


@dataclass(frozen=True)
class SupervisedModel:
    """Boosted trees over the features and the anomaly percentile, bound to one forest."""

    version: str
    features: tuple[str, ...]  # the risk features, then PERCENTILE_FEATURE
    trees: BoostedTrees
    anomaly_version: str
    info: dict[str, Any]

    def probability(self, vector: list[float], percentile: float) -> float:
        """The chance the movement is fraud, as the labels taught (0..1)."""
        raw = self.trees.raw_one([*vector, percentile])
        return float(1.0 / (1.0 + np.exp(-min(max(raw, -40.0), 40.0))))

    def probabilities(self, rows: FloatArray, percentiles: FloatArray) -> FloatArray:
        matrix = np.column_stack([np.asarray(rows, dtype=np.float64), percentiles])
        return _sigmoid(self.trees.raw(matrix))


@dataclass
class Labels:
    """Training rows: labelled ones (fraud 1, false positive 0) and the unquestioned sample."""

    rows: list[list[float]]
    targets: list[int]
    weights: list[float]
    fraud: int = 0
    false_positive: int = 0
    unquestioned: int = 0


def fit(
    rows: FloatArray,
    percentiles: FloatArray,
    targets: np.ndarray,
    weights: np.ndarray,
    features: tuple[str, ...],
    *,
    anomaly_version: str,
    seed: int = 0,
    info: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> SupervisedModel:
    """Fit boosted trees on labelled rows (with their anomaly percentiles) and export them."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    matrix = np.column_stack([np.asarray(rows, dtype=np.float64), percentiles])
    model = HistGradientBoostingClassifier(
        max_iter=MAX_ITER,
        learning_rate=LEARNING_RATE,
        max_leaf_nodes=MAX_LEAF_NODES,
        min_samples_leaf=10,
        l2_regularization=1.0,
        early_stopping=False,
        random_state=seed,
    ).fit(matrix, targets, sample_weight=weights)
    trees = BoostedTrees.from_sklearn(model)
    stamp = (now or utcnow()).strftime("%Y%m%dT%H%M%SZ")
    version = f"{stamp}-{trees.digest()[:8]}"
    return SupervisedModel(
        version=version,
        features=(*features, PERCENTILE_FEATURE),
        trees=trees,
        anomaly_version=anomaly_version,
        info={
            **(info or {}),
            "version": version,
            "anomaly_version": anomaly_version,
            "rows": int(matrix.shape[0]),
        },
    )


# --- saving and loading ----------------------------------------------------------------


def save(model: SupervisedModel, folder: Path) -> Path:
    """Write the model as `<folder>/risk-supervised-<version>.npz` (atomically)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{SUPERVISED_PREFIX}{model.version}.npz"
    temporary = folder / f".{path.name}.tmp"
    t = model.trees
    meta = {
        **model.info,
        "version": model.version,
        "features": list(model.features),
        "anomaly_version": model.anomaly_version,
        "depth": t.depth,
        "baseline": t.baseline,
    }
    with temporary.open("wb") as out:
        np.savez_compressed(
            out,
            feature=t.feature,
            threshold=t.threshold,
            left=t.left,
            right=t.right,
            value=t.value,
            roots=t.roots,
            meta=np.array(json.dumps(meta, sort_keys=True, default=str)),
        )
    os.replace(temporary, path)
    return path


def load(path: Path) -> SupervisedModel:
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["meta"]))
        trees = BoostedTrees(
            feature=data["feature"].astype(np.int64),
            threshold=data["threshold"].astype(np.float64),
            left=data["left"].astype(np.int64),
            right=data["right"].astype(np.int64),
            value=data["value"].astype(np.float64),
            roots=data["roots"].astype(np.int64),
            depth=int(meta["depth"]),
            baseline=float(meta["baseline"]),
        )
    model = SupervisedModel(
        version=str(meta["version"]),
        features=tuple(meta["features"]),
        trees=trees,
        anomaly_version=str(meta["anomaly_version"]),
        info=meta,
    )
    if trees.digest()[:8] != model.version.rsplit("-", 1)[-1]:
        raise ValueError(f"{path.name}: the trees do not match the version's hash")
    return model


def model_paths(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{SUPERVISED_PREFIX}*.npz"))


def load_for(
    folder: Path, anomaly_version: str, features: tuple[str, ...]
) -> SupervisedModel | None:
    """The newest supervised model trained on this forest's percentiles and these features."""
    wanted = (*features, PERCENTILE_FEATURE)
    for path in reversed(model_paths(folder)):
        try:
            model = load(path)
        except Exception as exc:  # a damaged file must not stop the bank
            log.error("supervised risk model %s cannot be loaded: %s", path.name, exc)
            continue
        if model.anomaly_version == anomaly_version and model.features == wanted:
            return model
    return None
