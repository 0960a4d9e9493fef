"""Replaying history through the rolling statistics: training the model and (re)scoring.

`replay` walks the bank's deposits, withdrawals and transfers in time order and rebuilds every
account's statistics in memory exactly as the postings did, yielding each transaction's
features and rule hits as they were when it was posted. `train_model` fits the anomaly model
on that history (leaving out transactions analysts confirmed as fraud) and, once analysts have
labelled enough alerts, the supervised model on their labels (`ledgerbank.risk.supervised`);
`rescore` scores it in batches with the current models.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Connection, and_, delete, func, insert, select
from sqlalchemy.orm import aliased

from ledgerbank.audit import service as audit
from ledgerbank.config import Settings, get_settings
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.ledger import evidence
from ledgerbank.ledger.tables import accounts, entries, transactions
from ledgerbank.risk import alerts, rules, supervised
from ledgerbank.risk import features as feats
from ledgerbank.risk import model as anomaly
from ledgerbank.risk.params import Params
from ledgerbank.risk.scoring import Scorer
from ledgerbank.risk.stats import AccountStats, to_row
from ledgerbank.risk.tables import risk_account_stats, risk_scores

log = logging.getLogger(__name__)
SCORED_TYPES = tuple(feats.KINDS)
Progress = Callable[[int], None]


@dataclass(slots=True)
class Replayed:
    """One historical transaction with the features and rule hits it had when posted."""

    transaction_id: int
    status: str
    src_id: int | None
    dst_id: int | None
    facts: feats.Facts
    hits: list[rules.Hit]


class Replay:
    """The in-memory statistics of every account, advanced one transaction at a time."""

    def __init__(self, params: Params) -> None:
        self.params = params
        self.stats: dict[int, AccountStats] = {}
        self.balances: dict[int, int] = {}

    def _stats(self, account_id: int | None) -> AccountStats | None:
        if account_id is None:
            return None
        found = self.stats.get(account_id)
        if found is None:
            found = self.stats[account_id] = AccountStats(account_id)
        return found

    def step(
        self,
        *,
        transaction_id: int,
        kind: int,
        status: str,
        amount: int,
        currency: str,
        t: int,
        src_id: int | None,
        dst_id: int | None,
        src_owner: int | None,
        dst_owner: int | None,
        src_opened: int | None,
        dst_opened: int | None,
        src_balance: int | None,
    ) -> Replayed:
        src, dst = self._stats(src_id), self._stats(dst_id)
        facts = feats.compute(
            self.params,
            kind=kind,
            amount=amount,
            currency=currency,
            t=t,
            src=src,
            dst=dst,
            src_owner=src_owner,
            dst_owner=dst_owner,
            src_opened=src_opened,
            dst_opened=dst_opened,
            src_balance=src_balance,
        )
        hits = rules.evaluate(facts, self.params, src_id, dst_id)
        feats.apply(facts, src, dst, posted=status != "blocked")
        return Replayed(transaction_id, status, src_id, dst_id, facts, hits)


def replay(
    conn: Connection, state: Replay, *, progress: Progress | None = None
) -> Iterator[Replayed]:
    """Every scorable transaction in time order, with its features as they were; `state`
    holds every account's statistics afterwards."""
    owners: dict[int, tuple[int | None, int]] = {
        int(row.id): (row.owner_id, int(row.created_at.timestamp()))
        for row in conn.execute(
            select(accounts.c.id, accounts.c.owner_id, accounts.c.created_at).where(
                accounts.c.is_internal == 0
            )
        )
    }
    src_entry, dst_entry = aliased(entries), aliased(entries)
    query = (
        select(
            transactions.c.id,
            transactions.c.type,
            transactions.c.status,
            transactions.c.amount,
            transactions.c.currency,
            transactions.c.from_account_id,
            transactions.c.to_account_id,
            transactions.c.created_at,
            src_entry.c.balance_after.label("src_after"),
            dst_entry.c.balance_after.label("dst_after"),
        )
        .outerjoin(
            src_entry,
            and_(
                src_entry.c.transaction_id == transactions.c.id,
                src_entry.c.account_id == transactions.c.from_account_id,
            ),
        )
        .outerjoin(
            dst_entry,
            and_(
                dst_entry.c.transaction_id == transactions.c.id,
                dst_entry.c.account_id == transactions.c.to_account_id,
            ),
        )
        .where(transactions.c.type.in_(SCORED_TYPES))
        .order_by(transactions.c.created_at, transactions.c.id)
    )
    balances = state.balances
    done = 0
    for row in conn.execution_options(yield_per=5000).execute(query):
        src_id, dst_id, amount = row.from_account_id, row.to_account_id, int(row.amount)
        src_balance = None
        if src_id is not None:
            src_balance = (
                int(row.src_after) + amount
                if row.src_after is not None
                else balances.get(src_id, 0)
            )
            if row.src_after is not None:
                balances[src_id] = int(row.src_after)
        if dst_id is not None and row.dst_after is not None:
            balances[dst_id] = int(row.dst_after)
        src_owner, src_opened = owners.get(src_id, (None, None)) if src_id else (None, None)
        dst_owner, dst_opened = owners.get(dst_id, (None, None)) if dst_id else (None, None)
        yield state.step(
            transaction_id=int(row.id),
            kind=feats.KINDS[row.type],
            status=row.status,
            amount=amount,
            currency=row.currency,
            t=int(row.created_at.timestamp()),
            src_id=src_id,
            dst_id=dst_id,
            src_owner=src_owner,
            dst_owner=dst_owner,
            src_opened=src_opened,
            dst_opened=dst_opened,
            src_balance=src_balance,
        )
        done += 1
        if progress is not None and done % 1000 == 0:
            progress(1000)
    if progress is not None:
        progress(done % 1000)


