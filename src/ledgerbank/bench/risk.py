"""`ledgerbank bench risk`: what inline scoring costs a posting, and how fast history is scored.

Inline: a generated bank's history posted through the engine on a fresh SQLite database,
each posting screened with a trained model; the time inside the screen (`assess` + `record`:
reading both accounts' statistics, features, rules, the model, storing the score, the
statistics and any alerts) is measured per posting, in wall-clock and CPU time, beside the
same history posted without a screen on another fresh database. The screen's arithmetic
alone (features, rules, model, no database) is measured too.

Batch: a generated bank's transactions replayed through the rolling statistics, the rules and
the model (one NumPy pass per batch), as `risk score --all` and `risk evaluate` do.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, TypeVar

import numpy as np
import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection, func, insert, select, update

from ledgerbank.bench.report import percentile
from ledgerbank.config import Settings, get_settings
from ledgerbank.evaluation.risk import SimulatedHistory, replay_scenario, simulated_labels
from ledgerbank.evaluation.risk_scenarios import Scenario, SimTransaction, generate
from ledgerbank.identity import passwords
from ledgerbank.identity.service import create_user
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.ledger import posting
from ledgerbank.ledger.accounts import open_account
from ledgerbank.ledger.screening import (
    NO_SCREEN,
    AccountState,
    Assessment,
    Proposal,
    Screen,
    Screened,
)
from ledgerbank.ledger.tables import accounts
from ledgerbank.migrations import upgrade
from ledgerbank.risk import model as anomaly
from ledgerbank.risk import supervised
from ledgerbank.risk.features import DEPOSIT, FEATURES, WITHDRAWAL, Facts
from ledgerbank.risk.params import Params
from ledgerbank.risk.rules import Hit
from ledgerbank.risk.scoring import Scorer
from ledgerbank.risk.screen import RiskScreen, RiskSession
from ledgerbank.risk.stats import to_row
from ledgerbank.risk.tables import risk_account_stats, risk_alerts
from ledgerbank.risk.training import Replay

T = TypeVar("T")
console = Console()


@dataclass
class Timings:
    """Per-call durations in seconds, wall-clock and CPU."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def row(self, name: str) -> list[str]:
        wall, cpu = sorted(self.wall), sorted(self.cpu)
        return [
            name,
            f"{len(wall):,}",
            f"{percentile(wall, 0.5) * 1e3:.3f}",
            f"{percentile(wall, 0.99) * 1e3:.3f}",
            f"{percentile(cpu, 0.5) * 1e3:.3f}",
            f"{percentile(cpu, 0.99) * 1e3:.3f}",
        ]


class TimedScreen:
    """The risk screen, with the time spent in it per posting (assess, accept and record)."""

    def __init__(self, inner: RiskScreen) -> None:
        self.inner = inner
        self.timings = Timings()

    def session(self, conn: Connection) -> TimedSession:
        return TimedSession(self.inner.session(conn), self.timings)


class TimedSession:
    def __init__(self, inner: RiskSession, timings: Timings) -> None:
        self.inner = inner
        self.timings = timings
        self._wall = self._cpu = 0.0

    def _timed(self, work: Callable[[], T]) -> T:
        wall, cpu = time.perf_counter(), time.process_time()
        found = work()
        self._wall += time.perf_counter() - wall
        self._cpu += time.process_time() - cpu
        return found

    def prefetch(self, accounts: Sequence[AccountState]) -> None:
        self._timed(lambda: self.inner.prefetch(accounts))

    def assess(self, proposals: Sequence[Proposal]) -> list[Assessment]:
        return self._timed(lambda: self.inner.assess(proposals))

    def accept(self, proposals: Sequence[Proposal], *, posted: bool) -> None:
        self._timed(lambda: self.inner.accept(proposals, posted=posted))

    def record(self, screened: Sequence[Screened]) -> None:
        self._timed(lambda: self.inner.record(screened))
        self.timings.wall.append(self._wall)
        self.timings.cpu.append(self._cpu)
        self._wall = self._cpu = 0.0


def bench_model(
    seed: int, settings: Settings
) -> tuple[anomaly.AnomalyModel, supervised.SupervisedModel | None, Scenario]:
    """The models trained on a generated bank (their figures do not matter here, their cost
    does): the forest, and the supervised model on the labels analysts would have given."""
    scenario = generate(seed=seed, customers=300, train_days=60, test_days=1)
    params = Params.from_settings(settings)
    replayed = replay_scenario(scenario, params)
    fitted = anomaly.fit(
        replayed.vectors,
        FEATURES,
        trees=settings.risk_model_trees,
        max_samples=settings.risk_model_max_samples,
        seed=seed,
    )
    every = np.ones(replayed.vectors.shape[0], dtype=bool)
    percentiles = fitted.percentiles(fitted.forest.score(replayed.vectors))
    scores = 1.0 - replayed.rule_keep * (1.0 - Scorer(params, fitted).contributions(percentiles))
    rows, targets, weights, counts = simulated_labels(
        replayed, scores, every, seed=seed, unquestioned=settings.risk_supervised_unquestioned
    )
    learned = None
    if counts["fraud"] and counts["false_positive"]:
        learned = supervised.fit(
            replayed.vectors[rows],
            percentiles[rows],
            targets,
            weights,
            FEATURES,
            anomaly_version=fitted.version,
            seed=seed,
        )
    return fitted, learned, scenario


