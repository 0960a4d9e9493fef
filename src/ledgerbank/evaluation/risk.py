"""Measuring the screen: train on one period of a labelled bank, score a later one.

Two methods are compared on the same transactions: the original design (a scikit-learn
Isolation Forest on amount, hour, day of week and sender frequency, its raw score read as the
risk score) and ledgerbank's (rolling-statistics features, the calibrated model and the AML
rules). Both are trained on the training period only, with its injected cases left in, as a
bank's own history would be, and judged on the test period.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ledgerbank.config import Settings
from ledgerbank.evaluation.risk_scenarios import DAY, TYPOLOGIES, Scenario, SimTransaction, generate
from ledgerbank.risk import model as anomaly
from ledgerbank.risk import training
from ledgerbank.risk.features import FEATURES
from ledgerbank.risk.params import Params
from ledgerbank.risk.scoring import CRITICAL_AT, SUSPICIOUS_AT, Scorer
from ledgerbank.risk.training import Replay

# The first round's rules and features: the release this round is measured against.
RELEASE_RULES = frozenset(
    (
        "large_cash", "structuring", "velocity_burst", "rapid_pass_through",
        "dormant_reactivation", "new_account_high_value", "round_amount", "fan_in", "fan_out",
        "repeated_blocked",
    )
)  # fmt: skip
RELEASE_FEATURES = 25


@dataclass
class Typology:
    transactions: int
    cases: int
    transactions_caught: float  # share of its transactions alerted
    cases_caught: float  # share of its cases with at least one transaction alerted
    visible: int = 0  # its transactions from the point the pattern shows
    visible_caught: float = 0.0  # share of those alerted


@dataclass
class Method:
    name: str
    pr_auc: float
    recall_at_1pct: float  # share of bad transactions among the top 1% of scores
    alert_rate_normal: float  # share of normal transactions alerted (score >= 0.5)
    block_rate_normal: float | None  # share of normal transactions blocked (score >= 0.8)
    typologies: dict[str, Typology]


@dataclass
class Evaluation:
    seed: int
    customers: int
    train_transactions: int
    test_transactions: int
    test_positives: int
    replay_seconds: float
    methods: list[Method] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)  # what the simulated analysts said


@dataclass
class Replayed:
    """The scenario's transactions as the screen sees them, plus the labels beside them."""

    vectors: np.ndarray
    baseline: np.ndarray
    rule_keep: np.ndarray  # product of (1 - rule score) over the rules that fired
    release_keep: np.ndarray  # ... over the first round's rules that fired
    labels: np.ndarray  # typology index + 1, 0 for normal traffic
    cases: np.ndarray
    visible: np.ndarray  # an injected transaction the pattern already shows in
    test: np.ndarray  # in the test period
    times: np.ndarray
    seconds: float


class SimulatedHistory:
    """A scenario's transactions fed one at a time through a `Replay`, balances kept beside."""

    def __init__(self, scenario: Scenario, params: Params) -> None:
        self.accounts = scenario.accounts
        self.state = Replay(params)
        self.balances = dict(scenario.opening_balances)

    def step(self, index: int, tx: SimTransaction) -> training.Replayed:
        src = self.accounts[tx.src] if tx.src is not None else None
        dst = self.accounts[tx.dst] if tx.dst is not None else None
        item = self.state.step(
            transaction_id=index,
            kind=tx.kind,
            status="posted",
            amount=tx.amount,
            currency="USD",
            t=tx.t,
            src_id=tx.src,
            dst_id=tx.dst,
            src_owner=src.owner if src else None,
            dst_owner=dst.owner if dst else None,
            src_opened=src.opened if src else None,
            dst_opened=dst.opened if dst else None,
            src_balance=self.balances[tx.src] if tx.src is not None else None,
        )
        if tx.src is not None:
            self.balances[tx.src] -= tx.amount
        if tx.dst is not None:
            self.balances[tx.dst] += tx.amount
        return item


def replay_scenario(scenario: Scenario, params: Params) -> Replayed:
    """Run every transaction through the rolling statistics, the features and the rules."""
    history = SimulatedHistory(scenario, params)
    n = len(scenario.transactions)
    vectors = np.empty((n, len(FEATURES)))
    baseline = np.empty((n, 4))
    keep = np.ones(n)
    release_keep = np.ones(n)
    labels = np.zeros(n, dtype=np.int64)
    cases = np.zeros(n, dtype=np.int64)
    visible = np.zeros(n, dtype=bool)
    test = np.zeros(n, dtype=bool)
    times = np.array([tx.t for tx in scenario.transactions], dtype=np.int64)
    index_of = {name: i + 1 for i, name in enumerate(TYPOLOGIES)}
    began = time.perf_counter()
    for i, tx in enumerate(scenario.transactions):
        item = history.step(i, tx)
        vectors[i] = item.facts.vector
        baseline[i] = item.facts.baseline()
        for hit in item.hits:
            keep[i] *= 1.0 - hit.score
            if hit.rule.id in RELEASE_RULES:
                release_keep[i] *= 1.0 - hit.score
        if tx.label is not None:
            labels[i] = index_of[tx.label]
            cases[i] = tx.case or 0
            visible[i] = tx.visible
        test[i] = tx.t >= scenario.split
    return Replayed(
        vectors,
        baseline,
        keep,
        release_keep,
        labels,
        cases,
        visible,
        test,
        times,
        time.perf_counter() - began,
    )


