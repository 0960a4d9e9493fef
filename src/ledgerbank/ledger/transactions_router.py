"""The transactions API: deposits, withdrawals, transfers, batches, history, reversal, flags.

Every money-moving POST runs through `idempotency.run`: one database transaction that posts
and, with an `Idempotency-Key`, stores the response beside the posting. A posting blocked by
risk is committed (the blocked transaction is the record of the attempt) and answered 422
`blocked_by_risk`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel
from sqlalchemy import Connection, select

from ledgerbank import errors
from ledgerbank.identity import auth
from ledgerbank.identity.deps import DB, Principal, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit import metrics
from ledgerbank.kit.exports import CSV_MEDIA_TYPE
from ledgerbank.kit.http import PROBLEM, LedgerRoute, problem, problem_responses
from ledgerbank.kit.money import normalize_currency, to_decimal_string
from ledgerbank.kit.pagination import DEFAULT_LIMIT, Cursor, Limit
from ledgerbank.ledger import exports, flags, history, idempotency, policy, posting
from ledgerbank.ledger.idempotency import Outcome
from ledgerbank.ledger.schemas import (
    MAX_ID,
    Batch,
    BatchItem,
    BatchResult,
    Deposit,
    EndMoment,
    Flag,
    FlagRequest,
    ReverseRequest,
    StartMoment,
    Transaction,
    TransactionDetail,
    TransactionEntry,
    TransactionPage,
    Transfer,
    Withdrawal,
)
from ledgerbank.ledger.screening import Screen
from ledgerbank.ledger.tables import TRANSACTION_STATUSES, TRANSACTION_TYPES, accounts

router = APIRouter(prefix="/transactions", tags=["transactions"], route_class=LedgerRoute)

MoneyMove = Annotated[Principal, authorized(Permission.MONEY_MOVE_OWN)]
TransactionsRead = Annotated[
    Principal, authorized(Permission.TRANSACTIONS_READ_OWN, Permission.TRANSACTIONS_READ_ALL)
]
TransactionsReverse = Annotated[Principal, authorized(Permission.TRANSACTIONS_REVERSE)]
TransactionsFlag = Annotated[Principal, authorized(Permission.TRANSACTIONS_FLAG)]
TransactionId = Annotated[int, Path(ge=1, le=MAX_ID)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=idempotency.MAX_KEY_LENGTH,
        pattern=r"^[\x20-\x7e]+$",
        description="Replaying the same request with the same key answers the first response "
        "and posts nothing; the same key with another request answers 409.",
    ),
]

E = errors
SIGNED_IN = (E.NotAuthenticated, E.Forbidden)
# What any posting can answer besides its own specifics.
POSTING_ERRORS = (
    *SIGNED_IN,
    E.NotFound,
    E.InvalidAmount,
    E.AccountFrozen,
    E.AccountClosed,
    E.BlockedByRisk,
    E.IdempotencyConflict,
    E.Conflict,
)
PIN_ERRORS = (E.PinRequired, E.InvalidPin, E.PinLocked)
# A created transaction; also what a replay answers, with the header below.
MONEY_MOVED = {
    "headers": {
        "Idempotent-Replayed": {
            "description": "`true` when this is the stored answer to an earlier request",
            "schema": {"type": "string"},
        }
    }
}


# --- answering ---------------------------------------------------------------------------


def _respond(outcome: Outcome) -> JSONResponse:
    return JSONResponse(
        outcome.body,
        status_code=outcome.status,
        media_type=PROBLEM if outcome.status >= 400 else "application/json",
        headers={"Idempotent-Replayed": "true"} if outcome.replayed else None,
    )


def _problem_body(error: errors.LedgerbankError) -> dict[str, Any]:
    rendered = problem(error.status, error.code, error.title, error.detail, **error.extra)
    body: dict[str, Any] = json.loads(bytes(rendered.body))
    return body


def _blocked(result: posting.Posting) -> Outcome:
    """The 422 answering a posting that risk screening blocked (and that was recorded)."""
    blocked = result.transactions
    first = blocked[0]
    error = E.BlockedByRisk(
        f"transaction {first['id']} was blocked by risk screening and not posted",
        transaction_id=first["id"],
        transaction_ids=[t["id"] for t in blocked],
        risk=_risk_for_payer(first),
    )
    return Outcome(422, _problem_body(error), first["id"])


def _posted_one(result: posting.Posting) -> Outcome:
    if result.blocked:
        return _blocked(result)
    row = result.transaction
    view = Transaction.from_row(row, _risk_for_payer(row))
    return Outcome(201, view.model_dump(mode="json"), row["id"])


def _risk_for_payer(row: dict[str, Any]) -> dict[str, Any] | None:
    """Customers post from their own account: they read the reasons about it, not the payee's."""
    initiator = policy.initiating_account(row)
    return policy.risk_as_seen(row.get("risk"), row, set() if initiator is None else {initiator})


