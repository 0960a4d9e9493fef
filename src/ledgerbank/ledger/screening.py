"""The seam between the posting engine and risk scoring.

The engine opens a `ScreenSession` in the posting's database transaction, asks it to assess
every proposed movement before anything is written (a group of requests sharing one
transaction is assessed one request after another, each seeing the earlier ones), and tells it
what was written before the commit. `ledgerbank.risk` provides the real screen; `NO_SCREEN`
passes everything (used by tools that post without scoring).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy import Connection


class Verdict(StrEnum):
    SAFE = "SAFE"
    SUSPICIOUS = "SUSPICIOUS"
    CRITICAL = "CRITICAL"


@dataclass(frozen=True)
class AccountState:
    """An account as the engine saw it, locked, just before the posting."""

    id: int
    owner_id: int | None
    account_type: str
    currency: str
    balance: int
    status: str
    is_internal: bool
    created_at: datetime


@dataclass(frozen=True)
class Proposal:
    """One money movement the engine is about to post."""

    type: str
    amount: int
    currency: str
    source: AccountState | None
    destination: AccountState | None
    occurred_at: datetime
    description: str | None = None
    is_import: bool = False
    initiated_by: int | None = None


@dataclass(frozen=True)
class Assessment:
    score: float
    verdict: Verdict
    reasons: list[dict[str, Any]] = field(default_factory=list)
    model_version: str | None = None

    @property
    def blocks(self) -> bool:
        return self.verdict is Verdict.CRITICAL

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": round(self.score, 4),
            "verdict": self.verdict.value,
            "reasons": self.reasons,
            "model_version": self.model_version,
        }


@dataclass(frozen=True)
class Screened:
    """A transaction just written (posted or blocked) with the proposal and its assessment."""

    transaction_id: int
    proposal: Proposal
    assessment: Assessment
    posted: bool


class ScreenSession(Protocol):
    """One database transaction's view of the screen: postings of a group see earlier ones."""

    def prefetch(self, accounts: Sequence[AccountState]) -> None:
        """Read what the screen keeps about these accounts at once (the engine has just locked
        them), so that scoring a group's postings one by one costs no query each."""
        ...

    def assess(self, proposals: Sequence[Proposal]) -> list[Assessment]:
        """Score proposals in order, each seeing the earlier ones of this call and every
        proposal accepted before in this session; changes nothing."""
        ...

    def accept(self, proposals: Sequence[Proposal], *, posted: bool) -> None:
        """Make assessed proposals part of what later assessments see: posted money, or
        attempts that were blocked (`posted=False`)."""
        ...

    def record(self, screened: Sequence[Screened]) -> None:
        """Store scores, alerts and statistics of what was written, in the session's transaction."""
        ...


StoredScores = Callable[[Connection, Sequence[int]], dict[int, dict[str, Any]]]
"""What the risk engine stored about transactions (by id), read for staff views; the app
composes `ledgerbank.risk.scores.stored_scores` in."""


def no_stored_scores(conn: Connection, transaction_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    return {}


class Screen(Protocol):
    def session(self, conn: Connection) -> ScreenSession:
        """A session over `conn`: assess and accept postings one after another, record once."""
        ...


class StatelessScreen:
    """A screen whose verdicts need no memory of earlier postings (test screens, NO_SCREEN):
    subclasses implement `assess` and may override `record`."""

    def assess(self, conn: Connection, proposals: Sequence[Proposal]) -> list[Assessment]:
        raise NotImplementedError

    def record(self, conn: Connection, screened: Sequence[Screened]) -> None:
        return None

    def session(self, conn: Connection) -> ScreenSession:
        return _StatelessSession(self, conn)


@dataclass
class _StatelessSession:
    screen: StatelessScreen
    conn: Connection

    def prefetch(self, accounts: Sequence[AccountState]) -> None:
        return None

    def assess(self, proposals: Sequence[Proposal]) -> list[Assessment]:
        return self.screen.assess(self.conn, proposals)

    def accept(self, proposals: Sequence[Proposal], *, posted: bool) -> None:
        return None

    def record(self, screened: Sequence[Screened]) -> None:
        if screened:
            self.screen.record(self.conn, screened)


class _NoScreen(StatelessScreen):
    def assess(self, conn: Connection, proposals: Sequence[Proposal]) -> list[Assessment]:
        return [SAFE for _ in proposals]


SAFE = Assessment(0.0, Verdict.SAFE, [], None)
NO_SCREEN: Screen = _NoScreen()