def _warm_up(scenario: Scenario, settings: Settings, cut: int) -> SimulatedHistory:
    """Replay the history before `cut` in memory: statistics and balances as of then."""
    history = SimulatedHistory(scenario, Params.from_settings(settings))
    for i, tx in enumerate(scenario.transactions):
        if tx.t >= cut:
            break
        history.step(i, tx)
    return history


def _open_bank(
    database: Database,
    scenario: Scenario,
    balances: dict[int, int],
    cut: int,
    warmed: Replay | None,
) -> None:
    """The scenario's customers and accounts (same ids), their balances and statistics at `cut`."""
    before = datetime.fromtimestamp(cut - 3600, UTC)

    def unit(conn: Connection) -> None:
        owners: dict[int, int] = {}
        for sim in sorted(scenario.accounts.values(), key=lambda a: a.id):
            if sim.owner not in owners:
                name = f"bench_risk_{sim.owner}"
                owners[sim.owner] = int(
                    create_user(
                        conn,
                        username=name,
                        password="bench password 1234",
                        email=f"{name}@example.test",
                        full_name=f"Bench Risk {sim.owner}",
                    )["id"]
                )
            row = open_account(
                conn, owner_id=owners[sim.owner], account_type="checking", currency="USD"
            )
            if int(row["id"]) != sim.id:  # the statistics name counterparties by account id
                raise RuntimeError("the benchmark needs a fresh database")
            conn.execute(
                update(accounts)
                .where(accounts.c.id == sim.id)
                .values(created_at=datetime.fromtimestamp(sim.opened, UTC))
            )
        for account_id, balance in sorted(balances.items()):
            if balance > 0:
                posting.deposit(
                    conn,
                    account_id=account_id,
                    amount=to_decimal_string(balance, "USD"),
                    actor_id=None,
                    occurred_at=before,
                )
        if warmed is not None and warmed.stats:
            now = utcnow()
            conn.execute(
                insert(risk_account_stats), [to_row(s, now) for s in warmed.stats.values()]
            )

    database.write(unit)


def _post(database: Database, screen: Screen, tx: SimTransaction, into: Timings) -> None:
    """One historical movement through the engine (dated, so never blocked), timed `into`.

    The benchmark's accounts carry the scenario's account ids."""
    amount = to_decimal_string(tx.amount, "USD")
    at = datetime.fromtimestamp(tx.t, UTC)
    began, cpu = time.perf_counter(), time.process_time()
    if tx.kind == DEPOSIT and tx.dst is not None:
        account = tx.dst
        database.write(
            lambda conn: posting.deposit(
                conn,
                account_id=account,
                amount=amount,
                actor_id=None,
                screen=screen,
                occurred_at=at,
            )
        )
    elif tx.kind == WITHDRAWAL and tx.src is not None:
        account = tx.src
        database.write(
            lambda conn: posting.withdraw(
                conn,
                account_id=account,
                amount=amount,
                actor_id=None,
                screen=screen,
                occurred_at=at,
            )
        )
    elif tx.src is not None and tx.dst is not None:
        src, dst = tx.src, tx.dst
        database.write(
            lambda conn: posting.transfer(
                conn,
                from_account_id=src,
                to_account_id=dst,
                amount=amount,
                actor_id=None,
                screen=screen,
                occurred_at=at,
            )
        )
    into.wall.append(time.perf_counter() - began)
    into.cpu.append(time.process_time() - cpu)


@dataclass
class InlineResult:
    screen: Timings
    compute: Timings
    posting_with: Timings
    posting_without: Timings
    alerts: int


def inline(
    make_database: Callable[[str], Database],
    settings: Settings,
    fitted: anomaly.AnomalyModel,
    scenario: Scenario,
    cut: int,
    learned: supervised.SupervisedModel | None = None,
) -> InlineResult:
    """The history after `cut` posted twice on fresh databases: screened (the statistics
    warmed up by the history before it), and without a screen."""
    warmed = _warm_up(scenario, settings, cut)
    balances = warmed.balances
    later = [tx for tx in scenario.transactions if tx.t >= cut]
    timed = TimedScreen(RiskScreen(settings, fitted, learned))
    with_screen, without = Timings(), Timings()
    screened = make_database("screened")
    try:
        _open_bank(screened, scenario, balances, cut, warmed.state)
        for tx in later:
            _post(screened, timed, tx, with_screen)
        with screened.read() as conn:
            alerts = int(conn.execute(select(func.count()).select_from(risk_alerts)).scalar_one())
    finally:
        screened.dispose()
    plain = make_database("plain")
    try:
        _open_bank(plain, scenario, balances, cut, None)
        for tx in later:
            _post(plain, NO_SCREEN, tx, without)
    finally:
        plain.dispose()
    compute = _compute(settings, fitted, learned)
    return InlineResult(timed.timings, compute, with_screen, without, alerts)


