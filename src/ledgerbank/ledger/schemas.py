"""Request and response models of the accounts and transactions API (API.md's field names)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
)
from sqlalchemy import RowMapping

from ledgerbank.kit.clock import as_utc
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.ledger.freezes import customer_message
from ledgerbank.ledger.parties import Party
from ledgerbank.ledger.tables import CUSTOMER_ACCOUNT_TYPES

# Ids are BIGINT in every database: anything larger is refused before it reaches a query.
MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


def _same_amount_same_text(value: Any) -> Any:
    """One text per number ("10.00", "10.0" and 10 give "10"), so a retry that writes its
    amount differently is still the same request to the idempotency check."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        return value
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        return value
    if not number.is_finite() or abs(number.adjusted()) > 40:
        return str(value)  # refused as an amount anyway; never written out digit by digit
    return format(number.normalize(), "f")


# An amount as the client sent it: a decimal string or a JSON number (decoded as Decimal by
# LedgerRoute). It is judged by `kit.money.to_minor` against the account's currency, so every
# bad amount, whatever its JSON type, answers `invalid_amount`.
Amount = Annotated[
    Any,
    PlainSerializer(_same_amount_same_text, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": r"^\d+(\.\d+)?$"}, {"type": "number"}],
            "description": "a positive decimal string (preferred) or JSON number, parsed exactly",
            "examples": ["1250.00"],
        }
    ),
]
Description = Annotated[str | None, Field(default=None, max_length=500)]
Pin = Annotated[str | None, Field(default=None, pattern=r"^\d{4,6}$", description="4–6 digits")]
Reason = Annotated[str, Field(min_length=1, max_length=500)]


def _moment(value: Any, *, end_of_day: bool) -> datetime:
    """A timestamp (naive = UTC), or a date: its first moment (with `end_of_day`, its last)."""
    if isinstance(value, datetime):
        return as_utc(value)
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 timestamp or date")
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            start = datetime.combine(day, time(), tzinfo=UTC)
            return start + timedelta(days=1, microseconds=-1) if end_of_day else start
        return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        raise ValueError(f"{value!r} is not an ISO 8601 timestamp or date") from None


