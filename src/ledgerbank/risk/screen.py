"""The risk screen the posting engine calls: assess before writing, record before the commit.

A `RiskSession` lives for one database transaction. `assess` reads the rolling statistics of
accounts it has not seen yet (one query), computes each proposal's features (a batch's later
items, and a group's later requests, see the earlier ones) and scores them; it writes nothing.
`accept` applies an assessed posting (or a blocked attempt) to the statistics in memory.
`record` stores one score row per transaction, writes the statistics of the accounts involved
(rows of accounts the engine has already locked; never a row every posting shares) and raises
alerts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection, bindparam, insert, select

from ledgerbank.config import Settings
from ledgerbank.kit.bulk import update_rows
from ledgerbank.kit.clock import utcnow
from ledgerbank.ledger.screening import (
    NO_SCREEN,
    AccountState,
    Assessment,
    Proposal,
    Screen,
    Screened,
)
from ledgerbank.risk import alerts, sanctions, supervised
from ledgerbank.risk import features as feats
from ledgerbank.risk import model as anomaly
from ledgerbank.risk.params import Params
from ledgerbank.risk.rules import RULES_BY_ID, Hit
from ledgerbank.risk.scoring import Scorer
from ledgerbank.risk.stats import AccountStats, from_row, to_row
from ledgerbank.risk.tables import risk_account_stats, risk_scores

log = logging.getLogger(__name__)

# The hot path's statements, built once (SQLAlchemy then reuses their compiled form).
_STATS = risk_account_stats
_READ_STATS = select(_STATS).where(_STATS.c.account_id.in_(bindparam("ids", expanding=True)))
# A posting reads one or two accounts: plain parameters (an expanding IN is rendered again on
# every execution).
_READ_ONE = select(_STATS).where(_STATS.c.account_id == bindparam("a"))
_READ_TWO = select(_STATS).where(_STATS.c.account_id.in_([bindparam("a"), bindparam("b")]))
_INSERT_STATS = insert(_STATS)
_INSERT_SCORES = insert(risk_scores)


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _clone(stats: AccountStats) -> AccountStats:
    return replace(
        stats,
        recent_out=list(stats.recent_out),
        recent_in=list(stats.recent_in),
        recent_cash=list(stats.recent_cash),
        recent_blocked=list(stats.recent_blocked),
        recent_out_peers=list(stats.recent_out_peers),
        recent_in_peers=list(stats.recent_in_peers),
    )


def _customer_ids(proposals: Sequence[Proposal]) -> list[int]:
    ids = set()
    for proposal in proposals:
        for account in (proposal.source, proposal.destination):
            if account is not None and not account.is_internal:
                ids.add(account.id)
    return sorted(ids)


class RiskScreen:
    """ledgerbank's `Screen`: rolling statistics, AML rules and the calibrated model."""

    def __init__(
        self,
        settings: Settings,
        model: anomaly.AnomalyModel | None = None,
        learned: supervised.SupervisedModel | None = None,
    ) -> None:
        self.settings = settings
        self.params = Params.from_settings(settings)
        self.scorer = Scorer(self.params, model, learned)

    @property
    def model(self) -> anomaly.AnomalyModel | None:
        return self.scorer.model

    def use_model(
        self,
        model: anomaly.AnomalyModel | None,
        learned: supervised.SupervisedModel | None = None,
    ) -> None:
        """Switch to other models (new ones just trained); postings in flight keep theirs."""
        self.scorer = Scorer(self.params, model, learned)

    def reload(self) -> str | None:
        """Load the newest forest (and the supervised model trained beside it) from the data
        folder; the version, or None (rules alone)."""
        folder = models_dir(self.settings)
        model = anomaly.load_newest(folder, feats.FEATURES)
        learned = supervised.load_for(folder, model.version, feats.FEATURES) if model else None
        self.use_model(model, learned)
        return self.scorer.model_version

    def session(self, conn: Connection) -> RiskSession:
        return RiskSession(self, conn)


