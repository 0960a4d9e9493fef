"""/payments/scheduled: set up (with the PIN), list, read with runs, and cancel standing
orders. Setting one up goes through the money service like a payment does."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from ledgerbank import errors as E
from ledgerbank.identity.deps import DB, Principal, authorized, token_holder
from ledgerbank.identity.permissions import Permission
from ledgerbank.identity.tokens import TokenClaims
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.kit.pagination import DEFAULT_LIMIT, Cursor, Limit, decode_cursor, encode_cursor
from ledgerbank.ledger import idempotency
from ledgerbank.ledger.money import Caller, MoneyRequest, MoneyService
from ledgerbank.ledger.schemas import MAX_ID
from ledgerbank.ledger.transactions_router import (
    MONEY_MOVED,
    PIN_ERRORS,
    IdempotencyKey,
)
from ledgerbank.ledger.transactions_router import _respond as respond
from ledgerbank.payments import service
from ledgerbank.payments.orders import Schedule
from ledgerbank.payments.schemas import (
    ScheduledPayment,
    ScheduledPaymentCreate,
    ScheduledPaymentPage,
    ScheduleStatus,
)

router = APIRouter(prefix="/payments/scheduled", tags=["payments"], route_class=LedgerRoute)

MoneyMove = Annotated[TokenClaims, token_holder(Permission.MONEY_MOVE_OWN)]
Readers = Annotated[
    Principal, authorized(Permission.ACCOUNTS_READ_OWN, Permission.ACCOUNTS_READ_ALL)
]
Cancellers = Annotated[Principal, authorized(Permission.MONEY_MOVE_OWN, Permission.ACCOUNTS_FREEZE)]
PaymentId = Annotated[int, Path(ge=1, le=MAX_ID)]
SIGNED_IN = (E.NotAuthenticated, E.Forbidden)


def _owner_filter(principal: Principal) -> int | None:
    """Customers see their own orders; staff with read access see everyone's."""
    return None if principal.can(Permission.ACCOUNTS_READ_ALL) else principal.id


@router.post(
    "",
    status_code=201,
    operation_id="payments-scheduled-create",
    summary="Set up a scheduled payment or standing order from one of the caller's accounts",
    response_model=ScheduledPayment,
    responses={
        201: MONEY_MOVED,
        **problem_responses(
            *SIGNED_IN,
            *PIN_ERRORS,
            E.NotFound,
            E.InvalidAmount,
            E.InvalidSchedule,
            E.AccountClosed,
            E.SameAccount,
            E.CurrencyMismatch,
            E.KycRequired,
            E.KycRejected,
            E.IdempotencyConflict,
            E.Conflict,
        ),
    },
)
async def create_scheduled_payment(
    request: Request,
    body: ScheduledPaymentCreate,
    claims: MoneyMove,
    key: IdempotencyKey = None,
) -> Response:
    """Needs the PIN, as a payment does. Each due date is then paid by the worker as a
    transfer (no PIN at run time; KYC, limits and the bank's checks apply); see the README's
    "Standing orders" for the retry rule and months without the 29th–31st."""
    money: MoneyService = request.app.state.money
    order = Schedule(
        from_account_id=body.from_account_id,
        to_account_id=body.to_account_id,
        amount=body.amount,
        frequency=body.frequency,
        first_date=body.first_date,
        until=body.until,
        description=body.description,
    )
    answer = await money.run_async(
        MoneyRequest(
            caller=Caller(claims.user_id, claims.role, claims.version, token_id=claims.jti),
            order=order,
            pin=body.pin,
            key=key,
            fingerprint=idempotency.fingerprint(
                request.method, request.url.path, body.model_dump(mode="json", exclude={"pin"})
            ),
        )
    )
    return respond(request, answer)


@router.get(
    "",
    operation_id="payments-scheduled-list",
    summary="Scheduled payments, newest first (customers: their own)",
    responses=problem_responses(*SIGNED_IN, E.ValidationFailed),
)
def list_scheduled_payments(
    principal: Readers,
    database: DB,
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    status: ScheduleStatus | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> ScheduledPaymentPage:
    before = decode_cursor(cursor, int)[0] if cursor else None
    with database.read() as conn:
        rows = service.list_payments(
            conn,
            owner_id=_owner_filter(principal),
            account_id=account_id,
            status=status,
            limit=limit + 1,
            before_id=before,
        )
        more = len(rows) > limit
        rows = rows[:limit]
        items = [_model(service.payment_body(row, runs=None)) for row in rows]
    next_cursor = encode_cursor(int(rows[-1]["id"])) if more and rows else None
    return ScheduledPaymentPage(items=items, next_cursor=next_cursor)


@router.get(
    "/{payment_id}",
    operation_id="payments-scheduled-get",
    summary="One scheduled payment with every attempt to pay it",
    responses=problem_responses(*SIGNED_IN, E.NotFound),
)
def get_scheduled_payment(
    payment_id: PaymentId, principal: Readers, database: DB
) -> ScheduledPayment:
    with database.read() as conn:
        row = service.get(conn, payment_id, owner_id=_owner_filter(principal))
        runs = service.runs_of(conn, payment_id)
        return _model(service.payment_body(row, runs=runs))


@router.delete(
    "/{payment_id}",
    operation_id="payments-scheduled-cancel",
    summary="Cancel a scheduled payment: no further date is paid (audited)",
    responses=problem_responses(*SIGNED_IN, E.NotFound),
)
def cancel_scheduled_payment(
    payment_id: PaymentId, principal: Cancellers, database: DB
) -> ScheduledPayment:
    owner = None if principal.can(Permission.ACCOUNTS_FREEZE) else principal.id
    row = database.write(
        lambda conn: service.cancel(conn, payment_id, owner_id=owner, actor_id=principal.id)
    )
    return _model(service.payment_body(row, runs=None))


def _model(body: dict[str, Any]) -> ScheduledPayment:
    return ScheduledPayment.model_validate(body)
