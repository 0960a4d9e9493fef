"""The four-eyes inbox: /approvals, /approvals/{id}, /approvals/{id}/approve and /reject."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from ledgerbank import errors as E
from ledgerbank.approvals import service
from ledgerbank.approvals.schemas import Approval, ApprovalDecided, ApprovalStatus, Decide
from ledgerbank.identity.deps import DB, Principal, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, Page

router = APIRouter(prefix="/approvals", tags=["approvals"], route_class=LedgerRoute)

Checkers = Annotated[Principal, authorized(Permission.APPROVALS_READ)]
ApprovalId = Annotated[int, Path(ge=1, le=2**63 - 1)]
SIGNED_IN = (E.NotAuthenticated, E.Forbidden)


def context(request: Request) -> service.Context:
    """What approval handlers get from the running app."""
    settings = request.app.state.settings
    base = settings.public_url or str(request.base_url)
    return service.Context(settings, getattr(request.app.state, "screen", None), base.rstrip("/"))


@router.get(
    "",
    operation_id="approvals-list",
    summary="The four-eyes inbox: proposals newest first, with whether the caller may decide",
    responses=problem_responses(*SIGNED_IN),
)
def list_approvals(
    principal: Checkers,
    database: DB,
    status: ApprovalStatus | None = None,
    action: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[Approval]:
    database.write(service.expire_due)
    with database.read() as conn:
        rows, next_cursor = service.list_approvals(
            conn, status=status, action_name=action, limit=limit, cursor=cursor
        )
    return Page[Approval](
        items=[Approval.from_row(row, principal) for row in rows], next_cursor=next_cursor
    )


def _one(database: DB, approval_id: int, principal: Principal) -> Approval:
    with database.read() as conn:
        rows, _ = service.list_approvals(conn, limit=1, cursor=None, only_id=approval_id)
    if not rows:
        raise E.NotFound(f"approval {approval_id} not found")
    return Approval.from_row(rows[0], principal)


@router.get(
    "/{approval_id}",
    operation_id="approvals-get",
    summary="One proposal and its outcome",
    responses=problem_responses(*SIGNED_IN, E.NotFound),
)
def get_approval(approval_id: ApprovalId, principal: Checkers, database: DB) -> Approval:
    return _one(database, approval_id, principal)


@router.post(
    "/{approval_id}/approve",
    operation_id="approvals-approve",
    summary="Approve a proposal: the action is carried out now (by a second, entitled person)",
    responses=problem_responses(*SIGNED_IN, E.NotFound, E.InvalidTransition),
)
def approve(
    request: Request,
    approval_id: ApprovalId,
    body: Decide,
    principal: Checkers,
    database: DB,
    response: Response,
) -> ApprovalDecided:
    """The action runs in this request's transaction. If it cannot be done any more (the
    account was unfrozen meanwhile) the approval is `failed` with the error in `result`."""
    database.write(service.expire_due)
    decision = database.write(
        lambda conn: service.approve(
            conn, approval_id, checker_id=principal.id, note=body.note, context=context(request)
        )
    )
    response.headers["Cache-Control"] = "no-store"
    view = _one(database, approval_id, principal)
    return ApprovalDecided(**view.model_dump(), shown_once=decision.shown_once)


@router.post(
    "/{approval_id}/reject",
    operation_id="approvals-reject",
    summary="Reject a proposal (its proposer may withdraw it)",
    responses=problem_responses(*SIGNED_IN, E.NotFound, E.InvalidTransition),
)
def reject(approval_id: ApprovalId, body: Decide, principal: Checkers, database: DB) -> Approval:
    database.write(service.expire_due)
    database.write(
        lambda conn: service.reject(conn, approval_id, checker_id=principal.id, note=body.note)
    )
    return _one(database, approval_id, principal)
