"""The seam between the posting engine and risk scoring.

The engine asks a `Screen` to assess every proposed movement before anything is written, and
tells it the outcome afterwards inside the same transaction. `ledgerbank.risk` provides the real
screen; `NO_SCREEN` passes everything (used by tools that post without scoring).
"""

from __future__ import annotations

from collections.abc import Sequence
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


class Screen(Protocol):
    def assess(self, conn: Connection, proposals: Sequence[Proposal]) -> list[Assessment]:
        """Score proposals in order (a batch sees its own earlier items); must not write."""
        ...

    def record(self, conn: Connection, screened: Sequence[Screened]) -> None:
        """Store scores, alerts and statistics of transactions just written."""
        ...


class _NoScreen:
    def assess(self, conn: Connection, proposals: Sequence[Proposal]) -> list[Assessment]:
        return [Assessment(0.0, Verdict.SAFE, [], None) for _ in proposals]

    def record(self, conn: Connection, screened: Sequence[Screened]) -> None:
        return None


NO_SCREEN: Screen = _NoScreen()