def _database(conn_or_db: Any) -> tuple[Database | None, Connection | None]:
    if isinstance(conn_or_db, Database):
        return conn_or_db, None
    return None, conn_or_db


def scorable_count(conn: Connection) -> int:
    query = select(func.count()).where(transactions.c.type.in_(SCORED_TYPES))
    return int(conn.execute(query).scalar_one())


@dataclass
class SupervisedOutcome:
    """What `train_model` did about the supervised model, for the command to say."""

    version: str | None = None
    fraud: int = 0
    false_positive: int = 0
    unquestioned: int = 0
    reason: str = ""


def train_model(
    conn_or_db: Database | Connection,
    data_dir: Path,
    *,
    settings: Settings | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    outcome: SupervisedOutcome | None = None,
) -> str | None:
    """Fit, calibrate and save a model on the bank's posted history; its version or None.
    With enough analyst labels, also fit and save the supervised model (see `outcome`)."""
    settings = settings or get_settings()
    database, conn = _database(conn_or_db)
    if database is not None:
        with database.read() as read_conn:
            return train_model(
                read_conn,
                data_dir,
                settings=settings,
                seed=seed,
                progress=progress,
                outcome=outcome,
            )
    assert conn is not None
    params = Params.from_settings(settings)
    labels = alerts.training_labels(conn)
    fraud = {t for t, is_fraud in labels.items() if is_fraud}
    asked = alerts.questioned(conn)
    labelled_rows: list[list[float]] = []
    targets: list[int] = []
    unquestioned = _Reservoir(settings.risk_supervised_unquestioned, seed + 1)
    # Rows of the burn-in (the first days, while the statistics warm up) are kept apart and
    # used only when the history is too short to leave them out.
    settled, warming = (
        _Reservoir(settings.risk_train_max_rows, seed),
        _Reservoir(settings.risk_train_max_rows, seed),
    )
    fraud_rows: list[list[float]] = []
    first = last = None
    burn_in = settings.risk_train_burn_in_days * 86400
    for item in replay(conn, Replay(params), progress=progress):
        label = labels.get(item.transaction_id)
        if label is not None:
            labelled_rows.append(item.facts.vector)
            targets.append(label)
        if item.status == "blocked":
            continue
        if item.transaction_id in fraud:
            fraud_rows.append(item.facts.vector)
            continue
        first = first if first is not None else item.facts.t
        last = item.facts.t
        (settled if item.facts.t >= first + burn_in else warming).add(item.facts.vector)
        if label is None and item.transaction_id not in asked:
            unquestioned.add(item.facts.vector)
    long_enough = first is not None and last is not None and last - first >= 2 * burn_in
    if long_enough and settled.seen >= settings.risk_train_min_rows:
        sample, seen = settled.rows, settled.seen
    else:
        sample, seen = warming.rows + settled.rows, warming.seen + settled.seen
    if seen < settings.risk_train_min_rows:
        log.warning(
            "not training a risk model: %d postings, at least %d needed",
            seen,
            settings.risk_train_min_rows,
        )
        return None
    info: dict[str, Any] = {
        "trained_at": utcnow().isoformat(),
        "postings": seen,
        "history_from": first,
        "history_to": last,
        "left_out_as_fraud": len(fraud_rows),
        "trees": settings.risk_model_trees,
        "max_samples": settings.risk_model_max_samples,
    }
    model = anomaly.fit(
        np.array(sample, dtype=np.float64),
        feats.FEATURES,
        trees=settings.risk_model_trees,
        max_samples=settings.risk_model_max_samples,
        seed=seed,
        info=info,
    )
    if fraud_rows:  # how the confirmed fraud ranks under the new model
        ranks = model.percentiles(model.forest.score(np.array(fraud_rows, dtype=np.float64)))
        model.info["confirmed_fraud_median_percentile"] = round(float(np.median(ranks)), 4)
    anomaly.save(model, data_dir / "models")
    log.info("risk model %s trained on %d postings", model.version, seen)
    learned = _train_supervised(
        model, labelled_rows, targets, unquestioned, settings=settings, seed=seed
    )
    if learned.version is not None:
        log.info("supervised risk model %s trained on %d labels", learned.version, len(targets))
    else:
        log.info("no supervised risk model: %s", learned.reason)
    if outcome is not None:
        outcome.__dict__.update(learned.__dict__)
    return model.version


