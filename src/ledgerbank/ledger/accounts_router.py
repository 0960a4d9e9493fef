"""The accounts API: open, list, read, balances, statements, freeze and unfreeze."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection, RowMapping, select

from ledgerbank import errors
from ledgerbank.approvals import service as approvals
from ledgerbank.approvals.schemas import ApprovalProposed, proposed_response
from ledgerbank.identity.deps import DB, AppSettings, Principal, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.exports import CSV_MEDIA_TYPE
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.kit.pagination import DEFAULT_LIMIT, Cursor, Limit
from ledgerbank.ledger import (
    accounts,
    exports,
    freezes,
    holds,
    lookups,
    parties,
    policy,
    statements,
)
from ledgerbank.ledger.approval_actions import UNFREEZE_COMPLIANCE
from ledgerbank.ledger.listing import account_page
from ledgerbank.ledger.schemas import (
    MAX_ID,
    Account,
    AccountList,
    AccountOpen,
    Balance,
    EndMoment,
    FreezeReasonView,
    FreezeRequest,
    StartMoment,
    Statement,
    StatementEntry,
    StatusChange,
)
from ledgerbank.ledger.statement_pdf import render_statement_pdf

router = APIRouter(prefix="/accounts", tags=["accounts"], route_class=LedgerRoute)

AccountsOpen = Annotated[Principal, authorized(Permission.ACCOUNTS_OPEN)]
AccountsRead = Annotated[
    Principal, authorized(Permission.ACCOUNTS_READ_OWN, Permission.ACCOUNTS_READ_ALL)
]
AccountsFreeze = Annotated[
    Principal, authorized(Permission.ACCOUNTS_FREEZE, Permission.ACCOUNTS_FREEZE_OWN)
]
MoneyMover = Annotated[Principal, authorized(Permission.MONEY_MOVE_OWN)]
AccountId = Annotated[int, Path(ge=1, le=MAX_ID)]

E = errors
SIGNED_IN = (E.NotAuthenticated, E.Forbidden)
READ_ONE = (*SIGNED_IN, E.NotFound)
PDF_MEDIA_TYPE = "application/pdf"


@router.post(
    "/",
    status_code=201,
    operation_id="accounts-open",
    summary="Open an account for the caller",
    responses=problem_responses(*SIGNED_IN, E.UnknownCurrency),
)
def open_account(body: AccountOpen, principal: AccountsOpen, database: DB) -> Account:
    row = database.write(
        lambda conn: accounts.open_account(
            conn,
            owner_id=principal.id,
            account_type=body.account_type,
            currency=body.currency,
            actor_id=principal.id,
        )
    )
    return Account.from_row(row, staff=_staff(principal))


def _staff(principal: Principal) -> bool:
    return principal.can(Permission.ACCOUNTS_READ_ALL)


@router.get(
    "/",
    operation_id="accounts-list",
    summary="The caller's accounts (staff with read access: everyone's)",
    responses=problem_responses(*SIGNED_IN),
)
def list_accounts(
    principal: AccountsRead,
    database: DB,
    owner_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    owner: Annotated[
        str | None,
        Query(min_length=2, max_length=100, description="part of the owner's name or email"),
    ] = None,
    status: Literal["active", "frozen", "closed"] | None = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> AccountList:
    with database.read() as conn:
        rows, next_cursor = account_page(
            conn,
            policy.accounts_visible_to(principal),
            owner_id=owner_id,
            owner=owner,
            status=status,
            limit=limit,
            cursor=cursor,
        )
        held = holds.held_now(conn, [int(row["id"]) for row in rows])
    staff = _staff(principal)
    return AccountList(
        items=[
            Account.from_row(row, staff=staff, held=held.get(int(row["id"]), 0)) for row in rows
        ],
        next_cursor=next_cursor,
    )


class Payee(BaseModel):
    """Who a payment to an account number would reach (confirmation of payee)."""

    account_id: int
    account_number: str
    account_type: str
    currency: str
    holder: str = Field(description="the holder's first name and last initial")


@router.get(
    "/payee",
    operation_id="accounts-payee",
    summary="Look up an active customer account by its number before paying it",
    description="Each caller may look up `LEDGERBANK_PAYEE_LOOKUPS_PER_HOUR` numbers an hour "
    "(429 `rate_limited` with `retry_after` beyond); heavy use is audited.",
    responses=problem_responses(*READ_ONE, E.RateLimited),
)
def find_payee(
    principal: MoneyMover,
    database: DB,
    settings: AppSettings,
    account_number: Annotated[str, Query(min_length=12, max_length=12, pattern=r"^[0-9]{12}$")],
) -> Payee:
    lookups.spend_lookup(database, principal.id, settings)
    with database.read() as conn:
        row = accounts.find_by_number(conn, account_number)
        if row is None or row["is_internal"] or row["status"] != "active":
            raise errors.NotFound(f"no active account has the number {account_number}")
        full_name = conn.execute(
            select(users.c.full_name).where(users.c.id == row["owner_id"])
        ).scalar_one()
    return Payee(
        account_id=row["id"],
        account_number=row["account_number"],
        account_type=row["account_type"],
        currency=row["currency"],
        holder=parties.holder_name(str(full_name)),
    )


@router.get(
    "/freeze-reasons",
    operation_id="accounts-freeze_reasons",
    summary="The reasons a customer may read on a frozen account (the freeze dialog's list)",
    responses=problem_responses(*SIGNED_IN, validation=False),
)
def freeze_reasons(principal: AccountsRead) -> list[FreezeReasonView]:
    return [
        FreezeReasonView(code=code, message=message, staff_only=code in freezes.STAFF_REASONS)
        for code, message in freezes.FREEZE_REASONS.items()
    ]


@router.get(
    "/{account_id}",
    operation_id="accounts-get",
    summary="One account",
    responses=problem_responses(*READ_ONE),
)
def get_account(account_id: AccountId, principal: AccountsRead, database: DB) -> Account:
    with database.read() as conn:
        row = policy.visible_account(conn, principal, account_id)
        held = holds.held_now(conn, [account_id]).get(account_id, 0)
    return Account.from_row(row, staff=_staff(principal), held=held)


@router.get(
    "/{account_id}/balance",
    operation_id="accounts-balance",
    summary="The balance now, or at a past moment with `at`",
    responses=problem_responses(*READ_ONE),
)
def get_balance(
    account_id: AccountId,
    principal: AccountsRead,
    database: DB,
    at: Annotated[
        EndMoment | None,
        Query(description="a past moment; a plain date means the end of that day (UTC)"),
    ] = None,
) -> Balance:
    now = utcnow()
    if at is not None and at > now:
        raise E.ValidationFailed("`at` must not be in the future")
    with database.read() as conn:
        account = policy.visible_account(conn, principal, account_id)
        minor = (
            int(account["balance"]) if at is None else statements.balance_at(conn, account_id, at)
        )
        # holds have no history: a past moment's available balance counts none
        held = holds.held_now(conn, [account_id]).get(account_id, 0) if at is None else 0
    currency = account["currency"]
    return Balance(
        account_id=account_id,
        currency=currency,
        balance=to_decimal_string(minor, currency),
        available_balance=to_decimal_string(
            minor + int(account["overdraft_limit"]) - held, currency
        ),
        held=to_decimal_string(held, currency) if at is None else None,
        as_of=at or now,
    )


@router.get(
    "/{account_id}/statement",
    operation_id="accounts-statement",
    summary="Entries of a period with opening and closing balances (JSON, CSV or PDF)",
    responses={
        **problem_responses(*READ_ONE),
        200: {
            "content": {
                "application/json": {},
                CSV_MEDIA_TYPE: {"schema": {"type": "string"}},
                PDF_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}},
            }
        },
    },
    response_model=Statement,
)
def get_statement(
    account_id: AccountId,
    principal: AccountsRead,
    database: DB,
    start: Annotated[StartMoment | None, Query(alias="from")] = None,
    end: Annotated[EndMoment | None, Query(alias="to")] = None,
    format: Literal["json", "csv", "pdf"] = "json",
) -> Statement | Response:
    if start is not None and end is not None and start > end:
        raise E.ValidationFailed("`from` must not be after `to`")
    with database.read() as conn:
        account = policy.visible_account(conn, principal, account_id)
        found = statements.statement(conn, account_id, start=start, end=end)
        owner = _owner_name(conn, account) if format == "pdf" else ""
    statement = _statement_view(account, found, start, end)
    if format == "json":
        return statement
    name = f"statement-{account['account_number']}"
    if format == "csv":
        return Response(
            exports.statement_csv(statement),
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    return Response(
        render_statement_pdf(
            {"full_name": owner}, dict(account), found, period_start=start, period_end=end
        ),
        media_type=PDF_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'},
    )


def _owner_name(conn: Connection, account: RowMapping) -> str:
    found = conn.execute(select(users.c.full_name).where(users.c.id == account["owner_id"]))
    return str(found.scalar() or "")


def _statement_view(
    account: RowMapping, found: statements.Statement, start: object, end: object
) -> Statement:
    currency = account["currency"]

    def money(minor: int) -> str:
        return to_decimal_string(int(minor), currency)

    return Statement.model_validate(
        {
            "account_id": account["id"],
            "account_number": account["account_number"],
            "currency": currency,
            "from": start,
            "to": end,
            "opening_balance": money(found.opening_balance),
            "closing_balance": money(found.closing_balance),
            "entries": [
                StatementEntry(
                    transaction_id=entry["transaction_id"],
                    posted_at=entry["posted_at"],
                    type=entry["type"],
                    status=entry["status"],
                    description=entry["description"],
                    amount=money(entry["amount"]),
                    balance_after=money(entry["balance_after"]),
                )
                for entry in found.entries
            ],
        }
    )


def _freezer(principal: Principal, body: FreezeRequest) -> freezes.Freezer:
    if not principal.can(Permission.ACCOUNTS_FREEZE):
        return "customer"
    if body.frozen_by is not None:
        if body.frozen_by == "compliance" and not principal.can(Permission.COMPLIANCE_REVIEW):
            raise E.Forbidden("only compliance freezes for compliance")
        return body.frozen_by
    return "compliance" if principal.role == "compliance_officer" else "fraud"


@router.post(
    "/{account_id}/freeze",
    operation_id="accounts-freeze",
    summary="Freeze an account: no money moves in or out until it is unfrozen",
    description="Staff: `reason` is the internal note, `customer_reason` (GET "
    "/accounts/freeze-reasons) what the customer reads. A customer freezes their own account "
    "(lost card) and may lift only such a freeze.",
    responses=problem_responses(*READ_ONE, E.InvalidTransition),
)
def freeze_account(
    account_id: AccountId, body: FreezeRequest, principal: AccountsFreeze, database: DB
) -> Account:
    frozen_by = _freezer(principal, body)
    if frozen_by == "customer":
        customer_reason = "customer_request"
    else:
        customer_reason = body.customer_reason or freezes.DEFAULT_STAFF_REASON

    def unit(conn: Connection) -> RowMapping:
        policy.visible_account(conn, principal, account_id)  # another's account: 404
        return freezes.freeze(
            conn,
            account_id,
            frozen_by=frozen_by,
            customer_reason=customer_reason,
            note=body.reason,
            actor_id=principal.id,
        )

    return Account.from_row(database.write(unit), staff=_staff(principal))


@router.post(
    "/{account_id}/unfreeze",
    operation_id="accounts-unfreeze",
    response_model=Account,
    summary="Unfreeze a frozen account (a compliance freeze: 202, a second person approves)",
    responses={
        202: {"model": ApprovalProposed, "description": "a compliance freeze: proposed"},
        **problem_responses(*READ_ONE, E.InvalidTransition, E.Conflict),
    },
)
def unfreeze_account(
    account_id: AccountId,
    body: StatusChange,
    principal: AccountsFreeze,
    database: DB,
    settings: AppSettings,
) -> Account | JSONResponse:
    staff = principal.can(Permission.ACCOUNTS_FREEZE)

    def unit(conn: Connection) -> RowMapping:
        account = policy.visible_account(conn, principal, account_id)
        if staff and account["status"] == "frozen" and account["frozen_by"] == "compliance":
            return approvals.propose(
                conn,
                action_name=UNFREEZE_COMPLIANCE,
                params={"account_id": account_id, "reason": body.reason},
                proposed_by=principal.id,
                summary=f"Unfreeze account {account['account_number']} (frozen by compliance)",
                hours=settings.approval_hours,
                entity_type="account",
                entity_id=account_id,
                note=body.reason,
            )
        return freezes.unfreeze(
            conn, account_id, by_customer=not staff, note=body.reason, actor_id=principal.id
        )

    row = database.write(unit)
    if "action" in row:
        return proposed_response(row)
    return Account.from_row(row, staff=_staff(principal))