def _compute(
    settings: Settings,
    fitted: anomaly.AnomalyModel,
    learned: supervised.SupervisedModel | None = None,
    rows: int = 5000,
) -> Timings:
    """Features, rules and the models for one movement at a time, without the database."""
    scenario = generate(seed=5, customers=150, train_days=20, test_days=1)
    history = SimulatedHistory(scenario, Params.from_settings(settings))
    scorer = Scorer(history.state.params, fitted, learned)
    timings = Timings()
    for i, tx in enumerate(scenario.transactions[:rows]):
        wall, cpu = time.perf_counter(), time.process_time()
        item = history.step(i, tx)
        percentile = fitted.percentile(fitted.forest.score_one(item.facts.vector))
        scorer.combine(
            item.facts,
            item.hits,
            percentile,
            learned.probability(item.facts.vector, percentile) if learned else None,
        )
        timings.wall.append(time.perf_counter() - wall)
        timings.cpu.append(time.process_time() - cpu)
    return timings


@dataclass
class BatchResult:
    transactions: int
    wall: float
    cpu: float


def batch(
    scenario: Scenario,
    settings: Settings,
    fitted: anomaly.AnomalyModel,
    learned: supervised.SupervisedModel | None = None,
) -> BatchResult:
    """Replay a bank's history and score it, as `risk score --all` does (minus the writes)."""
    params = Params.from_settings(settings)
    scorer = Scorer(params, fitted, learned)
    wall, cpu = time.perf_counter(), time.process_time()
    history = SimulatedHistory(scenario, params)
    facts: list[Facts] = []
    hits: list[list[Hit]] = []
    scored = 0
    for i, tx in enumerate(scenario.transactions):
        item = history.step(i, tx)
        facts.append(item.facts)
        hits.append(item.hits)
        if len(facts) == 2000:
            scored += len(scorer.assess_many(facts, hits))
            facts, hits = [], []
    if facts:
        scored += len(scorer.assess_many(facts, hits))
    return BatchResult(scored, time.perf_counter() - wall, time.process_time() - cpu)


def risk_bench_command(
    customers: Annotated[
        int, typer.Option(min=20, help="Customers of the bank posted through the engine.")
    ] = 100,
    days: Annotated[int, typer.Option(min=7, help="Days of its history.")] = 21,
    batch_customers: Annotated[
        int, typer.Option(min=50, help="Customers of the bank scored in batch.")
    ] = 1500,
    batch_days: Annotated[int, typer.Option(min=7, help="Days of that bank's history.")] = 30,
) -> None:
    """Inline scoring latency per posting (p50/p99) and batch scoring throughput."""
    settings = get_settings()
    passwords.configure(time_cost=1, memory_kib=8, parallelism=1)  # bench users never sign in
    with console.status("training the models on a generated bank"):
        fitted, learned, _ = bench_model(3, settings)
    warm_days = 30
    scenario = generate(seed=5, customers=customers, train_days=warm_days + days, test_days=1)
    cut = scenario.start + warm_days * 86400
    with tempfile.TemporaryDirectory() as folder:

        def make_database(name: str) -> Database:
            database = Database.from_url(f"sqlite:///{Path(folder) / name}.db", pool_size=2)
            upgrade(database.engine)
            return database

        with console.status(f"posting {days} days of a generated bank twice"):
            result = inline(make_database, settings, fitted, scenario, cut, learned)
    table = Table(
        "measured",
        "calls",
        "p50 ms",
        "p99 ms",
        "p50 CPU ms",
        "p99 CPU ms",
        title=f"inline scoring on SQLite (forest {fitted.version}, supervised "
        f"{learned.version if learned else 'none'}, {result.alerts:,} alerts raised)",
    )
    table.add_row(*result.screen.row("risk screen in a posting: assess + record"))
    table.add_row(*result.compute.row("features + rules + model alone"))
    table.add_row(*result.posting_with.row("whole posting, screened"))
    table.add_row(*result.posting_without.row("whole posting, no screen"))
    console.print(table)
    with console.status(f"generating and scoring a bank of {batch_customers:,} customers"):
        batch_bank = generate(
            seed=11, customers=batch_customers, train_days=batch_days, test_days=1
        )
        measured = batch(batch_bank, settings, fitted, learned)
    rates = Table("transactions", "seconds", "transactions/s", "CPU seconds", "per CPU second")
    rates.title = "batch scoring (replayed statistics, rules, model in batches of 2,000)"
    rates.add_row(
        f"{measured.transactions:,}",
        f"{measured.wall:.2f}",
        f"{measured.transactions / measured.wall:,.0f}",
        f"{measured.cpu:.2f}",
        f"{measured.transactions / max(measured.cpu, 1e-9):,.0f}",
    )
    console.print(rates)
