"""GET/PUT /fx/rates and GET /fx/quote: the bank's exchange rates and what an exchange gives.

Setting a rate is for financial managers and admins (audited); everyone signed in reads the
rates and asks for a quote before exchanging (`POST /transactions/exchange` moves the money).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from ledgerbank import errors
from ledgerbank.fx import rates
from ledgerbank.identity.deps import DB, AppSettings, Principal, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.kit.money import normalize_currency, to_minor
from ledgerbank.ledger.fees import FeeSchedule
from ledgerbank.ledger.schemas import Amount, Body

router = APIRouter(prefix="/fx", tags=["fx"], route_class=LedgerRoute)
RatesReader = Annotated[Principal, authorized(Permission.RATES_READ)]
RatesManager = Annotated[Principal, authorized(Permission.RATES_MANAGE)]
Currency = Annotated[str, Field(min_length=3, max_length=3, examples=["USD"])]
SIGNED_IN = (errors.NotAuthenticated, errors.Forbidden)


class RateChange(Body):
    base: Currency
    quote: Currency
    rate: str = Field(
        max_length=32, examples=["0.9234"], description="units of quote one unit of base buys"
    )
    valid_from: datetime | None = Field(default=None, description="default: now")


class Rate(BaseModel):
    id: int
    base: str
    quote: str
    rate: str
    valid_from: str
    created_at: str


class RateList(BaseModel):
    items: list[Rate]


class Quote(BaseModel):
    base: str
    quote: str
    rate: str
    from_currency: str
    from_amount: str
    to_currency: str
    to_amount: str
    fee: str = Field(description="the spread, in from_currency")
    fee_currency: str
    total_debited: str
    rounding: str = Field(description="half-even (banker's) to the minor unit")


@router.put(
    "/rates",
    status_code=201,
    operation_id="fx-rates_set",
    summary="Set an exchange rate from a moment on (history kept; audited)",
    response_model=Rate,
    responses=problem_responses(
        *SIGNED_IN, errors.InvalidRate, errors.UnknownCurrency, errors.SameCurrency, errors.Conflict
    ),
)
def set_rate(body: RateChange, principal: RatesManager, database: DB) -> Any:
    return database.write(
        lambda conn: rates.set_rate(
            conn,
            base=body.base,
            quote=body.quote,
            rate=body.rate,
            valid_from=body.valid_from,
            actor_id=principal.id,
        )
    )


@router.get(
    "/rates",
    operation_id="fx-rates_list",
    summary="Every exchange rate with its history, newest first per pair",
    response_model=RateList,
    responses=problem_responses(*SIGNED_IN, errors.UnknownCurrency),
)
def list_rates(
    principal: RatesReader,
    database: DB,
    base: Annotated[str | None, Query(min_length=3, max_length=3)] = None,
    quote: Annotated[str | None, Query(min_length=3, max_length=3)] = None,
) -> Any:
    with database.read() as conn:
        return {"items": rates.list_rates(conn, base=base, quote=quote)}


@router.get(
    "/quote",
    operation_id="fx-quote",
    summary="What exchanging an amount gives now: rate, both amounts and the fee",
    response_model=Quote,
    responses=problem_responses(
        *SIGNED_IN,
        errors.InvalidAmount,
        errors.UnknownCurrency,
        errors.SameCurrency,
        errors.NoRateInForce,
    ),
)
def quote(
    principal: RatesReader,
    database: DB,
    settings: AppSettings,
    from_currency: Annotated[str, Query(min_length=3, max_length=3)],
    to_currency: Annotated[str, Query(min_length=3, max_length=3)],
    amount: Annotated[Amount, Query()],
) -> Any:
    source, target = normalize_currency(from_currency), normalize_currency(to_currency)
    minor = to_minor(amount, source)
    with database.read() as conn:
        found = rates.convert(
            conn,
            minor,
            source,
            target,
            spread=FeeSchedule.from_settings(settings).spread,
            at=utcnow(),
        )
    return found.as_dict()
