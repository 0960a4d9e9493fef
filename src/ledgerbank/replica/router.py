"""GET /replica: how far behind the primary the read replica is (administrators, auditors)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Request

from ledgerbank import errors
from ledgerbank.identity.deps import DB, Principal, ReadDB, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.kit.read_database import replica_status
from ledgerbank.replica.schemas import ReplicaLag

router = APIRouter(tags=["replica"], route_class=LedgerRoute)

ReplicaReader = Annotated[Principal, authorized(Permission.REPLICA_READ)]


@router.get(
    "/replica",
    response_model=ReplicaLag,
    operation_id="replica-lag",
    summary="How far behind the primary the read replica is",
    responses=problem_responses(errors.NotAuthenticated, errors.Forbidden, validation=False),
)
def lag(_: ReplicaReader, database: DB, read_database: ReadDB, request: Request) -> ReplicaLag:
    """Reports, analytics, LedgerGPT and the dashboard read from `LEDGERBANK_READ_DATABASE_URL`
    when it is set; this says how current what they read is. An unreachable replica is a
    state here, not an error."""
    return ReplicaLag.model_validate(asdict(replica_status(database, read_database)))