def _count(outcome: Outcome, counter: Any) -> Outcome:
    """Count what committed: postings (a batch says how many) and blocks; replays count nothing."""
    body = outcome.body
    if outcome.replayed:
        return outcome
    if outcome.status < 300:
        counter.inc(body.get("posted", 1))
        metrics.transactions_blocked.inc(body.get("blocked", 0))
    elif body.get("code") == E.BlockedByRisk.code:
        metrics.transactions_blocked.inc(len(body["transaction_ids"]))
    return outcome


def _move_money(
    request: Request,
    principal: Principal,
    database: DB,
    key: str | None,
    body: BaseModel,
    unit: Callable[[Connection], Outcome],
    counter: Any,
) -> JSONResponse:
    """Post through `unit` once per Idempotency-Key; money leaving an account needs the PIN."""
    settings = request.app.state.settings

    def check_pin() -> None:
        if isinstance(body, Withdrawal | Transfer | Batch):
            auth.check_pin(database, principal.id, body.pin, settings=settings)

    request_hash = idempotency.fingerprint(
        request.method, request.url.path, body.model_dump(mode="json", exclude={"pin"})
    )
    try:
        outcome = idempotency.run(
            database,
            unit,
            scope=idempotency.scope_of(principal.id),
            key=key,
            request_hash=request_hash,
            guard=check_pin,
        )
    except E.LedgerbankError as exc:
        metrics.postings_refused.labels(code=exc.code).inc()
        raise
    return _respond(_count(outcome, counter))


def _posting_args(request: Request, principal: Principal) -> dict[str, Any]:
    """What every customer posting is called with: who, the risk screen, the largest amount."""
    return {
        "actor_id": principal.id,
        "screen": _screen(request),
        "max_major": Decimal(request.app.state.settings.max_amount),
    }


def _screen(request: Request) -> Screen:
    screen: Screen = request.app.state.screen
    return screen


# --- money movements --------------------------------------------------------------------


@router.post(
    "/deposit",
    status_code=201,
    operation_id="transactions-deposit",
    summary="Deposit cash into one of the caller's accounts",
    response_model=Transaction,
    responses={201: MONEY_MOVED, **problem_responses(*POSTING_ERRORS)},
)
def deposit(
    request: Request, body: Deposit, principal: MoneyMove, database: DB, key: IdempotencyKey = None
) -> JSONResponse:
    common = _posting_args(request, principal)

    def unit(conn: Connection) -> Outcome:
        policy.require_own_accounts(conn, principal, body.account_id)
        return _posted_one(
            posting.deposit(
                conn,
                account_id=body.account_id,
                amount=body.amount,
                description=body.description,
                **common,
            )
        )

    return _move_money(request, principal, database, key, body, unit, metrics.deposits_posted)


@router.post(
    "/withdraw",
    status_code=201,
    operation_id="transactions-withdraw",
    summary="Withdraw cash from one of the caller's accounts",
    response_model=Transaction,
    responses={
        201: MONEY_MOVED,
        **problem_responses(*POSTING_ERRORS, *PIN_ERRORS, E.InsufficientFunds),
    },
)
def withdraw(
    request: Request,
    body: Withdrawal,
    principal: MoneyMove,
    database: DB,
    key: IdempotencyKey = None,
) -> JSONResponse:
    common = _posting_args(request, principal)

    def unit(conn: Connection) -> Outcome:
        policy.require_own_accounts(conn, principal, body.account_id)
        return _posted_one(
            posting.withdraw(
                conn,
                account_id=body.account_id,
                amount=body.amount,
                description=body.description,
                **common,
            )
        )

    return _move_money(request, principal, database, key, body, unit, metrics.withdrawals_posted)


@router.post(
    "/transfer",
    status_code=201,
    operation_id="transactions-transfer",
    summary="Transfer from one of the caller's accounts to any customer account",
    response_model=Transaction,
    responses={
        201: MONEY_MOVED,
        **problem_responses(
            *POSTING_ERRORS,
            *PIN_ERRORS,
            E.InsufficientFunds,
            E.CurrencyMismatch,
            E.SameAccount,
        ),
    },
)
def transfer(
    request: Request,
    body: Transfer,
    principal: MoneyMove,
    database: DB,
    key: IdempotencyKey = None,
) -> JSONResponse:
    common = _posting_args(request, principal)

    def unit(conn: Connection) -> Outcome:
        policy.require_own_accounts(conn, principal, body.from_account_id)
        return _posted_one(
            posting.transfer(
                conn,
                from_account_id=body.from_account_id,
                to_account_id=body.to_account_id,
                amount=body.amount,
                description=body.description,
                **common,
            )
        )

    return _move_money(request, principal, database, key, body, unit, metrics.transfers_posted)


