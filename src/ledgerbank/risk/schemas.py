"""Request and response models of the risk, fraud and compliance API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ledgerbank.kit.pagination import Page
from ledgerbank.ledger.parties import Party

Verdict = Literal["SAFE", "SUSPICIOUS", "CRITICAL"]
Severity = Literal["low", "medium", "high"]
AlertStatus = Literal["open", "investigating", "escalated", "reported", "closed"]


class RiskAssessment(BaseModel):
    """A transaction's score: what the screen made of it, why, with which model, when."""

    score: float = Field(ge=0, le=1)
    verdict: Verdict
    reasons: list[dict[str, Any]] = Field(
        description="rules fired ({kind: rule, rule, version, score, account_id, detail}) and "
        "the model's view ({kind: model, percentile, score, features: [...]})"
    )
    model_version: str | None = Field(description="null: the rules alone decided")
    scored_at: datetime


class RiskScore(RiskAssessment):
    """A score with its transaction; a customer sees only the reasons about their accounts."""

    transaction_id: int
    amount: str
    currency: str
    type: str
    from_account_id: int | None
    to_account_id: int | None
    created_at: datetime


RiskScorePage = Page[RiskScore]


class Alert(BaseModel):
    id: int
    queue: Literal["fraud", "compliance"]
    transaction_id: int | None = Field(
        description="the transaction that raised it (null: a sanctions match found when a "
        "customer registered or added a payee)"
    )
    account_id: int | None = Field(description="the customer account it is about")
    user_id: int | None = Field(
        default=None, description="the customer it is about when no account is (sanctions)"
    )
    rule_id: str | None = Field(description="compliance: the AML rule; fraud: null")
    severity: Severity
    status: AlertStatus
    score: float
    verdict: Verdict
    summary: str
    hits: int = Field(description="transactions that hit this rule on this account while open")
    last_transaction_id: int | None
    assigned_to: int | None
    resolution: Literal["fraud", "false_positive", "reported", "no_action"] | None
    resolution_note: str | None
    resolved_by: int | None
    resolved_at: datetime | None
    created_at: datetime
    updated_at: datetime
    assignee_name: str | None = Field(default=None, description="who the alert is assigned to")
    owner_id: int | None = Field(default=None, description="the account's owner")
    owner_name: str | None = Field(
        default=None, description="the customer it is about: the account's owner, or the user"
    )


AlertPage = Page[Alert]


class AlertAction(BaseModel):
    id: int
    alert_id: int
    action: str
    note: str | None
    actor_id: int | None
    created_at: datetime
    actor_name: str | None = None


class AccountEvent(BaseModel):
    """Something done to the alert's account since it was raised (a freeze, an unfreeze)."""

    action: Literal["account_frozen", "account_unfrozen"]
    note: str | None
    actor_id: int | None
    actor_name: str | None = None
    created_at: datetime


class TransactionView(BaseModel):
    id: int
    type: str
    status: str
    amount: str
    currency: str
    from_account_id: int | None
    to_account_id: int | None
    description: str | None
    created_at: datetime
    risk: RiskAssessment | None
    signed_amount: str | None = Field(
        default=None, description="in an account's activity: negative when money left it"
    )
    from_party: Party | None = Field(
        default=None, description="who paid: the holder's full name and account number (null: cash)"
    )
    to_party: Party | None = Field(default=None, description="who received it (as from_party)")


class AccountView(BaseModel):
    id: int
    account_number: str
    owner_id: int | None
    account_type: str
    currency: str
    balance: str
    status: str
    status_reason: str | None
    owner_name: str | None = None
    frozen_by: str | None = None
    freeze_reason: str | None = None
    created_at: datetime


class FlagView(BaseModel):
    id: int
    transaction_id: int
    reason: str
    flagged_by: int | None
    created_at: datetime
    flagged_by_name: str | None = None


class AlertDetail(BaseModel):
    alert: Alert
    transaction: TransactionView | None = Field(description="null when no transaction raised it")
    account: AccountView | None
    recent_activity: list[TransactionView] = Field(
        description="the account's latest transactions, either side, with their scores"
    )
    flags: list[FlagView]
    actions: list[AlertAction] = Field(description="the case history, oldest first")
    account_history: list[AccountEvent] = Field(
        default_factory=list, description="the account's freezes and unfreezes since it was raised"
    )


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Resolve(Body):
    resolution: Literal["fraud", "false_positive"]
    note: str = Field(default="", max_length=2000)


class ComplianceAction(Body):
    action: Literal["escalate", "file_report", "freeze_account", "close"]
    note: str = Field(default="", max_length=2000)
    customer_reason: (
        Literal["account_review", "verification_needed", "suspected_fraud", "security_concern"]
        | None
    ) = Field(
        default=None,
        description="freeze_account: what the customer reads (default account_review); the "
        "note stays internal",
    )


class RuleInfo(BaseModel):
    id: str
    version: int
    kind: Literal["aml", "fraud"]
    score: float = Field(description="what the rule alone makes of a transaction")
    severity: Severity
    alerts: bool = Field(description="opens a compliance alert on its own")
    summary: str


class ModelInfo(BaseModel):
    version: str | None = Field(description="null: no model yet, the rules alone decide")
    features: list[str]
    trained: dict[str, Any] = Field(description="what the model was trained on")
    thresholds: dict[str, float]
    settings: dict[str, Any] = Field(description="the risk settings in force")
    rules: list[RuleInfo]