def _train_supervised(
    model: anomaly.AnomalyModel,
    labelled_rows: list[list[float]],
    targets: list[int],
    unquestioned: _Reservoir,
    *,
    settings: Settings,
    seed: int,
) -> SupervisedOutcome:
    """Fit the supervised model on the labels, beside the new forest, when there are enough."""
    fraud = sum(targets)
    outcome = SupervisedOutcome(
        fraud=fraud, false_positive=len(targets) - fraud, unquestioned=unquestioned.seen
    )
    if (
        fraud < settings.risk_supervised_min_fraud
        or outcome.false_positive < settings.risk_supervised_min_false_positive
    ):
        outcome.reason = (
            f"too few analyst labels ({fraud} fraud, {outcome.false_positive} false positive; "
            f"at least {settings.risk_supervised_min_fraud} and "
            f"{settings.risk_supervised_min_false_positive} needed): the anomaly model and "
            "the rules decide"
        )
        return outcome
    sample = unquestioned.rows
    rows = np.array(labelled_rows + sample, dtype=np.float64)
    weights = np.ones(rows.shape[0])
    if sample:  # the sample stands for every unquestioned transaction
        weights[len(labelled_rows) :] = unquestioned.seen / len(sample)
    percentiles = model.percentiles(model.forest.score(rows))
    fitted = supervised.fit(
        rows,
        percentiles,
        np.array(targets + [0] * len(sample), dtype=np.int64),
        weights,
        feats.FEATURES,
        anomaly_version=model.version,
        seed=seed,
        info={
            "trained_at": utcnow().isoformat(),
            "fraud": fraud,
            "false_positive": outcome.false_positive,
            "unquestioned": unquestioned.seen,
            "unquestioned_sample": len(sample),
        },
    )
    supervised.save(fitted, model_folder(settings))
    outcome.version = fitted.version
    return outcome


def model_folder(settings: Settings) -> Path:
    return settings.data_dir / "models"