def _recall_at(scores: np.ndarray, positive: np.ndarray, share: float, seed: int) -> float:
    """Recall among the top `share` of scores (ties broken at random, not in anyone's favour)."""
    k = max(int(np.ceil(share * scores.size)), 1)
    jitter = np.random.default_rng(seed).random(scores.size)
    top = np.lexsort((jitter, -scores))[:k]
    return float(positive[top].sum() / max(positive.sum(), 1))


def _method(
    name: str,
    scores: np.ndarray,
    r: Replayed,
    *,
    alert_at: float,
    block_at: float | None,
    seed: int,
) -> Method:
    from sklearn.metrics import average_precision_score

    labels, cases, visible = r.labels[r.test], r.cases[r.test], r.visible[r.test]
    positive = labels > 0
    normal = ~positive
    alerted = scores >= alert_at
    typologies = {}
    for index, typology in enumerate(TYPOLOGIES, start=1):
        mine = labels == index
        case_ids = np.unique(cases[mine])
        caught_cases = np.unique(cases[mine & alerted])
        typologies[typology] = Typology(
            transactions=int(mine.sum()),
            cases=int(case_ids.size),
            transactions_caught=float(alerted[mine].mean()) if mine.any() else 0.0,
            cases_caught=float(caught_cases.size / case_ids.size) if case_ids.size else 0.0,
            visible=int((mine & visible).sum()),
            visible_caught=float(alerted[mine & visible].mean()) if (mine & visible).any() else 0.0,
        )
    return Method(
        name=name,
        pr_auc=float(average_precision_score(positive, scores)),
        recall_at_1pct=_recall_at(scores, positive, 0.01, seed),
        alert_rate_normal=float(alerted[normal].mean()),
        block_rate_normal=None if block_at is None else float((scores >= block_at)[normal].mean()),
        typologies=typologies,
    )


def evaluate(
    settings: Settings,
    *,
    seed: int = 7,
    customers: int = 1500,
    train_days: int = 90,
    test_days: int = 30,
    cases_per_month: int = 15,
) -> Evaluation:
    """Generate a bank, train both methods on its first period, judge them on the last."""
    from sklearn.ensemble import IsolationForest

    scenario = generate(
        seed=seed,
        customers=customers,
        train_days=train_days,
        test_days=test_days,
        cases_per_month=cases_per_month,
    )
    params = Params.from_settings(settings)
    r = replay_scenario(scenario, params)
    train, test = ~r.test, r.test
    burn_in = settings.risk_train_burn_in_days
    if train_days >= 2 * burn_in:  # as `risk train` does: the first days only warm up
        train = train & (r.times >= scenario.start + burn_in * DAY)
    result = Evaluation(
        seed=seed,
        customers=customers,
        train_transactions=int(train.sum()),
        test_transactions=int(test.sum()),
        test_positives=int((r.labels[test] > 0).sum()),
        replay_seconds=r.seconds,
    )
    original = IsolationForest(random_state=seed).fit(r.baseline[~r.test])
    original_scores = -original.score_samples(r.baseline[test])
    result.methods.append(
        _method(
            "original (4-feature Isolation Forest)",
            original_scores,
            r,
            alert_at=0.5,
            block_at=0.8,
            seed=seed,
        )
    )
    release = anomaly.fit(
        r.vectors[train][:, :RELEASE_FEATURES],
        FEATURES[:RELEASE_FEATURES],
        trees=settings.risk_model_trees,
        max_samples=settings.risk_model_max_samples,
        seed=seed,
    )
    release_scorer = Scorer(params, release)
    release_rows = r.vectors[test][:, :RELEASE_FEATURES]
    release_contribution = release_scorer.contributions(
        release.percentiles(release.forest.score(release_rows))
    )
    result.methods.append(
        _method(
            "release (first round: 25 features, forest, its rules)",
            1.0 - r.release_keep[test] * (1.0 - release_contribution),
            r,
            alert_at=SUSPICIOUS_AT,
            block_at=CRITICAL_AT,
            seed=seed,
        )
    )
    model = anomaly.fit(
        r.vectors[train],
        FEATURES,
        trees=settings.risk_model_trees,
        max_samples=settings.risk_model_max_samples,
        seed=seed,
    )
    scorer = Scorer(params, model)
    contribution = scorer.contributions(model.percentiles(model.forest.score(r.vectors[test])))
    ours = 1.0 - r.rule_keep[test] * (1.0 - contribution)
    result.methods.append(
        _method(
            "ledgerbank before labels (network features, rules, forest)",
            ours,
            r,
            alert_at=SUSPICIOUS_AT,
            block_at=CRITICAL_AT,
            seed=seed,
        )
    )
    learned = _with_labels(settings, params, model, r, train, test, seed)
    if learned is not None:
        result.labels = learned[1]
        result.methods.append(
            _method(
                "ledgerbank with analyst labels (+ supervised model)",
                learned[0],
                r,
                alert_at=SUSPICIOUS_AT,
                block_at=CRITICAL_AT,
                seed=seed,
            )
        )
    rules_only = 1.0 - r.rule_keep[test]
    result.methods.append(
        _method(
            "ledgerbank rules alone (no model yet)",
            rules_only,
            r,
            alert_at=SUSPICIOUS_AT,
            block_at=CRITICAL_AT,
            seed=seed,
        )
    )
    return result


