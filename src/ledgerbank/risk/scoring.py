"""One score from 0.0 to 1.0: the rules that fired and the calibrated model, combined.

Each piece of evidence is read as an independent chance that the transaction is bad, and the
score is the chance that at least one of them is right (a noisy OR): a rule scoring 0.55 and
the model contributing 0.5 give 1 - 0.45 * 0.5 = 0.775. A single AML rule alerts
(SUSPICIOUS, 0.5 and above) but does not block; blocking (CRITICAL, 0.8 and above) takes two
independent signals, such as a velocity burst the model also finds anomalous. The model alone
never exceeds `risk_model_cap`, so it cannot block on its own.

Once analysts have labelled enough alerts, a supervised model (`ledgerbank.risk.supervised`)
joins as one more piece of evidence: its probability of fraud, read through its own curve
(nothing below `risk_supervised_floor`, an alert from `risk_supervised_alert`, at most
`risk_supervised_cap`, so it cannot block alone either). It reads the anomaly percentile, so
it confirms the anomalies analysts confirmed; the anomaly model alone then alerts only from
`risk_model_alert_supervised`, a higher percentile, for what no analyst has seen yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ledgerbank.ledger.screening import Assessment, Verdict
from ledgerbank.risk import rules
from ledgerbank.risk.features import Facts
from ledgerbank.risk.model import AnomalyModel, FloatArray
from ledgerbank.risk.params import Params
from ledgerbank.risk.supervised import SupervisedModel

SUSPICIOUS_AT = 0.5
CRITICAL_AT = 0.8


def verdict_of(score: float) -> Verdict:
    if score >= CRITICAL_AT:
        return Verdict.CRITICAL
    if score >= SUSPICIOUS_AT:
        return Verdict.SUSPICIOUS
    return Verdict.SAFE


class Scorer:
    """Scores `Facts` with the rules and, when one is loaded, the anomaly model."""

    def __init__(
        self,
        params: Params,
        model: AnomalyModel | None,
        supervised: SupervisedModel | None = None,
    ) -> None:
        self.params = params
        self.model = model
        self.supervised = supervised if model is not None else None
        alert = params.model_alert_supervised if self.supervised else params.model_alert
        self._curve_x = [params.model_floor, alert, 1.0]
        self._curve_y = [0.0, SUSPICIOUS_AT, params.model_cap]
        self._learned_x = [params.supervised_floor, params.supervised_alert, 1.0]
        self._learned_y = [0.0, SUSPICIOUS_AT, params.supervised_cap]
        version = model.version if model else None
        if self.supervised is not None:
            version = f"{version}+{self.supervised.version}"
        self._version = version

    @property
    def model_version(self) -> str | None:
        return self._version

    def learned(self, probability: float) -> float:
        """What the supervised model adds for a movement with this chance of fraud."""
        return float(np.interp(probability, self._learned_x, self._learned_y, left=0.0))

    def learned_many(self, probabilities: FloatArray) -> FloatArray:
        return np.interp(probabilities, self._learned_x, self._learned_y, left=0.0)

    def contribution(self, percentile: float) -> float:
        """What the model adds for a transaction at this percentile of the training scores."""
        return float(np.interp(percentile, self._curve_x, self._curve_y, left=0.0))

    def contributions(self, percentiles: FloatArray) -> FloatArray:
        return np.interp(percentiles, self._curve_x, self._curve_y, left=0.0)

    def assess(
        self,
        facts: Facts,
        src: int | None,
        dst: int | None,
        extra: Sequence[rules.Hit] = (),
    ) -> Assessment:
        """Score one movement; `extra`: hits found outside the features (sanctions)."""
        hits = rules.evaluate(facts, self.params, src, dst)
        if extra:
            hits = [*hits, *extra]
        percentile = None
        if self.model is not None:
            percentile = self.model.percentile(self.model.forest.score_one(facts.vector))
        probability = None
        if self.supervised is not None and percentile is not None:
            probability = self.supervised.probability(facts.vector, percentile)
        return self.combine(facts, hits, percentile, probability)

    def assess_many(
        self, facts: Sequence[Facts], hits: Sequence[list[rules.Hit]]
    ) -> list[Assessment]:
        """Score many movements at once (the model runs on all rows in one pass)."""
        if self.model is None or not facts:
            return [self.combine(f, h, None) for f, h in zip(facts, hits, strict=True)]
        model = self.model
        rows = np.array([f.vector for f in facts], dtype=np.float64)
        percentiles = model.percentiles(model.forest.score(rows))
        contributions = self.contributions(percentiles)
        probabilities = (
            self.supervised.probabilities(rows, percentiles)
            if self.supervised is not None
            else np.zeros(len(facts))
        )
        learned = self.learned_many(probabilities)
        noted = np.flatnonzero(contributions > 0)
        standouts = dict(zip(noted.tolist(), model.standouts_many(rows[noted]), strict=True))
        out = []
        for i, (f, h) in enumerate(zip(facts, hits, strict=True)):
            contribution = float(contributions[i])
            if not h and contribution <= 0 and learned[i] <= 0:  # most: nothing to say
                out.append(Assessment(0.0, Verdict.SAFE, [], self.model_version))
                continue
            probability = float(probabilities[i]) if self.supervised is not None else None
            out.append(
                self._combine(
                    f, h, float(percentiles[i]), contribution, standouts.get(i), probability
                )
            )
        return out

    def combine(
        self,
        facts: Facts,
        hits: list[rules.Hit],
        percentile: float | None,
        probability: float | None = None,
    ) -> Assessment:
        contribution = 0.0 if percentile is None else self.contribution(percentile)
        return self._combine(facts, hits, percentile, contribution, None, probability)

    def _combine(
        self,
        facts: Facts,
        hits: list[rules.Hit],
        percentile: float | None,
        contribution: float,
        standouts: list[dict[str, Any]] | None = None,
        probability: float | None = None,
    ) -> Assessment:
        keep = 1.0
        reasons: list[dict[str, Any]] = []
        for hit in sorted(hits, key=lambda h: -h.score) if len(hits) > 1 else hits:
            keep *= 1.0 - hit.score
            reasons.append(hit.reason())
        if percentile is not None and self.model is not None and contribution > 0:
            keep *= 1.0 - contribution
            reasons.append(
                {
                    "kind": "model",
                    "percentile": round(percentile, 5),
                    "score": round(contribution, 4),
                    "features": self.model.standouts(facts.vector)
                    if standouts is None
                    else standouts,
                }
            )
        if probability is not None and self.supervised is not None:
            learned = self.learned(probability)
            if learned > 0:
                keep *= 1.0 - learned
                reasons.append(
                    {
                        "kind": "supervised",
                        "probability": round(probability, 5),
                        "score": round(learned, 4),
                        "version": self.supervised.version,
                    }
                )
        score = min(max(1.0 - keep, 0.0), 1.0)
        return Assessment(score, verdict_of(score), reasons, self.model_version)
