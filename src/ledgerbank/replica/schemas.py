"""What GET /replica answers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class ReplicaLag(BaseModel):
    """How far the read database (reports, analytics, LedgerGPT, the dashboard) lags."""

    state: Literal["no_replica", "streaming", "stopped", "not_a_replica", "unreachable"] = Field(
        description="no_replica: the readers use the primary; streaming: a replica applying "
        "the primary's changes; stopped: a replica that is not; not_a_replica: the read "
        "database replicates from nothing; unreachable: it cannot be reached"
    )
    dialect: str
    detail: str
    seconds_behind: float | None = Field(
        description="PostgreSQL: now() - pg_last_xact_replay_timestamp(), 0 with nothing left "
        "to replay; MySQL: Seconds_Behind_Source; null when unknown"
    )
    bytes_behind: int | None = Field(
        description="PostgreSQL: WAL the primary has written that the replica has not replayed"
    )
    last_replayed_at: datetime | None = Field(
        description="commit time of the last transaction the replica replayed (PostgreSQL)"
    )
    checked_at: datetime