class RiskSession:
    """The screen inside one database transaction: the statistics of each account are read once
    and kept current in memory as postings are accepted, so a group of requests sharing the
    transaction is scored one after another, each seeing the ones before it."""

    def __init__(self, screen: RiskScreen, conn: Connection) -> None:
        self.conn = conn
        self.params = screen.params
        self.scorer = screen.scorer  # a model swapped meanwhile applies to the next session
        self.sanctions_threshold = screen.settings.risk_sanctions_threshold
        self.stats: dict[int, AccountStats] = {}
        self.facts: dict[int, feats.Facts] = {}  # id(proposal) -> its features
        self.touched: set[int] = set()

    def prefetch(self, accounts: Sequence[AccountState]) -> None:
        self._load(sorted(a.id for a in accounts if not a.is_internal))

    def assess(self, proposals: Sequence[Proposal]) -> list[Assessment]:
        proposals = list(proposals)
        self._load(_customer_ids(proposals))
        facts = self._facts(proposals)
        listed = self._sanctioned_payees(proposals, facts)
        assessments = []
        for index, (p, f) in enumerate(zip(proposals, facts, strict=True)):
            self.facts[id(p)] = f
            assessments.append(
                self.scorer.assess(
                    f,
                    p.source.id if p.source is not None else None,
                    p.destination.id if p.destination is not None else None,
                    listed.get(index, ()),
                )
            )
        return assessments

    def _sanctioned_payees(
        self, proposals: list[Proposal], facts: list[feats.Facts]
    ) -> dict[int, list[Hit]]:
        """A `sanctions_match` hit for each payment to a new payee whose owner's name is on a
        sanctions list (one lookup, only when a payment goes to a new payee)."""
        new_payees = {
            i: p.destination
            for i, (p, f) in enumerate(zip(proposals, facts, strict=True))
            if f.new_to_sender and p.destination is not None and p.destination.owner_id
        }
        if not new_payees:
            return {}
        matches = sanctions.payee_matches(
            self.conn,
            (d.owner_id for d in new_payees.values() if d.owner_id is not None),
            threshold=self.sanctions_threshold,
        )
        rule = RULES_BY_ID[sanctions.RULE_ID]
        score = self.params.rule_scores.get(rule.id, rule.score)
        found: dict[int, list[Hit]] = {}
        for i, payee in new_payees.items():
            match = matches.get(payee.owner_id or 0)
            if match is not None:
                found[i] = [Hit(rule, score, payee.id, f"the payee's owner {match.describe()}")]
        return found

    def accept(self, proposals: Sequence[Proposal], *, posted: bool) -> None:
        for p in proposals:
            src, dst = p.source, p.destination
            feats.apply(
                self.facts[id(p)],
                self.stats[src.id] if src is not None else None,
                self.stats[dst.id] if dst is not None else None,
                posted=posted,
            )
            self.touched.update(a.id for a in (src, dst) if a is not None)

    def record(self, screened: Sequence[Screened]) -> None:
        if not screened:
            return
        now = utcnow()
        scores = [
            {
                "transaction_id": s.transaction_id,
                "score": s.assessment.score,
                "verdict": s.assessment.verdict.value,
                "reasons": json.dumps(s.assessment.reasons, separators=(",", ":")),
                "model_version": s.assessment.model_version,
                "scored_at": now,
            }
            for s in screened
        ]
        self.conn.execute(_INSERT_SCORES, scores[0] if len(scores) == 1 else scores)
        _write_stats(self.conn, [self.stats[i] for i in sorted(self.touched)], now)
        self.touched.clear()
        alerts.raise_alerts(self.conn, [alerts.scored_from(s) for s in screened], now=now)

    # --- statistics -------------------------------------------------------------------

    def _load(self, ids: list[int]) -> None:
        missing = [i for i in ids if i not in self.stats]
        if missing:
            self.stats.update(read_stats(self.conn, missing))

    def _facts(self, proposals: list[Proposal]) -> list[feats.Facts]:
        """Features of each proposal in order, each seeing the earlier ones as posted (on
        copies: nothing counts until it is accepted)."""
        working = self.stats
        if len(proposals) > 1:
            ids = _customer_ids(proposals)
            working = {**self.stats, **{i: _clone(self.stats[i]) for i in ids}}
        balances = {
            a.id: a.balance for p in proposals for a in (p.source, p.destination) if a is not None
        }
        out = []
        for index, p in enumerate(proposals):
            src, dst = p.source, p.destination
            src_stats = working[src.id] if src is not None else None
            dst_stats = working[dst.id] if dst is not None else None
            facts = feats.compute(
                self.params,
                kind=feats.KINDS[p.type],
                amount=p.amount,
                currency=p.currency,
                t=_epoch(p.occurred_at),
                src=src_stats,
                dst=dst_stats,
                src_owner=src.owner_id if src is not None else None,
                dst_owner=dst.owner_id if dst is not None else None,
                src_opened=_epoch(src.created_at) if src is not None else None,
                dst_opened=_epoch(dst.created_at) if dst is not None else None,
                src_balance=balances[src.id] if src is not None else None,
            )
            out.append(facts)
            if index + 1 < len(proposals):
                feats.apply(facts, src_stats, dst_stats, posted=True)
                if src is not None:
                    balances[src.id] -= p.amount
                if dst is not None:
                    balances[dst.id] += p.amount
        return out


def read_stats(conn: Connection, ids: list[int]) -> dict[int, AccountStats]:
    """The rolling statistics of these accounts (fresh ones for accounts without a row)."""
    if len(ids) == 1:
        result = conn.execute(_READ_ONE, {"a": ids[0]})
    elif len(ids) == 2:
        result = conn.execute(_READ_TWO, {"a": ids[0], "b": ids[1]})
    else:
        result = conn.execute(_READ_STATS, {"ids": ids})
    found = {int(row["account_id"]): from_row(row) for row in result.mappings()}
    return {i: found.get(i) or AccountStats(i) for i in ids}


def _write_stats(conn: Connection, changed: list[AccountStats], now: datetime) -> None:
    """One INSERT for accounts seen for the first time, one UPDATE for the others."""
    new, old = [], []
    for stats in changed:
        row = to_row(stats, now)
        if stats.stored:
            old.append(row)
        else:
            new.append(row)
            stats.stored = True
    if new:
        conn.execute(_INSERT_STATS, new[0] if len(new) == 1 else new)
    update_rows(conn, _STATS, "account_id", old)


def models_dir(settings: Settings) -> Path:
    return settings.data_dir / "models"


def build_screen(settings: Settings) -> Screen:
    """The screen the app and the CLI post with: the newest model, or the rules alone."""
    if not settings.risk_enabled:
        return NO_SCREEN
    screen = RiskScreen(settings)
    version = screen.reload()
    log.info("risk screen ready: %s", f"model {version}" if version else "rules only")
    return screen
