"""POST /accounts/{id}/close: a customer closes their own account, or staff close one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ledgerbank import errors as E
from ledgerbank.identity.deps import token_holder
from ledgerbank.identity.permissions import Permission, allows
from ledgerbank.identity.tokens import TokenClaims
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.ledger import idempotency
from ledgerbank.ledger.closing import CloseAccount, CloseAndMoveOut
from ledgerbank.ledger.money import Caller, MoneyRequest, MoneyService
from ledgerbank.ledger.schemas import MAX_ID, Account, Body, Id, Pin, Transaction
from ledgerbank.ledger.transactions_router import (
    CUSTOMER_ERRORS,
    MONEY_MOVED,
    PIN_ERRORS,
    POSTING_ERRORS,
    IdempotencyKey,
)
from ledgerbank.ledger.transactions_router import _respond as respond

router = APIRouter(prefix="/accounts", tags=["accounts"], route_class=LedgerRoute)

Closer = Annotated[TokenClaims, token_holder(Permission.MONEY_MOVE_OWN, Permission.ACCOUNTS_FREEZE)]


class CloseRequest(Body):
    move_to_account_id: Id | None = Field(
        default=None, description="move the rest here in the same request (needs the PIN)"
    )
    reason: Annotated[str | None, Field(default=None, max_length=500)] = None
    pin: Pin = None


class AccountClosed(BaseModel):
    """What closing ended; domains with closing steps add their own lists (holds)."""

    model_config = ConfigDict(extra="allow")

    account: Account
    interest_paid: Transaction | None = Field(
        default=None, description="interest accrued to the closing day, paid in before the rest"
    )
    moved_out: Transaction | None = Field(description="the transfer of the rest, if any")
    standing_orders_ended: list[int] = Field(default_factory=list)
    holds_ended: list[int] = Field(default_factory=list, description="voided with the account")


@router.post(
    "/{account_id}/close",
    operation_id="accounts-close",
    summary="Close an account: zero balance, or the rest moved out in the same request",
    response_model=AccountClosed,
    responses={
        200: MONEY_MOVED,
        **problem_responses(
            *POSTING_ERRORS,
            *PIN_ERRORS,
            *CUSTOMER_ERRORS,
            E.BalanceNotZero,
            E.InvalidTransition,
            E.SameAccount,
            E.CurrencyMismatch,
        ),
    },
)
async def close_account(
    request: Request,
    account_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: CloseRequest,
    claims: Closer,
    key: IdempotencyKey = None,
) -> Response:
    """A customer closes their own account (another's answers 404); staff with
    `accounts:freeze` close any. Interest accrued to the closing day is paid in first
    (`interest_paid`), before the rest is moved out. Standing orders from or to it end, open
    holds are voided; statements stay readable; every later movement answers
    `account_closed`."""
    # a customer moving the rest out sends money (the PIN); staff have no PIN to give
    sends = body.move_to_account_id is not None and allows(claims.role, Permission.MONEY_MOVE_OWN)
    kind = CloseAndMoveOut if sends else CloseAccount
    money: MoneyService = request.app.state.money
    answer = await money.run_async(
        MoneyRequest(
            caller=Caller(claims.user_id, claims.role, claims.version, token_id=claims.jti),
            order=kind(account_id, body.reason, body.move_to_account_id),
            pin=body.pin,
            key=key,
            fingerprint=idempotency.fingerprint(
                request.method, request.url.path, body.model_dump(mode="json", exclude={"pin"})
            ),
        )
    )
    return respond(request, answer)
