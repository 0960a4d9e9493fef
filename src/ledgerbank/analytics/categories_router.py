"""Spending by category for customers: the breakdown, and correcting a payment's category."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from ledgerbank import errors
from ledgerbank.analytics import categories
from ledgerbank.analytics.periods import parse_period
from ledgerbank.identity.deps import DB, Principal, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.ledger.schemas import MAX_ID, Body

router = APIRouter(tags=["analytics"], route_class=LedgerRoute)

CustomerAnalytics = Annotated[Principal, authorized(Permission.ANALYTICS_OWN)]
Category = Literal[categories.CATEGORIES]  # type: ignore[valid-type]
_AUTH = (errors.NotAuthenticated, errors.Forbidden)


class CategoryTotal(BaseModel):
    category: str
    amount: str
    count: int


class CategorisedPayment(BaseModel):
    transaction_id: int
    posted_at: datetime
    amount: str
    description: str | None
    payee: str | None = Field(description="the payee's first name and last initial")
    category: str
    reason: str = Field(description="why it is in this category, in words")
    corrected: bool


class SpendingByCategory(BaseModel):
    currency: str | None
    period_start: datetime | None
    period_end: datetime | None
    total: str
    categories: list[CategoryTotal]
    items: list[CategorisedPayment] = Field(description="the newest payments (at most 500)")
    known_categories: list[str]


class CategoryCorrection(Body):
    transaction_id: int = Field(ge=1, le=MAX_ID)
    category: Category


class CategoryCorrected(BaseModel):
    transaction_id: int
    payee_key: str = Field(description="the payee every payment to which now takes it")
    category: str


@router.get(
    "/analytics/spending-by-category",
    operation_id="analytics-spending-by-category",
    response_model=SpendingByCategory,
    responses=problem_responses(*_AUTH, errors.NotFound, errors.UnknownCurrency),
)
def spending_by_category(
    principal: CustomerAnalytics,
    database: DB,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    to: Annotated[str | None, Query(max_length=40)] = None,
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    currency: Annotated[str | None, Query(min_length=3, max_length=3)] = None,
) -> dict[str, Any]:
    """Your payments out for a period by category; each says why it is in its category."""
    period = parse_period(from_, to)
    with database.read() as conn:
        return categories.spending_by_category(
            conn, owner_id=principal.id, account_id=account_id, currency=currency, period=period
        )


@router.put(
    "/analytics/categories",
    operation_id="analytics-correct-category",
    response_model=CategoryCorrected,
    responses=problem_responses(*_AUTH, errors.NotFound),
)
def correct_category(
    body: CategoryCorrection, principal: CustomerAnalytics, database: DB
) -> dict[str, Any]:
    """Put one of your payments (and every payment to the same payee) in another category."""
    return database.write(
        lambda conn: categories.correct_category(
            conn, owner_id=principal.id, transaction_id=body.transaction_id, category=body.category
        )
    )
