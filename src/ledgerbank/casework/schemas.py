"""Request and response models of the casework API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from ledgerbank.risk.schemas import AccountView, Alert

MAX_ID = 2**63 - 1


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerHit(BaseModel):
    id: int
    username: str
    full_name: str
    email: str = Field(description="masked for roles that do not read personal data")
    kyc_status: str
    is_active: bool


class AccountHit(BaseModel):
    id: int
    account_number: str
    owner_id: int | None
    owner_name: str
    account_type: str
    currency: str
    balance: str
    status: str


class SearchResults(BaseModel):
    query: str
    customers: list[CustomerHit]
    accounts: list[AccountHit]


class CustomerProfile(BaseModel):
    id: int
    username: str
    full_name: str
    email: str
    phone: str | None
    date_of_birth: date | str | None = Field(description="masked for some roles")
    kyc_status: str
    is_active: bool
    created_at: datetime


class ActivityItem(BaseModel):
    id: int
    type: str
    status: str
    amount: str
    signed_amount: str = Field(description="negative when money left the customer's accounts")
    currency: str
    from_account_id: int | None
    to_account_id: int | None
    description: str | None
    counterparty: str | None = Field(description="the other side's name and account ·1234")
    created_at: datetime


class SarReport(BaseModel):
    id: int
    alert_id: int
    subject_user_id: int | None
    account_id: int | None
    activity_type: str
    narrative: str
    filed_by: int
    filed_by_name: str | None = None
    created_at: datetime


class CustomerView(BaseModel):
    profile: CustomerProfile
    accounts: list[AccountView]
    recent_activity: list[ActivityItem]
    alerts: list[Alert] = Field(description="alerts of the queues the caller works")
    reports: list[SarReport] = Field(description="SARs filed about them (compliance only)")


class NoteRequest(Body):
    note: str = Field(min_length=1, max_length=2000)


class BulkRequest(Body):
    alert_ids: list[Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]] = Field(
        min_length=1, max_length=100
    )
    action: Literal["assign", "close"]
    note: str = Field(default="", max_length=2000)
    assignee_id: int | None = Field(
        default=None,
        strict=True,
        ge=1,
        le=MAX_ID,
        description="assign: whom to (default: the caller)",
    )
    resolution: Literal["fraud", "false_positive"] | None = Field(
        default=None, description="fraud close: the label (default false_positive)"
    )


class Skipped(BaseModel):
    id: int
    reason: str


class BulkResult(BaseModel):
    done: list[int]
    skipped: list[Skipped]


class SarRequest(Body):
    activity_type: Literal[
        "structuring", "money_mule", "fraud", "unusual_cash", "rapid_movement", "sanctions", "other"
    ]
    narrative: str = Field(
        min_length=20,
        max_length=20000,
        description="who, what, when, where and why it is suspicious, in the officer's words",
    )


class NetworkNode(BaseModel):
    account_id: int
    label: str = Field(description="owner's name and the account's last four digits")
    owner_id: int | None
    status: str
    centre: bool
    senders: int = Field(description="accounts in the graph that paid it")
    receivers: int = Field(description="accounts in the graph it paid")


class NetworkEdge(BaseModel):
    from_account_id: int
    to_account_id: int
    currency: str
    count: int
    total: str
    last_at: datetime


class Network(BaseModel):
    account_id: int
    window_days: int
    since: datetime
    nodes: list[NetworkNode]
    edges: list[NetworkEdge]
    fan_in: int
    fan_out: int
    pass_through: bool


class Person(BaseModel):
    id: int
    name: str


class People(BaseModel):
    items: list[Person]