class _Reservoir:
    """A uniform random sample of at most `size` rows of a stream (reservoir sampling)."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.rows: list[list[float]] = []
        self.seen = 0
        self._random = random.Random(seed)

    def add(self, row: list[float]) -> None:
        self.seen += 1
        if len(self.rows) < self.size:
            self.rows.append(row)
            return
        slot = self._random.randrange(self.seen)
        if slot < self.size:
            self.rows[slot] = row


@dataclass
class RescoreReport:
    scanned: int = 0
    scored: int = 0
    newly_scored: int = 0
    by_verdict: dict[str, int] = field(default_factory=dict)
    stats_rebuilt: int = 0


def rescore(
    database: Database,
    scorer: Scorer,
    *,
    everything: bool,
    rebuild_stats: bool = False,
    batch: int = 2000,
    progress: Progress | None = None,
) -> RescoreReport:
    """Score history in batches: transactions without a score, or `everything` again.

    Transactions scored for the first time raise alerts as live ones do. Scores are appended,
    never rewritten (the table is append-only): a rescored transaction gets a newer row, which
    readers take, and each batch gets one audit record naming its rows with a digest.
    `rebuild_stats` rewrites every account's rolling statistics from the replay: run it while
    nothing posts (right after a bulk import without screening).
    """
    report = RescoreReport()
    with database.read() as conn:
        already = {int(i) for i in conn.execute(select(risk_scores.c.transaction_id)).scalars()}
        chunk: list[Replayed] = []
        state = Replay(scorer.params)
        for item in replay(conn, state, progress=progress):
            report.scanned += 1
            if everything or item.transaction_id not in already:
                chunk.append(item)
            if len(chunk) >= batch:
                _write_scores(database, scorer, chunk, already, report)
                chunk = []
        if chunk:
            _write_scores(database, scorer, chunk, already, report)
    if rebuild_stats:
        report.stats_rebuilt = _rebuild_stats(database, state)
    return report


def _write_scores(
    database: Database,
    scorer: Scorer,
    chunk: list[Replayed],
    already: set[int],
    report: RescoreReport,
) -> None:
    assessments = scorer.assess_many([c.facts for c in chunk], [c.hits for c in chunk])
    now = utcnow()
    rows: list[dict[str, Any]] = [
        {
            "transaction_id": c.transaction_id,
            "score": a.score,
            "verdict": a.verdict.value,
            "reasons": json.dumps(a.reasons, separators=(",", ":")),
            "model_version": a.model_version,
            "scored_at": now,
            "origin": "rescore",
        }
        for c, a in zip(chunk, assessments, strict=True)
    ]
    fresh = [r for r in rows if r["transaction_id"] not in already]
    raised = [
        alerts.Scored(c.transaction_id, c.dst_id if c.facts.kind == feats.DEPOSIT else c.src_id, a)
        for c, a in zip(chunk, assessments, strict=True)
        if c.transaction_id not in already
    ]

    def write(conn: Connection) -> None:
        conn.execute(insert(risk_scores), rows)
        _pin_scores(conn, [int(r["transaction_id"]) for r in rows], now)
        alerts.raise_alerts(conn, raised, now=now)

    database.write(write)
    report.scored += len(rows)
    report.newly_scored += len(fresh)
    already.update(int(r["transaction_id"]) for r in fresh)
    for a in assessments:
        report.by_verdict[a.verdict.value] = report.by_verdict.get(a.verdict.value, 0) + 1


def _pin_scores(conn: Connection, transaction_ids: list[int], now: Any) -> None:
    """The batch's audit record: the ids of the rows just appended and a digest of them."""
    written = list(
        conn.execute(
            select(risk_scores)
            .where(
                risk_scores.c.transaction_id.in_(transaction_ids),
                risk_scores.c.scored_at == now,
                risk_scores.c.origin == "rescore",
            )
            .order_by(risk_scores.c.id)
        ).mappings()
    )
    audit.record(
        conn,
        actor_id=None,
        action=evidence.RESCORED,
        entity_type="risk_scores",
        after={
            "ids": evidence.id_runs([int(row["id"]) for row in written]),
            "count": len(written),
            "sha256": evidence.score_rows_digest(written),
        },
        at=now,
    )


def _rebuild_stats(database: Database, state: Replay) -> int:
    now = utcnow()
    rows = [to_row(s, now) for s in state.stats.values()]

    def write(conn: Connection) -> None:
        conn.execute(delete(risk_account_stats))
        for start in range(0, len(rows), 1000):
            conn.execute(insert(risk_account_stats), rows[start : start + 1000])

    database.write(write)
    return len(rows)


def prepare_history(database: Any, settings: Any) -> tuple[str | None, Any]:
    """After a bulk load posted without screening (the demo bank): train a model on it, score
    every unscored transaction with that model (raising the alerts live traffic would have)
    and rebuild every account's rolling statistics. Run it while nothing else posts.

    Returns the model version (None: too little history, the rules scored alone) and the
    `RescoreReport`.
    """
    from ledgerbank.risk.model import MODEL_PREFIX, load
    from ledgerbank.risk.params import Params
    from ledgerbank.risk.scoring import Scorer
    from ledgerbank.risk.screen import models_dir

    version = train_model(database, settings.data_dir, settings=settings)
    fitted = load(models_dir(settings) / f"{MODEL_PREFIX}{version}.npz") if version else None
    learned = (
        supervised.load_for(models_dir(settings), fitted.version, feats.FEATURES)
        if fitted
        else None
    )
    scorer = Scorer(Params.from_settings(settings), fitted, learned)
    report = rescore(database, scorer, everything=False, rebuild_stats=True)
    return version, report