@router.post(
    "/batch",
    status_code=201,
    operation_id="transactions-batch",
    summary="Several transfers: all or none (`atomic`, 201), or each on its own (200)",
    response_model=BatchResult,
    responses={
        201: MONEY_MOVED,
        200: {"model": BatchResult, "description": "`atomic: false`: a result per transfer"},
        **problem_responses(
            *POSTING_ERRORS,
            *PIN_ERRORS,
            E.InsufficientFunds,
            E.CurrencyMismatch,
            E.SameAccount,
        ),
    },
)
def batch(
    request: Request,
    body: Batch,
    principal: MoneyMove,
    database: DB,
    key: IdempotencyKey = None,
) -> JSONResponse:
    common = _posting_args(request, principal)

    def atomic(conn: Connection) -> Outcome:
        policy.require_own_accounts(conn, principal, *(t.from_account_id for t in body.transfers))
        orders = [
            posting.TransferOrder(t.from_account_id, t.to_account_id, t.amount, t.description)
            for t in body.transfers
        ]
        result = posting.transfer_batch(conn, orders, **common)
        if result.blocked:
            return _blocked(result)
        items = [
            BatchItem(
                index=i, status="posted", transaction=Transaction.from_row(t, _risk_for_payer(t))
            )
            for i, t in enumerate(result.transactions)
        ]
        answer = BatchResult(
            atomic=True,
            batch_id=result.transaction["batch_id"],
            posted=len(items),
            blocked=0,
            failed=0,
            items=items,
        )
        return Outcome(201, answer.model_dump(mode="json"), result.transaction["id"])

    def one_by_one(conn: Connection) -> Outcome:
        # Lock every account up front in id order, so the items cannot deadlock with others.
        ids = sorted({i for t in body.transfers for i in (t.from_account_id, t.to_account_id)})
        conn.execute(select(accounts.c.id).where(accounts.c.id.in_(ids)).with_for_update())
        items = []
        for index, order in enumerate(body.transfers):
            try:
                with conn.begin_nested():  # a refused item leaves no trace
                    policy.require_own_accounts(conn, principal, order.from_account_id)
                    result = posting.transfer(
                        conn,
                        from_account_id=order.from_account_id,
                        to_account_id=order.to_account_id,
                        amount=order.amount,
                        description=order.description,
                        **common,
                    )
            except E.LedgerbankError as exc:
                items.append(BatchItem(index=index, status="failed", error=_problem_body(exc)))
                continue
            row = result.transaction
            items.append(
                BatchItem(
                    index=index,
                    status="blocked" if result.blocked else "posted",
                    transaction=Transaction.from_row(row, _risk_for_payer(row)),
                )
            )
        answer = BatchResult(
            atomic=False,
            batch_id=None,
            posted=sum(item.status == "posted" for item in items),
            blocked=sum(item.status == "blocked" for item in items),
            failed=sum(item.status == "failed" for item in items),
            items=items,
        )
        return Outcome(200, answer.model_dump(mode="json"))

    unit = atomic if body.atomic else one_by_one
    return _move_money(request, principal, database, key, body, unit, metrics.transfers_posted)


# --- reading ----------------------------------------------------------------------------


