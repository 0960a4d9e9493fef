"""Routes of /audit: the audit trail, newest first (its verification: `proof.router`)."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import RowMapping

from ledgerbank import errors
from ledgerbank.audit import service
from ledgerbank.audit.schemas import AuditRecord
from ledgerbank.identity.deps import DB, Principal, authorized
from ledgerbank.identity.permissions import Permission, mask_personal, sees_personal_data
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.kit.pagination import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    Page,
    decode_cursor,
    encode_cursor,
)
from ledgerbank.ledger.schemas import StartMoment

router = APIRouter(prefix="/audit", tags=["audit"], route_class=LedgerRoute)

AuditReader = Annotated[Principal, authorized(Permission.AUDIT_READ)]
ERRORS = (errors.NotAuthenticated, errors.Forbidden)


def _record(row: RowMapping, *, personal: bool) -> AuditRecord:
    """A record as the reader may see it: personal values masked unless their role opens them
    (older records, from before identity stopped copying them in, still hold some)."""
    before, after = _json(row["before"]), _json(row["after"])
    if not personal:
        before, after = mask_personal(before), mask_personal(after)
    return AuditRecord(
        id=row["id"],
        actor_id=row["actor_id"],
        action=row["action"],
        entity_type=row["entity_type"],
        entity_id=row["entity_id"],
        before=before,
        after=after,
        request_id=row["request_id"],
        created_at=row["created_at"],
        row_hash=row["row_hash"],
        sealed=row["sealed"],
    )


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


@router.get(
    "/logs",
    response_model=Page[AuditRecord],
    operation_id="audit-list_logs",
    summary="The audit trail",
    responses=problem_responses(*ERRORS),
)
def list_logs(
    principal: AuditReader,
    database: DB,
    entity_type: Annotated[str | None, Query(max_length=32)] = None,
    entity_id: Annotated[str | None, Query(max_length=64)] = None,
    actor_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    from_: Annotated[
        StartMoment | None,
        Query(alias="from", description="Records at or after (naive = UTC)."),
    ] = None,
    # A timestamp or a date, never a bare number (which `datetime` would take as Unix time).
    to: Annotated[StartMoment | None, Query(description="Records before (naive = UTC).")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[AuditRecord]:
    """Who did what to which user, account or transaction, newest first, with before/after."""
    before_id = decode_cursor(cursor, int)[0] if cursor else None
    with database.read() as conn:
        rows, next_before = service.list_records(
            conn,
            entity_type=entity_type,
            entity_id=entity_id,
            actor_id=actor_id,
            action=action,
            since=from_,
            until=to,
            limit=limit,
            before_id=before_id,
        )
    return Page[AuditRecord](
        items=[_record(row, personal=sees_personal_data(principal.role)) for row in rows],
        next_cursor=encode_cursor(next_before) if next_before is not None else None,
    )