# The chance a case's customer reports it ("I don't recognise this"): victims of fraud on
# their own account notice; money-laundering typologies have no victim to report them.
REPORTED = {
    "account_takeover": 0.6,
    "card_testing": 0.5,
    "pass_through": 0.3,
    "small_pass_through": 0.3,
    "fan_in": 0.2,
    "fan_in_spread": 0.2,
}


def simulated_labels(
    r: Replayed,
    scores: np.ndarray,
    train: np.ndarray,
    *,
    seed: int,
    unquestioned: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """The labels a bank would have after its training period: every alert (score >= 0.5)
    resolved by an analyst (fraud when injected, else false positive), the cases customers
    reported, and a weighted sample of what nobody questioned. Returns row indices, targets,
    weights and counts."""
    rng = np.random.default_rng(seed + 101)
    alerted = train & (scores >= SUSPICIOUS_AT)
    reported = np.zeros_like(train)
    for index, typology in enumerate(TYPOLOGIES, start=1):
        chance = REPORTED.get(typology, 0.0)
        cases = np.unique(r.cases[train & (r.labels == index)])
        told = cases[rng.random(cases.size) < chance]
        reported |= train & np.isin(r.cases, told) & (r.labels == index)
    labelled = alerted | reported
    fraud = labelled & (r.labels > 0)
    rest = np.flatnonzero(train & ~labelled)
    sample = rng.choice(rest, size=min(unquestioned, rest.size), replace=False)
    rows = np.concatenate([np.flatnonzero(labelled), sample])
    targets = np.concatenate([fraud[labelled].astype(np.int64), np.zeros(sample.size, np.int64)])
    weights = np.concatenate([np.ones(int(labelled.sum())), np.full(sample.size, 1.0)])
    if sample.size:
        weights[int(labelled.sum()) :] = rest.size / sample.size
    counts = {
        "fraud": int(fraud.sum()),
        "false_positive": int((labelled & (r.labels == 0)).sum()),
        "reported": int(reported.sum()),
        "unquestioned_sample": int(sample.size),
    }
    return rows, targets, weights, counts


def _with_labels(
    settings: Settings,
    params: Params,
    model: anomaly.AnomalyModel,
    r: Replayed,
    train: np.ndarray,
    test: np.ndarray,
    seed: int,
) -> tuple[np.ndarray, dict[str, int]] | None:
    """Score the test period as the bank would once analysts labelled the training period's
    alerts: rules, forest and the supervised model; None with too few labels."""
    from ledgerbank.risk import supervised

    before = Scorer(params, model)
    train_percentiles = model.percentiles(model.forest.score(r.vectors[train]))
    scores = np.zeros(r.vectors.shape[0])
    scores[train] = 1.0 - r.rule_keep[train] * (1.0 - before.contributions(train_percentiles))
    rows, targets, weights, counts = simulated_labels(
        r, scores, train, seed=seed, unquestioned=settings.risk_supervised_unquestioned
    )
    if (
        counts["fraud"] < settings.risk_supervised_min_fraud
        or counts["false_positive"] < settings.risk_supervised_min_false_positive
    ):
        return None
    percentiles = model.percentiles(model.forest.score(r.vectors[rows]))
    learned = supervised.fit(
        r.vectors[rows],
        percentiles,
        targets,
        weights,
        FEATURES,
        anomaly_version=model.version,
        seed=seed,
    )
    scorer = Scorer(params, model, learned)
    test_rows = r.vectors[test]
    test_percentiles = model.percentiles(model.forest.score(test_rows))
    probabilities = learned.probabilities(test_rows, test_percentiles)
    score = 1.0 - r.rule_keep[test] * (
        (1.0 - scorer.contributions(test_percentiles)) * (1.0 - scorer.learned_many(probabilities))
    )
    return score, counts