@router.get(
    "/history",
    operation_id="transactions-history",
    summary="Transactions the caller may see: filtered, sorted, paged; or all of them as CSV",
    response_model=TransactionPage,
    responses={
        **problem_responses(*SIGNED_IN, E.UnknownCurrency),
        200: {"content": {"application/json": {}, CSV_MEDIA_TYPE: {"schema": {"type": "string"}}}},
    },
)
def transaction_history(
    principal: TransactionsRead,
    database: DB,
    account_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    type: Annotated[Literal[TRANSACTION_TYPES] | None, Query()] = None,  # type: ignore[valid-type]
    status: Annotated[Literal[TRANSACTION_STATUSES] | None, Query()] = None,  # type: ignore[valid-type]
    currency: Annotated[str | None, Query(min_length=3, max_length=3)] = None,
    min_amount: Annotated[Decimal | None, Query(ge=0, description="major units")] = None,
    max_amount: Annotated[Decimal | None, Query(ge=0, description="major units")] = None,
    start: Annotated[StartMoment | None, Query(alias="from")] = None,
    end: Annotated[EndMoment | None, Query(alias="to")] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="text in the description, or an id")
    ] = None,
    sort: Literal[history.SORTS] = "-created_at",  # type: ignore[valid-type]
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    format: Literal["json", "csv"] = "json",
) -> TransactionPage | Response:
    filters = history.HistoryFilter(
        account_id=account_id,
        type=type,
        status=status,
        currency=normalize_currency(currency) if currency else None,
        min_amount=min_amount,
        max_amount=max_amount,
        start=start,
        end=end,
        q=q,
        sort=sort,
    )
    visible = policy.transactions_visible_to(principal)
    if format == "csv":
        every = history.iter_history(database, visible, filters)
        lines = exports.transactions_csv(Transaction.from_row(row, None) for row in every)
        return StreamingResponse(
            lines,
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": 'attachment; filename="transactions.csv"'},
        )
    with database.read() as conn:
        rows, next_cursor = history.history_page(conn, visible, filters, limit=limit, cursor=cursor)
        risks = history.recorded_risks(conn, [row["id"] for row in rows])
        own = policy.own_accounts(conn, principal)
    return TransactionPage(
        items=[
            Transaction.from_row(row, policy.risk_as_seen(risks.get(row["id"]), row, own))
            for row in rows
        ],
        next_cursor=next_cursor,
    )


@router.get(
    "/{transaction_id}",
    operation_id="transactions-get",
    summary="One transaction with its entries and its risk assessment",
    responses=problem_responses(*SIGNED_IN, E.NotFound),
)
def get_transaction(
    transaction_id: TransactionId, principal: TransactionsRead, database: DB
) -> TransactionDetail:
    staff = policy.sees_all_transactions(principal)
    with database.read() as conn:
        row = policy.visible_transaction(conn, principal, transaction_id)
        legs = history.legs_of(conn, transaction_id)
        reversed_by = history.reversal_of(conn, transaction_id)
        risk = policy.risk_as_seen(
            history.recorded_risks(conn, [transaction_id]).get(transaction_id),
            row,
            policy.own_accounts(conn, principal),
        )
        flagged = flags.flags_of(conn, transaction_id) if staff else None
    entry_views = [
        TransactionEntry(
            account_id=leg["account_id"],
            amount=to_decimal_string(int(leg["amount"]), leg["currency"]),
            currency=leg["currency"],
            balance_after=None
            if leg["balance_after"] is None
            or not policy.sees_balance_of(principal, leg["owner_id"])
            else to_decimal_string(int(leg["balance_after"]), leg["currency"]),
            posted_at=leg["posted_at"],
        )
        for leg in legs
    ]
    return TransactionDetail(
        **Transaction.from_row(row, risk).model_dump(),
        entries=entry_views,
        reversed_by_id=reversed_by,
        flags=None if flagged is None else [Flag.model_validate(dict(f)) for f in flagged],
    )


# --- staff actions ----------------------------------------------------------------------


@router.post(
    "/{transaction_id}/reverse",
    status_code=201,
    operation_id="transactions-reverse",
    summary="Post the reversing transaction of a posted one (admin)",
    response_model=Transaction,
    responses={
        201: MONEY_MOVED,
        **problem_responses(
            *SIGNED_IN,
            E.NotFound,
            E.NotReversible,
            E.AccountClosed,
            E.InsufficientFunds,
            E.IdempotencyConflict,
            E.Conflict,
        ),
    },
)
def reverse_transaction(
    request: Request,
    transaction_id: TransactionId,
    body: ReverseRequest,
    principal: TransactionsReverse,
    database: DB,
    key: IdempotencyKey = None,
) -> JSONResponse:
    def unit(conn: Connection) -> Outcome:
        return _posted_one(
            posting.reverse(conn, transaction_id, reason=body.reason, actor_id=principal.id)
        )

    return _move_money(request, principal, database, key, body, unit, metrics.reversals_posted)


@router.post(
    "/{transaction_id}/flag",
    status_code=201,
    operation_id="transactions-flag",
    summary="Flag a transaction for review (recorded, with the reason, in the audit trail)",
    responses=problem_responses(*SIGNED_IN, E.NotFound),
)
def flag_transaction(
    transaction_id: TransactionId, body: FlagRequest, principal: TransactionsFlag, database: DB
) -> Flag:
    row = database.write(
        lambda conn: flags.flag_transaction(
            conn, transaction_id, reason=body.reason, actor_id=principal.id
        )
    )
    return Flag.model_validate(dict(row))
