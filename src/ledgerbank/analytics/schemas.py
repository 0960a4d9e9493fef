"""Request and response models of the analytics, reports and compliance metrics API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ledgerbank.analytics.custom_reports import (
    DEFAULT_ROW_LIMIT,
    MAX_ROW_LIMIT,
    Dimension,
    Metric,
    VerdictName,
)

MAX_ID = 2**63 - 1
# Amount bounds beyond any amount one posting may move are refused, not overflowed.
MAX_AMOUNT = Decimal(10) ** 12
TransactionType = Literal["deposit", "withdrawal", "transfer", "fee", "journal", "reversal"]
TransactionStatus = Literal["posted", "blocked", "reversed"]
AccountType = Literal["savings", "checking", "wallet"]


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PeriodBounds(Answer):
    period_start: datetime | None = Field(description="inclusive; null: from the beginning")
    period_end: datetime | None = Field(description="exclusive; null: up to now")


# --- customer analytics ---------------------------------------------------------------------


class MonthFlow(Answer):
    month: str = Field(examples=["2024-03"])
    income: str
    expenses: str
    net_flow: str


class CurrencyFlow(Answer):
    currency: str | None
    income: str
    expenses: str
    net_flow: str
    by_month: list[MonthFlow]


class SpendingSummary(PeriodBounds):
    """The lead currency's figures at the top level; every currency in `currencies`."""

    account_id: int | None
    currency: str | None
    income: str
    expenses: str
    net_flow: str
    by_month: list[MonthFlow]
    currencies: list[CurrencyFlow]


class MonthSpending(Answer):
    month: str
    spending: str


class RecurringPayment(Answer):
    payee: str
    amount: str


class BaselineForecast(Answer):
    method: str
    predicted_next_month: str
    lower: str
    upper: str


class SpendingPrediction(Answer):
    account_id: int | None
    currency: str | None
    month: str = Field(description="the month predicted: the first one not yet complete")
    method: str = Field(description="robust_seasonal (default) or linear_regression")
    predicted_next_month: str
    lower: str
    upper: str
    history: list[MonthSpending]
    recurring_payments: list[RecurringPayment]
    baseline: BaselineForecast


# --- reports --------------------------------------------------------------------------------


class TypeVolume(Answer):
    type: str
    currency: str
    count: int
    volume: str


class AverageBalance(Answer):
    currency: str
    accounts: int
    total_balance: str
    average_balance: str | None


class QueueSeverityCount(Answer):
    queue: str
    severity: str
    count: int


class QueueCount(Answer):
    queue: str
    count: int


class AlertCounts(Answer):
    raised: list[QueueSeverityCount] = Field(description="alerts raised in the period")
    unresolved: list[QueueCount] = Field(description="alerts not closed, now")


class Kpis(PeriodBounds):
    transaction_count: int = Field(description="transactions that moved money in the period")
    by_type: list[TypeVolume]
    blocked_count: int
    active_accounts: int = Field(description="customer accounts with an entry in the period")
    new_customers: int
    new_accounts: int
    balance_as_of: datetime
    average_balance: list[AverageBalance]
    alert_counts: AlertCounts
    previous: Kpis | None = Field(
        default=None,
        description="`compare=previous`: the same figures for the period of equal length "
        "just before",
    )


class TrendPoint(BaseModel):
    period: str = Field(description="day or week (its Monday) YYYY-MM-DD, or month YYYY-MM")
    type: str | None = None
    currency: str | None = None
    value: int | str | None = Field(description="a count, or a decimal string for money")


class Trend(PeriodBounds):
    interval: Literal["day", "week", "month"]
    metric: str
    points: list[TrendPoint]


class ReportFilters(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    types: list[TransactionType] = []
    statuses: list[TransactionStatus] = []
    account_types: list[AccountType] = []
    currencies: list[str] = Field(default=[], max_length=50)
    customer_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(default=[], max_length=1000)
    verdicts: list[VerdictName] = []
    min_amount: Decimal | None = Field(default=None, ge=0, le=MAX_AMOUNT, examples=["100.00"])
    max_amount: Decimal | None = Field(default=None, ge=0, le=MAX_AMOUNT, examples=["5000.00"])
    from_: str | None = Field(default=None, alias="from", examples=["2024-01-01"])
    to: str | None = Field(default=None, examples=["2024-12-31"])


class CustomReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    group_by: list[Dimension] = Field(default=[], max_length=9)
    metrics: list[Metric] = Field(default=["count", "sum"], min_length=1)
    filters: ReportFilters = Field(default_factory=ReportFilters)
    order_by: str | None = Field(
        default=None, description="a dimension or metric, `-` first for descending: `-sum`"
    )
    limit: int = Field(default=DEFAULT_ROW_LIMIT, ge=1, le=MAX_ROW_LIMIT)


class ReportColumn(Answer):
    name: str
    type: str


class CustomReport(Answer):
    group_by: list[str] = Field(description="as asked, plus currency when a money metric needs it")
    metrics: list[str]
    columns: list[ReportColumn]
    rows: list[dict[str, Any]]
    row_count: int
    truncated: bool = Field(description="more groups existed than `limit`")


# --- compliance -----------------------------------------------------------------------------


class RuleStatusCount(Answer):
    queue: str
    rule: str
    status: str
    count: int
    hits: int
    oldest_created_at: datetime | None
    newest_created_at: datetime | None


class UnresolvedAges(Answer):
    queue: str
    count: int
    oldest_age_days: float | None
    oldest_created_at: datetime | None = None
    oldest_age_hours: float | None = None
    by_age: dict[str, int]


class ReportsFiled(Answer):
    filed: int = Field(description="SARs filed in the period (the file_report case action)")
    alerts_reported: int = Field(0, description="distinct alerts those reports were filed from")
    alerts_in_reported_status: int = Field(
        description="alerts in `reported` now, awaiting closure (any period)"
    )


class FrozenAccounts(Answer):
    currency: str
    count: int
    balance: str


class LargeCashDay(Answer):
    day: str
    currency: str
    type: str
    count: int
    total: str


class ComplianceMetrics(PeriodBounds):
    as_of: datetime
    alerts_by_rule: list[RuleStatusCount]
    unresolved_alert_ages: list[UnresolvedAges]
    reports_filed: ReportsFiled
    frozen_accounts: list[FrozenAccounts]
    large_cash_by_day: list[LargeCashDay]
    thresholds: dict[str, Any]
