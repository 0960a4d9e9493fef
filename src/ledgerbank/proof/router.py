"""GET /audit/verify: the audit chain, its signed checkpoints and every recorded posting checked
against the ledger (it reads across the ledger, risk and the audit trail)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request

from ledgerbank import errors
from ledgerbank.audit.schemas import ChainVerification, Finding
from ledgerbank.identity.deps import DB, Principal, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.proof import audit_trail as proof

router = APIRouter(prefix="/audit", tags=["audit"], route_class=LedgerRoute)

AuditReader = Annotated[Principal, authorized(Permission.AUDIT_READ)]
ERRORS = (errors.NotAuthenticated, errors.Forbidden)


@router.get(
    "/verify",
    response_model=ChainVerification,
    operation_id="audit-verify",
    summary="Verify the audit trail's hash chain",
    responses=problem_responses(*ERRORS, validation=False),
)
def verify(principal: AuditReader, database: DB, request: Request) -> ChainVerification:
    """Seal what is pending, walk the whole chain, check every stored signed checkpoint and
    compare every recorded posting with the ledger: `ok` false says what was found.

    Editing, deleting or reordering any audit record (even with the database's triggers
    disabled) breaks the chain from that record on; rewriting records and recomputing the
    chain is found by the signed checkpoints; a ledger row edited behind the chain's back no
    longer matches its posting's record.
    """
    result = proof.verify(database, request.app.state.settings)
    chain = result.chain
    return ChainVerification(
        ok=result.ok,
        checked=chain.checked,
        first_broken_id=chain.first_broken_id,
        unsealed=chain.unsealed,
        detail=chain.detail,
        checkpoints_checked=result.checkpoints.checked,
        checkpoint_problems=result.checkpoints.problems,
        newest_checkpoint_position=result.checkpoints.newest_position,
        uncovered_records=result.uncovered,
        postings_checked=result.ledger.postings,
        findings=[
            Finding(check=f.check, subject=f.subject, detail=f.detail)
            for f in result.ledger.findings
        ],
    )
