"""GET/PUT /interest/rates: the annual interest rate of each product, with its history."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ledgerbank import errors
from ledgerbank.identity.deps import DB, Principal, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.interest import service
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.ledger.schemas import Body

router = APIRouter(prefix="/interest", tags=["interest"], route_class=LedgerRoute)
RatesReader = Annotated[Principal, authorized(Permission.RATES_READ)]
RatesManager = Annotated[Principal, authorized(Permission.RATES_MANAGE)]


class InterestRateChange(Body):
    account_type: Literal["savings", "checking", "wallet"] = "savings"
    annual_rate: str = Field(max_length=32, examples=["0.025"], description="0.025 is 2.5 %")
    valid_from: date


class InterestRate(BaseModel):
    id: int
    account_type: str
    annual_rate: str
    valid_from: str


class InterestRateList(BaseModel):
    items: list[InterestRate]


@router.put(
    "/rates",
    status_code=201,
    operation_id="interest-rates_set",
    summary="Set a product's annual interest rate from a day on (history kept; audited)",
    response_model=InterestRate,
    responses=problem_responses(
        errors.NotAuthenticated, errors.Forbidden, errors.InvalidRate, errors.Conflict
    ),
)
def set_rate(body: InterestRateChange, principal: RatesManager, database: DB) -> Any:
    return database.write(
        lambda conn: service.set_rate(
            conn,
            account_type=body.account_type,
            annual_rate=body.annual_rate,
            valid_from=body.valid_from,
            actor_id=principal.id,
        )
    )


@router.get(
    "/rates",
    operation_id="interest-rates_list",
    summary="Every product's annual interest rates, newest first",
    response_model=InterestRateList,
    responses=problem_responses(errors.NotAuthenticated, errors.Forbidden, validation=False),
)
def list_rates(principal: RatesReader, database: DB) -> Any:
    with database.read() as conn:
        return {"items": service.list_rates(conn)}
