"""Saved payees: a customer lists, saves and forgets the accounts they pay often."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from ledgerbank import errors
from ledgerbank.identity.deps import DB, AppSettings, Principal, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.ledger import lookups, saved_payees
from ledgerbank.ledger.schemas import MAX_ID, Body
from ledgerbank.risk import sanctions

router = APIRouter(prefix="/payees", tags=["payees"], route_class=LedgerRoute)

Payer = Annotated[Principal, authorized(Permission.MONEY_MOVE_OWN)]
PayeeId = Annotated[int, Path(ge=1, le=MAX_ID)]
E = errors
SIGNED_IN = (E.NotAuthenticated, E.Forbidden)


class SavedPayee(BaseModel):
    id: int
    nickname: str
    account_id: int = Field(description="what a transfer's `to_account_id` takes")
    account_number: str = Field(description="masked: the last four digits")
    holder: str = Field(description="the holder's first name and last initial")
    currency: str
    payable: bool = Field(description="false once the account is frozen or closed")
    created_at: datetime


class SavedPayeeList(BaseModel):
    items: list[SavedPayee]


class NewPayee(Body):
    account_number: str = Field(min_length=12, max_length=12, pattern=r"^[0-9]{12}$")
    nickname: str | None = Field(default=None, max_length=80)


@router.get(
    "",
    operation_id="payees-list",
    summary="The caller's saved payees",
    responses=problem_responses(*SIGNED_IN, validation=False),
)
def list_payees(principal: Payer, database: DB) -> SavedPayeeList:
    with database.read() as conn:
        found = saved_payees.list_payees(conn, principal.id)
    return SavedPayeeList(items=[SavedPayee.model_validate(p) for p in found])


@router.post(
    "",
    status_code=201,
    operation_id="payees-add",
    summary="Save another customer's account as a payee (a payee lookup: same hourly allowance)",
    responses=problem_responses(*SIGNED_IN, E.NotFound, E.Conflict, E.RateLimited),
)
def add_payee(body: NewPayee, principal: Payer, database: DB, settings: AppSettings) -> SavedPayee:
    lookups.spend_lookup(database, principal.id, settings)

    def unit(conn: Connection) -> dict[str, object]:
        payee, full_name = saved_payees.add_payee(
            conn, principal.id, account_number=body.account_number, nickname=body.nickname
        )
        # a match opens a compliance alert; the customer is told nothing of it (tipping off)
        sanctions.screen_payee(
            conn, owner_id=principal.id, payee_name=full_name, payee_account_id=payee["account_id"]
        )
        return payee

    return SavedPayee.model_validate(database.write(unit))


@router.delete(
    "/{payee_id}",
    status_code=204,
    operation_id="payees-remove",
    summary="Forget a saved payee",
    responses=problem_responses(*SIGNED_IN, E.NotFound),
)
def remove_payee(payee_id: PayeeId, principal: Payer, database: DB) -> Response:
    database.write(lambda conn: saved_payees.remove_payee(conn, principal.id, payee_id))
    return Response(status_code=204)
