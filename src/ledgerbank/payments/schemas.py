"""Scheduled payments as the API reads and writes them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from ledgerbank.ledger.schemas import Amount, Body, Id, Pin

Frequency = Literal["once", "weekly", "monthly"]
ScheduleStatus = Literal["active", "completed", "cancelled", "ended"]


class ScheduledPaymentCreate(Body):
    from_account_id: Id
    to_account_id: Id
    amount: Amount
    first_date: date = Field(description="the first due date (the bank's business day)")
    frequency: Frequency
    until: date | None = Field(default=None, description="the last date it may fall due")
    description: Annotated[str | None, Field(default=None, max_length=200)] = None
    pin: Pin = None


class ScheduledPaymentRun(BaseModel):
    id: int
    due_date: date
    attempt: int
    attempted_at: str
    outcome: Literal["posted", "failed", "skipped", "declined"] = Field(
        description="failed: tried again later that day; skipped: given up for this date; "
        "declined: the bank could not make this payment (contact us)"
    )
    code: str | None = Field(description="why it failed: insufficient_funds, account_frozen, ...")
    transaction_id: int | None


class ScheduledPayment(BaseModel):
    id: int
    owner_id: int
    from_account_id: int
    to_account_id: int
    amount: str
    currency: str
    frequency: Frequency
    first_date: date
    until: date | None
    description: str | None
    status: ScheduleStatus
    next_due: date | None
    failed_attempts: int = Field(description="failed tries of the next due date so far")
    retry_at: str | None
    created_at: str
    ended_at: str | None
    end_reason: str | None
    runs: list[ScheduledPaymentRun] | None = Field(
        default=None, description="every attempt, newest first (one order's page only)"
    )


class ScheduledPaymentPage(BaseModel):
    items: list[ScheduledPayment]
    next_cursor: str | None