_MOMENT_SCHEMA = WithJsonSchema(
    {
        "type": "string",
        "description": "ISO 8601 timestamp (naive = UTC) or a date (YYYY-MM-DD)",
        "examples": ["2024-01-31", "2024-01-31T12:00:00+00:00"],
    }
)
# `from=2024-01-01` starts at that day's first moment; `to=2024-01-31` includes the whole day.
StartMoment = Annotated[
    datetime, PlainValidator(lambda v: _moment(v, end_of_day=False)), _MOMENT_SCHEMA
]
EndMoment = Annotated[
    datetime, PlainValidator(lambda v: _moment(v, end_of_day=True)), _MOMENT_SCHEMA
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- accounts ---------------------------------------------------------------------------


class AccountOpen(Body):
    account_type: Literal["savings", "checking", "wallet"] = Field(
        description=f"one of {', '.join(CUSTOMER_ACCOUNT_TYPES)}"
    )
    currency: str = Field(default="USD", min_length=3, max_length=3, examples=["USD"])


class Account(BaseModel):
    id: int
    account_number: str
    owner_id: int | None
    account_type: str
    currency: str
    balance: str
    available_balance: str
    overdraft_limit: str
    status: Literal["active", "frozen", "closed"]
    status_reason: str | None = Field(
        description="staff: their internal note; customers: the reason they may read"
    )
    created_at: datetime
    frozen_by: Literal["customer", "fraud", "compliance"] | None = Field(
        default=None, description="staff only (customers: whether they froze it themselves)"
    )
    freeze_reason: str | None = Field(
        default=None, description="the customer-facing reason's code (ledger.freezes)"
    )
    freeze_message: str | None = Field(
        default=None, description="what the customer reads about a frozen or closed account"
    )
    can_unfreeze: bool | None = Field(
        default=None, description="customers: whether they may lift the freeze themselves"
    )

    @classmethod
    def from_row(cls, row: RowMapping, *, staff: bool = False) -> Account:
        """The account as the caller may see it: a customer never reads the staff's note nor
        which team froze it, only the customer-facing reason."""
        currency = row["currency"]
        message = customer_message(row)
        frozen_by = row.get("frozen_by")
        mine = frozen_by == "customer"
        balance, limit = int(row["balance"]), int(row["overdraft_limit"])
        return cls(
            id=row["id"],
            account_number=row["account_number"],
            owner_id=row["owner_id"],
            account_type=row["account_type"],
            currency=currency,
            balance=to_decimal_string(balance, currency),
            available_balance=to_decimal_string(balance + limit, currency),
            overdraft_limit=to_decimal_string(limit, currency),
            status=row["status"],
            status_reason=row["status_reason"] if staff else message,
            created_at=row["created_at"],
            frozen_by=frozen_by if staff or mine else None,
            freeze_reason=row.get("freeze_reason"),
            freeze_message=message,
            can_unfreeze=None if staff else (row["status"] == "frozen" and mine),
        )


class AccountList(BaseModel):
    items: list[Account]
    next_cursor: str | None = None


class Balance(BaseModel):
    account_id: int
    currency: str
    balance: str
    available_balance: str
    as_of: datetime


class StatementEntry(BaseModel):
    transaction_id: int
    posted_at: datetime
    type: str
    status: str
    description: str | None
    amount: str = Field(description="signed: credits positive, debits negative")
    balance_after: str


class Statement(BaseModel):
    account_id: int
    account_number: str
    currency: str
    from_: datetime | None = Field(alias="from", serialization_alias="from")
    to: datetime | None
    opening_balance: str
    closing_balance: str
    entries: list[StatementEntry]

    model_config = ConfigDict(populate_by_name=True)


class StatusChange(Body):
    reason: Reason


FreezeReason = Literal[
    "customer_request",
    "account_review",
    "verification_needed",
    "suspected_fraud",
    "security_concern",
]


class FreezeRequest(Body):
    """Staff: `reason` is the internal note (never shown to the customer) and `customer_reason`
    what the customer reads; `frozen_by` defaults from the role (compliance officers freeze for
    compliance, everyone else for fraud). Customers freeze their own account: `reason` is theirs."""

    reason: Reason
    customer_reason: FreezeReason | None = None
    frozen_by: Literal["fraud", "compliance"] | None = None


class FreezeReasonView(BaseModel):
    code: str
    message: str
    staff_only: bool


# --- transactions -----------------------------------------------------------------------


class Deposit(Body):
    account_id: Id
    amount: Amount
    description: Description = None


class Withdrawal(Body):
    account_id: Id
    amount: Amount
    description: Description = None
    pin: Pin = None


class Transfer(Body):
    from_account_id: Id
    to_account_id: Id
    amount: Amount
    description: Description = None
    pin: Pin = None


class Exchange(Body):
    """Between two of the caller's own accounts in different currencies."""

    from_account_id: Id
    to_account_id: Id
    amount: Amount = Field(description="in the source account's currency")
    description: Description = None
    pin: Pin = None


class BatchTransfer(Body):
    from_account_id: Id
    to_account_id: Id
    amount: Amount
    description: Description = None


class Batch(Body):
    transfers: list[BatchTransfer] = Field(min_length=1, max_length=500)
    atomic: bool = Field(
        default=True,
        description="true: every transfer is posted or none is; false: each one on its own",
    )
    pin: Pin = None


class TransactionRisk(BaseModel):
    """The risk screen's view of a transaction: staff only."""

    score: float
    verdict: Literal["SAFE", "SUSPICIOUS", "CRITICAL"]
    reasons: list[dict[str, Any]]
    model_version: str | None = None
    scored_at: datetime | None = None


class Transaction(BaseModel):
    id: int
    type: str
    status: Literal["posted", "blocked", "reversed", "declined"] = Field(
        description="customers read a payment stopped by risk screening as `declined`"
    )
    amount: str
    currency: str
    from_account_id: int | None
    to_account_id: int | None
    description: str | None
    created_at: datetime
    reverses_id: int | None = None
    batch_id: str | None = None
    risk: TransactionRisk | None = Field(default=None, description="staff only; null for customers")
    from_party: Party | None = Field(
        default=None,
        description="who sent it: the holder's name as the bank holds it and a "
        "masked account number (customers), full for staff; null for cash",
    )
    to_party: Party | None = Field(default=None, description="who received it (as from_party)")
    balance_after: str | None = Field(
        default=None, description="with `account_id`: that account's balance after it"
    )

    @classmethod
    def from_row(cls, row: RowMapping | dict[str, Any], risk: dict[str, Any] | None) -> Transaction:
        return cls(
            id=row["id"],
            type=row["type"],
            status=row["status"],
            amount=to_decimal_string(int(row["amount"]), row["currency"]),
            currency=row["currency"],
            from_account_id=row["from_account_id"],
            to_account_id=row["to_account_id"],
            description=row["description"],
            created_at=row["created_at"],
            reverses_id=row["reverses_id"],
            batch_id=row["batch_id"],
            risk=None if risk is None else TransactionRisk.model_validate(risk),
        )


class TransactionEntry(BaseModel):
    account_id: int
    amount: str = Field(description="signed: credits positive, debits negative")
    currency: str
    balance_after: str | None = Field(description="null on accounts the caller may not read")
    posted_at: datetime
    party: Party | None = Field(default=None, description="whose account, in words")


class Flag(BaseModel):
    id: int
    transaction_id: int
    reason: str
    flagged_by: int | None
    created_at: datetime


class TransactionDetail(Transaction):
    entries: list[TransactionEntry]
    reversed_by_id: int | None = None
    flags: list[Flag] | None = Field(default=None, description="staff only; null for customers")


class TransactionPage(BaseModel):
    items: list[Transaction]
    next_cursor: str | None


class BatchItem(BaseModel):
    index: int
    status: Literal["posted", "blocked", "failed"]
    transaction: Transaction | None = None
    error: dict[str, Any] | None = Field(default=None, description="the problem, when failed")


class BatchResult(BaseModel):
    atomic: bool
    batch_id: str | None = Field(description="shared by the transfers of an atomic batch")
    posted: int
    blocked: int
    failed: int
    items: list[BatchItem]


class ReverseRequest(Body):
    reason: Reason


class FlagRequest(Body):
    reason: Reason


class ImportRowError(BaseModel):
    line: int = Field(description="the line in the file (the header is line 1)")
    message: str


class ImportReport(BaseModel):
    file_name: str
    rows: int
    posted: int = Field(description="with `dry_run`: how many would be posted")
    skipped_duplicates: int
    errors: list[ImportRowError]
    dry_run: bool
    partial: bool


class ExchangeDetail(BaseModel):
    base: str
    quote: str
    rate: str = Field(description="units of quote one unit of base buys, as set by the bank")
    from_currency: str
    from_amount: str
    to_currency: str
    to_amount: str
    fee: str = Field(description="the spread, in from_currency, charged on top")
    fee_currency: str
    total_debited: str
    rounding: str = Field(description="half-even (banker's) to the minor unit")
    fee_transaction_id: int | None = Field(description="the fee's own transaction")


class ExchangeResult(Transaction):
    """The exchange (or cross-currency transfer) transaction and what it converted."""

    exchange: ExchangeDetail
