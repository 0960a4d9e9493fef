"""The holds API: place, capture and void authorisations (admins and machine clients with the
`holds` scope), and read them (customers their own accounts' holds, as pending).

Placing, capturing and voiding go through the money service (`ledger.hold_orders`): one
transaction with the Idempotency-Key, the caller's state, the account locks and, for a
capture, the risk screen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from ledgerbank import errors as E
from ledgerbank.identity.deps import DB, AppSettings, Principal, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, decode_cursor, encode_cursor
from ledgerbank.ledger import hold_orders, holds, idempotency, policy
from ledgerbank.ledger.money import Caller, MoneyRequest, MoneyService, Order
from ledgerbank.ledger.schemas import MAX_ID, Amount, Body, Id
from ledgerbank.ledger.tables import HOLD_STATUSES
from ledgerbank.ledger.transactions_router import IdempotencyKey, _respond

router = APIRouter(prefix="/holds", tags=["holds"], route_class=LedgerRoute)

HoldsManage = Annotated[Principal, authorized(Permission.HOLDS_MANAGE)]
HoldsRead = Annotated[Principal, authorized(Permission.HOLDS_READ, Permission.ACCOUNTS_READ_OWN)]
HoldId = Annotated[int, Path(ge=1, le=MAX_ID)]

SIGNED_IN = (E.NotAuthenticated, E.Forbidden)
CHANGE_ERRORS = (*SIGNED_IN, E.NotFound, E.HoldNotActive, E.IdempotencyConflict, E.Conflict)


class HoldPlace(Body):
    account_id: Id
    amount: Amount
    payee_account_id: Id | None = Field(
        default=None, description="credited on capture; else the bank's card settlement account"
    )
    description: str = Field(min_length=1, max_length=500)
    expires_at: datetime | None = Field(
        default=None, description="when the hold releases itself (default: in 7 days)"
    )


class HoldCapture(Body):
    amount: Amount | None = Field(default=None, description="a partial capture; default: all")


class Hold(BaseModel):
    id: int
    account_id: int
    payee_account_id: int | None
    amount: str
    currency: str
    description: str
    status: Literal["active", "captured", "voided", "expired"]
    expires_at: datetime
    captured_amount: str | None
    transaction_id: int | None = Field(description="the capture's transaction")
    created_at: datetime
    ended_at: datetime | None
    placed_by: int | None = Field(default=None, description="staff only")
    api_token_id: int | None = Field(default=None, description="staff only")


class HoldPage(BaseModel):
    items: list[Hold]
    next_cursor: str | None


async def _run(
    request: Request, principal: Principal, order: Order, body: BaseModel | None, key: str | None
) -> Response:
    money: MoneyService = request.app.state.money
    answer = await money.run_async(
        MoneyRequest(
            caller=Caller(
                principal.id,
                principal.role,
                token_id=principal.token_id or None,
                api_token_id=principal.api_token_id,
            ),
            order=order,
            key=key,
            fingerprint=idempotency.fingerprint(
                request.method,
                request.url.path,
                None if body is None else body.model_dump(mode="json"),
            ),
        )
    )
    return _respond(request, answer)


@router.post(
    "",
    status_code=201,
    operation_id="holds-place",
    summary="Reserve money on an account (admins, API tokens with the `holds` scope)",
    response_model=Hold,
    responses=problem_responses(
        *CHANGE_ERRORS,
        E.InvalidAmount,
        E.InsufficientFunds,
        E.AccountFrozen,
        E.AccountClosed,
        E.CurrencyMismatch,
        E.SameAccount,
    ),
)
async def place_hold(
    request: Request,
    body: HoldPlace,
    principal: HoldsManage,
    settings: AppSettings,
    key: IdempotencyKey = None,
) -> Response:
    order = hold_orders.PlaceHold(
        body.account_id,
        body.amount,
        body.description,
        payee_account_id=body.payee_account_id,
        expires_at=body.expires_at,
        hold_days=settings.hold_days,
        max_days=settings.hold_max_days,
    )
    return await _run(request, principal, order, body, key)


@router.post(
    "/{hold_id}/capture",
    operation_id="holds-capture",
    summary="Post all or part of a hold and release the rest",
    response_model=Hold,
    responses=problem_responses(
        *CHANGE_ERRORS,
        E.InvalidAmount,
        E.CaptureExceedsHold,
        E.InsufficientFunds,
        E.AccountClosed,
        E.AccountFrozen,
        E.BlockedByRisk,
    ),
)
async def capture_hold(
    request: Request,
    hold_id: HoldId,
    principal: HoldsManage,
    body: HoldCapture | None = None,
    key: IdempotencyKey = None,
) -> Response:
    order = hold_orders.CaptureHold(hold_id, None if body is None else body.amount)
    return await _run(request, principal, order, body, key)


@router.post(
    "/{hold_id}/void",
    operation_id="holds-void",
    summary="Release a hold without posting anything",
    response_model=Hold,
    responses=problem_responses(*CHANGE_ERRORS),
)
async def void_hold(
    request: Request, hold_id: HoldId, principal: HoldsManage, key: IdempotencyKey = None
) -> Response:
    return await _run(request, principal, hold_orders.VoidHold(hold_id), None, key)


def _visible_accounts(conn: Connection, principal: Principal) -> list[int] | None:
    """None: every account (staff, tokens with a holds scope); else the caller's own."""
    if principal.can(Permission.HOLDS_READ):
        return None
    return [int(row.id) for row in conn.execute(policy.own_account_ids(principal))]


@router.get(
    "",
    operation_id="holds-list",
    summary="Holds, newest first (customers: on their own accounts)",
    response_model=HoldPage,
    responses=problem_responses(*SIGNED_IN, E.NotFound),
)
def list_holds(
    principal: HoldsRead,
    database: DB,
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: Annotated[Literal[HOLD_STATUSES] | None, Query()] = None,  # type: ignore[valid-type]
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> HoldPage:
    after = None if cursor is None else int(decode_cursor(cursor, int)[0])
    staff = principal.can(Permission.HOLDS_READ)
    with database.read() as conn:
        visible = _visible_accounts(conn, principal)
        if account_id is not None:
            if visible is not None and account_id not in visible:
                raise E.NotFound(f"account {account_id} not found")
            visible = [account_id]
        rows = holds.list_holds(
            conn, account_ids=visible, status=status, limit=limit + 1, after_id=after
        )
    more = len(rows) > limit
    rows = rows[:limit]
    return HoldPage(
        items=[Hold.model_validate(holds.hold_body(r, staff=staff)) for r in rows],
        next_cursor=encode_cursor(int(rows[-1]["id"])) if more else None,
    )


@router.get(
    "/{hold_id}",
    operation_id="holds-get",
    summary="One hold (another customer's answers 404)",
    response_model=Hold,
    responses=problem_responses(*SIGNED_IN, E.NotFound),
)
def get_hold(hold_id: HoldId, principal: HoldsRead, database: DB) -> Hold:
    staff = principal.can(Permission.HOLDS_READ)
    with database.read() as conn:
        row = holds.get_hold(conn, hold_id)
        visible = _visible_accounts(conn, principal)
    if visible is not None and int(row["account_id"]) not in visible:
        raise E.NotFound(f"hold {hold_id} not found")
    return Hold.model_validate(holds.hold_body(row, staff=staff))
