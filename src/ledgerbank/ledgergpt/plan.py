"""The typed query plan: what a question asks for, before any SQL is written.

The offline parser builds one from plain English and a language model may propose one as
JSON; either way it is validated here (known subjects, types, statuses, usernames) and the
compiler turns it into SQL for the active dialect.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator


class Subject(StrEnum):
    TRANSACTIONS = "transactions"
    ACCOUNTS = "accounts"
    CUSTOMERS = "customers"
    AUDIT_EVENTS = "audit_events"
    ALERTS = "alerts"
    BALANCE_SHEET = "balance_sheet"
    INTEGRITY = "integrity"


class Metric(StrEnum):
    COUNT = "count"
    TOTAL = "total"
    AVERAGE = "average"
    LARGEST = "largest"
    SMALLEST = "smallest"


class GroupKey(StrEnum):
    DAY = "day"
    MONTH = "month"
    YEAR = "year"
    TYPE = "type"
    STATUS = "status"
    CUSTOMER = "customer"
    ACCOUNT = "account"
    ACCOUNT_TYPE = "account_type"
    CURRENCY = "currency"
    VERDICT = "verdict"
    ROLE = "role"
    KYC = "kyc_status"
    ACTION = "action"
    ACTOR = "actor"
    QUEUE = "queue"
    SEVERITY = "severity"
    RULE = "rule"
    SENDER = "sender"  # the paying side of a transaction
    RECIPIENT = "recipient"  # the receiving side


class SortKey(StrEnum):
    DATE = "date"
    AMOUNT = "amount"  # a transaction's amount or an account's balance
    VALUE = "value"  # the metric of a grouped answer
    NAME = "name"


Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.@+-]{1,64}$")]
AccountNumber = Annotated[str, StringConstraints(pattern=r"^[0-9]{6,20}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
TransactionType = Literal["deposit", "withdrawal", "transfer", "fee", "journal", "reversal"]
TransactionStatus = Literal["posted", "blocked", "reversed"]
AccountStatus = Literal["active", "frozen", "closed"]
AccountType = Literal["savings", "checking", "wallet"]
Verdict = Literal["SAFE", "SUSPICIOUS", "CRITICAL"]
RoleName = Literal[
    "customer", "admin", "auditor", "fraud_analyst", "financial_manager", "compliance_officer"
]
KycStatus = Literal["pending", "verified", "rejected"]
AlertStatus = Literal["open", "investigating", "escalated", "reported", "closed"]
AlertQueue = Literal["fraud", "compliance"]
Severity = Literal["low", "medium", "high"]
# Audit actions are matched with LIKE; patterns are letters, dots, underscores and %.
ActionPattern = Annotated[str, StringConstraints(pattern=r"^[a-z_.%]{1,64}$")]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class AmountFilter(BaseModel):
    """A range of amounts in major units, optionally in one currency."""

    model_config = _FROZEN

    minimum: Decimal | None = None
    maximum: Decimal | None = None
    include_minimum: bool = True
    include_maximum: bool = True
    currency: Currency | None = None

    @model_validator(mode="after")
    def _bounded(self) -> AmountFilter:
        if self.minimum is None and self.maximum is None:
            raise ValueError("an amount filter needs a minimum or a maximum")
        for bound in (self.minimum, self.maximum):
            if bound is not None and (not bound.is_finite() or abs(bound) > Decimal(10) ** 15):
                raise ValueError("amount out of range")
        return self


class Period(BaseModel):
    """[start, end) in UTC; either side may be open."""

    model_config = _FROZEN

    start: datetime | None = None
    end: datetime | None = None
    label: str = ""

    @model_validator(mode="after")
    def _bounded(self) -> Period:
        if self.start is None and self.end is None:
            raise ValueError("a period needs a start or an end")
        return self


class Order(BaseModel):
    model_config = _FROZEN

    key: SortKey
    descending: bool = True


class QueryPlan(BaseModel):
    """One question, understood: the subject, its filters, and the shape of the answer."""

    model_config = _FROZEN

    subject: Subject
    # people: on transactions either side, on accounts the owner, on audit events the subject
    customers: tuple[Username, ...] = ()
    senders: tuple[Username, ...] = ()
    recipients: tuple[Username, ...] = ()
    actors: tuple[Username, ...] = ()
    # transactions from either one of two people to the other
    between: tuple[Username, Username] | None = None
    account_numbers: tuple[AccountNumber, ...] = ()
    transaction_ids: tuple[Annotated[int, Field(ge=1)], ...] = ()
    transaction_types: tuple[TransactionType, ...] = ()
    transaction_statuses: tuple[TransactionStatus, ...] = ()
    account_statuses: tuple[AccountStatus, ...] = ()
    account_types: tuple[AccountType, ...] = ()
    currencies: tuple[Currency, ...] = ()
    verdicts: tuple[Verdict, ...] = ()
    flagged: bool = False  # listed in vw_flagged_transactions (non-SAFE, alerted or by staff)
    staff_flagged: bool = False  # flagged by hand by staff (transaction_flags)
    roles: tuple[RoleName, ...] = ()
    kyc_statuses: tuple[KycStatus, ...] = ()
    active: bool | None = None
    alert_statuses: tuple[AlertStatus, ...] = ()
    alert_queues: tuple[AlertQueue, ...] = ()
    severities: tuple[Severity, ...] = ()
    actions: tuple[ActionPattern, ...] = ()
    description_contains: Annotated[str, StringConstraints(max_length=100)] | None = None
    amount: AmountFilter | None = None
    period: Period | None = None
    metric: Metric | None = None
    group_by: tuple[GroupKey, ...] = Field(default=(), max_length=2)
    order: Order | None = None
    limit: Annotated[int, Field(ge=1, le=10_000)] | None = None
    # second round: what to leave out, comparisons with the average, counts per group
    exclude_customers: tuple[Username, ...] = ()
    exclude_transaction_types: tuple[TransactionType, ...] = ()
    exclude_transaction_statuses: tuple[TransactionStatus, ...] = ()
    exclude_account_statuses: tuple[AccountStatus, ...] = ()
    exclude_account_types: tuple[AccountType, ...] = ()
    versus_average: Literal["above", "below"] | None = None  # than the average of its kind
    having_count: (
        tuple[Literal["gt", "ge", "lt", "le", "eq"], Annotated[int, Field(ge=0)]] | None
    ) = None  # a count per group compared with a number ("customers with more than 2 accounts")
    # Words with two meanings and the one used ("'flagged': by the risk screen or by staff").
    readings: tuple[Annotated[str, StringConstraints(max_length=300)], ...] = ()
