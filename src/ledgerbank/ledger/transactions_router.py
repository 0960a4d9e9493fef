"""The transactions API: deposits, withdrawals, transfers, batches, history, reversal, flags.

A money-moving route only parses the request, checks the token's role, hands an order to the
money service (`ledger.money`: caller state, PIN, KYC, limits, idempotency, locks, risk screen
and write in one database transaction, shared with concurrent requests) and renders its
answer. A payment blocked by risk is committed (the blocked transaction is the record of the
attempt) and answered 422: `payment_declined` to a customer, `blocked_by_risk` to staff.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from ledgerbank import errors
from ledgerbank.approvals.schemas import ApprovalProposed, proposed_response
from ledgerbank.identity.deps import DB, Principal, authorized, token_holder
from ledgerbank.identity.permissions import Permission, allows
from ledgerbank.identity.tokens import TokenClaims
from ledgerbank.kit import context, metrics
from ledgerbank.kit.db import Database
from ledgerbank.kit.exports import CSV_MEDIA_TYPE
from ledgerbank.kit.http import PROBLEM, LedgerRoute, problem_responses
from ledgerbank.kit.money import normalize_currency, to_decimal_string
from ledgerbank.kit.pagination import DEFAULT_LIMIT, Cursor, Limit
from ledgerbank.ledger import (
    approval_actions,
    exports,
    flags,
    history,
    idempotency,
    orders,
    parties,
    policy,
    posting,
    statements,
)
from ledgerbank.ledger.exchange import Exchange as ExchangeOrder
from ledgerbank.ledger.money import Answer, Caller, MoneyRequest, MoneyService, Order
from ledgerbank.ledger.schemas import (
    MAX_ID,
    Batch,
    BatchResult,
    Deposit,
    EndMoment,
    Exchange,
    ExchangeResult,
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
from ledgerbank.ledger.screening import StoredScores
from ledgerbank.ledger.tables import TRANSACTION_STATUSES, TRANSACTION_TYPES

router = APIRouter(prefix="/transactions", tags=["transactions"], route_class=LedgerRoute)

MoneyMove = Annotated[TokenClaims, token_holder(Permission.MONEY_MOVE_OWN)]
Depositor = Annotated[
    TokenClaims, token_holder(Permission.MONEY_MOVE_OWN, Permission.MONEY_DEPOSIT_ANY)
]
Reverser = Annotated[TokenClaims, token_holder(Permission.TRANSACTIONS_REVERSE)]
TransactionsRead = Annotated[
    Principal, authorized(Permission.TRANSACTIONS_READ_OWN, Permission.TRANSACTIONS_READ_ALL)
]
TransactionsFlag = Annotated[Principal, authorized(Permission.TRANSACTIONS_FLAG)]
TransactionId = Annotated[int, Path(ge=1, le=MAX_ID)]


def _stored_scores(request: Request) -> StoredScores:
    found: StoredScores = request.app.state.stored_scores
    return found


Scores = Annotated[StoredScores, Depends(_stored_scores)]
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
# What only a customer's own payment can answer: KYC tiers, daily limits, a declined payment.
CUSTOMER_ERRORS = (E.KycRequired, E.KycRejected, E.LimitExceeded, E.PaymentDeclined)
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


def _respond(request: Request, answer: Answer) -> Response:
    body = answer.body
    if answer.status >= 400 and "request_id" not in body:
        request_id = context.request_id.get()
        body = body if request_id is None else {**body, "request_id": request_id}
    return Response(
        orjson.dumps(body),
        status_code=answer.status,
        media_type=PROBLEM if answer.status >= 400 else "application/json",
        headers={"Idempotent-Replayed": "true"} if answer.replayed else None,
    )


def _count(answer: Answer, counter: Any) -> None:
    """Count what committed: postings (a batch says how many) and blocks; replays nothing."""
    if answer.replayed:
        return
    body = answer.body
    if answer.status < 300:
        counter.inc(body.get("posted", 1))
        metrics.transactions_blocked.inc(body.get("blocked", 0))
    elif answer.code in (E.BlockedByRisk.code, E.PaymentDeclined.code):
        metrics.transactions_blocked.inc(len(body.get("transaction_ids", [1])))
    elif answer.code is not None:
        metrics.postings_refused.labels(code=answer.code).inc()


async def _move_money(
    request: Request,
    claims: TokenClaims,
    order: Order,
    body: BaseModel,
    key: str | None,
    counter: Any,
) -> Response:
    """Hand the order to the money service (one transaction, maybe shared) and answer."""
    money: MoneyService = request.app.state.money
    answer = await money.run_async(
        MoneyRequest(
            caller=Caller(claims.user_id, claims.role, claims.version, token_id=claims.jti),
            order=order,
            pin=getattr(body, "pin", None),
            key=key,
            fingerprint=idempotency.fingerprint(
                request.method, request.url.path, body.model_dump(mode="json", exclude={"pin"})
            ),
        )
    )
    _count(answer, counter)
    return _respond(request, answer)


# --- money movements --------------------------------------------------------------------


@router.post(
    "/deposit",
    status_code=201,
    operation_id="transactions-deposit",
    summary="Deposit cash into one of the caller's accounts (staff: into a customer's account)",
    response_model=Transaction,
    responses={
        201: MONEY_MOVED,
        **problem_responses(*POSTING_ERRORS, *CUSTOMER_ERRORS),
    },
)
async def deposit(
    request: Request, body: Deposit, claims: Depositor, key: IdempotencyKey = None
) -> Response:
    """A customer's self-service cash deposit counts toward their daily deposit limit (a
    customer whose KYC is pending has a small one). Staff with `money:deposit_any` pay cash
    in for any customer; that is audited under their name."""
    order = orders.Deposit(
        body.account_id,
        body.amount,
        body.description,
        on_behalf=not allows(claims.role, Permission.MONEY_MOVE_OWN),
    )
    return await _move_money(request, claims, order, body, key, metrics.deposits_posted)


@router.post(
    "/withdraw",
    status_code=201,
    operation_id="transactions-withdraw",
    summary="Withdraw cash from one of the caller's accounts",
    response_model=Transaction,
    responses={
        201: MONEY_MOVED,
        **problem_responses(*POSTING_ERRORS, *CUSTOMER_ERRORS, *PIN_ERRORS, E.InsufficientFunds),
    },
)
async def withdraw(
    request: Request, body: Withdrawal, claims: MoneyMove, key: IdempotencyKey = None
) -> Response:
    order = orders.Withdrawal(body.account_id, body.amount, body.description)
    return await _move_money(request, claims, order, body, key, metrics.withdrawals_posted)


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
            *CUSTOMER_ERRORS,
            *PIN_ERRORS,
            E.InsufficientFunds,
            E.CurrencyMismatch,
            E.SameAccount,
        ),
    },
)
async def transfer(
    request: Request, body: Transfer, claims: MoneyMove, key: IdempotencyKey = None
) -> Response:
    order = orders.Transfer(body.from_account_id, body.to_account_id, body.amount, body.description)
    return await _move_money(request, claims, order, body, key, metrics.transfers_posted)


@router.post(
    "/exchange",
    status_code=201,
    operation_id="transactions-exchange",
    summary="Exchange between two of the caller's accounts in different currencies at the rate "
    "in force; the answer shows the rate, both amounts and the fee",
    response_model=ExchangeResult,
    responses={
        201: MONEY_MOVED,
        **problem_responses(
            *POSTING_ERRORS,
            *CUSTOMER_ERRORS,
            *PIN_ERRORS,
            E.InsufficientFunds,
            E.SameAccount,
            E.SameCurrency,
            E.NoRateInForce,
        ),
    },
)
async def exchange(
    request: Request, body: Exchange, claims: MoneyMove, key: IdempotencyKey = None
) -> Response:
    order = ExchangeOrder(body.from_account_id, body.to_account_id, body.amount, body.description)
    return await _move_money(request, claims, order, body, key, metrics.transfers_posted)


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
            *CUSTOMER_ERRORS,
            *PIN_ERRORS,
            E.InsufficientFunds,
            E.CurrencyMismatch,
            E.SameAccount,
        ),
    },
)
async def batch(
    request: Request, body: Batch, claims: MoneyMove, key: IdempotencyKey = None
) -> Response:
    order = orders.Batch(
        tuple(
            posting.TransferOrder(t.from_account_id, t.to_account_id, t.amount, t.description)
            for t in body.transfers
        ),
        atomic=body.atomic,
    )
    return await _move_money(request, claims, order, body, key, metrics.transfers_posted)


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
    stored: Scores,
    account_id: Annotated[
        int | None,
        Query(
            ge=1,
            le=MAX_ID,
            description="that account's transactions, each with the account's own amount, "
            "currency and balance after it (an exchange's side in its own currency)",
        ),
    ] = None,
    type: Annotated[Literal[TRANSACTION_TYPES] | None, Query()] = None,  # type: ignore[valid-type]
    status: Annotated[Literal[TRANSACTION_STATUSES] | None, Query()] = None,  # type: ignore[valid-type]
    currency: Annotated[str | None, Query(min_length=3, max_length=3)] = None,
    min_amount: Annotated[Decimal | None, Query(ge=0, description="major units")] = None,
    max_amount: Annotated[Decimal | None, Query(ge=0, description="major units")] = None,
    start: Annotated[StartMoment | None, Query(alias="from")] = None,
    end: Annotated[EndMoment | None, Query(alias="to")] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="text in the description, an id, or the other party: a name or an "
            "account number's last digits, as the caller reads them (a customer: first name, "
            "last initial, last four digits)",
        ),
    ] = None,
    sort: Literal[history.SORTS] = "-created_at",  # type: ignore[valid-type]
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    format: Literal["json", "csv"] = "json",
) -> TransactionPage | Response:
    staff = policy.sees_all_transactions(principal)
    viewer = None if staff else principal.id
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
        viewer_id=viewer,
    )
    visible = policy.transactions_visible_to(principal)
    if format == "csv":
        chunks = history.iter_history_chunks(database, visible, filters)
        lines = exports.transactions_csv(
            _exported(database, chunks, principal, account_id),
            staff=staff,
        )
        return StreamingResponse(
            lines,
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": 'attachment; filename="transactions.csv"'},
        )
    with database.read() as conn:
        rows, next_cursor = history.history_page(conn, visible, filters, limit=limit, cursor=cursor)
        ids = [row["id"] for row in rows]
        risks = history.recorded_risks(conn, ids, stored)
        own = policy.own_accounts(conn, principal)
        named = parties.parties_of(conn, _account_ids(rows), viewer_id=viewer)
        sides = _own_sides(conn, rows, account_id, own)
    items = []
    for row in rows:
        side = sides.get(row["id"])
        seen = _on_side(row, side)
        items.append(
            Transaction.from_row(
                policy.as_seen(seen, staff=staff),
                policy.risk_as_seen(risks.get(row["id"]), row, own),
            ).model_copy(
                update={
                    **parties.sides(named, row),
                    "balance_after": None
                    if side is None or account_id is None
                    else _money_or_none(side.balance_after, side.currency),
                }
            )
        )
    return TransactionPage(items=items, next_cursor=next_cursor)


def _own_sides(
    conn: Connection, rows: list[dict[str, Any]], account_id: int | None, own: set[int] | None
) -> dict[int, statements.Side]:
    """The side of each transaction the list shows, as statements show it: with `account_id`
    (staff, or one of the customer's own), that account's side; for a customer's whole list,
    the receiving side when only that account is theirs. Else the transaction as it is."""
    if account_id is not None:
        if own is not None and account_id not in own:
            return {}
        wanted = [(int(row["id"]), account_id) for row in rows]
    elif own is not None:
        wanted = [
            (int(row["id"]), int(row["to_account_id"]))
            for row in rows
            if row["from_account_id"] not in own and row["to_account_id"] in own
        ]
    else:
        return {}
    return {t: side for (t, _), side in statements.sides(conn, wanted).items()}


def _on_side(row: Mapping[str, Any], side: statements.Side | None) -> dict[str, Any]:
    """The row with its amount and currency as that side reads them (an exchange's EUR side
    shows its EUR, not the USD it was bought with)."""
    if side is None:
        return dict(row)
    return {**row, "amount": abs(side.amount), "currency": side.currency}


def _account_ids(rows: Iterable[Mapping[Any, Any]]) -> list[int | None]:
    return [i for row in rows for i in (row["from_account_id"], row["to_account_id"])]


def _money_or_none(minor: int | None, currency: str) -> str | None:
    return None if minor is None else to_decimal_string(minor, currency)


def _exported(
    database: Database,
    chunks: Iterable[list[dict[str, Any]]],
    principal: Principal,
    account_id: int | None,
) -> Iterator[Transaction]:
    """The export's transactions, each with the names of its sides and the amount of the side
    the list shows (read a chunk at a time)."""
    staff = policy.sees_all_transactions(principal)
    viewer = None if staff else principal.id
    for rows in chunks:
        with database.read() as conn:
            named = parties.parties_of(conn, _account_ids(rows), viewer_id=viewer)
            sides = _own_sides(conn, rows, account_id, policy.own_accounts(conn, principal))
        for row in rows:
            seen = _on_side(row, sides.get(row["id"]))
            yield Transaction.from_row(policy.as_seen(seen, staff=staff), None).model_copy(
                update=parties.sides(named, row)
            )


@router.get(
    "/{transaction_id}",
    operation_id="transactions-get",
    summary="One transaction with its entries and its risk assessment",
    responses=problem_responses(*SIGNED_IN, E.NotFound),
)
def get_transaction(
    transaction_id: TransactionId, principal: TransactionsRead, database: DB, stored: Scores
) -> TransactionDetail:
    staff = policy.sees_all_transactions(principal)
    with database.read() as conn:
        row = policy.visible_transaction(conn, principal, transaction_id)
        legs = history.legs_of(conn, transaction_id)
        reversed_by = history.reversal_of(conn, transaction_id)
        risk = policy.risk_as_seen(
            history.recorded_risks(conn, [transaction_id], stored).get(transaction_id),
            row,
            policy.own_accounts(conn, principal),
        )
        flagged = flags.flags_of(conn, transaction_id) if staff else None
        named = parties.parties_of(
            conn,
            [*_account_ids([row]), *(leg["account_id"] for leg in legs)],
            viewer_id=None if staff else principal.id,
        )
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
            party=named.get(int(leg["account_id"])),
        )
        for leg in legs
    ]
    return TransactionDetail(
        **Transaction.from_row(policy.as_seen(row, staff=staff), risk)
        .model_copy(update=parties.sides(named, row))
        .model_dump(),
        entries=entry_views,
        reversed_by_id=reversed_by,
        flags=None if flagged is None else [Flag.model_validate(dict(f)) for f in flagged],
    )


# --- staff actions ----------------------------------------------------------------------


@router.post(
    "/{transaction_id}/reverse",
    status_code=201,
    operation_id="transactions-reverse",
    summary="Post the reversing transaction of a posted one and of its linked fees (admin; "
    "above a threshold: 202)",
    response_model=Transaction,
    responses={
        201: MONEY_MOVED,
        202: {"model": ApprovalProposed, "description": "a large reversal: proposed"},
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
async def reverse_transaction(
    request: Request,
    transaction_id: TransactionId,
    body: ReverseRequest,
    claims: Reverser,
    key: IdempotencyKey = None,
) -> Response:
    settings = request.app.state.settings
    database: Database = request.app.state.db
    large = await run_in_threadpool(  # four eyes (trust): a large reversal waits for a second admin
        database.write,
        lambda conn: approval_actions.propose_large_reversal(
            conn,
            transaction_id,
            reason=body.reason,
            proposer=claims,
            above=settings.approval_reversal_above,
            hours=settings.approval_hours,
        ),
    )
    if large is not None:
        return proposed_response(large)
    order = orders.Reversal(transaction_id, body.reason)
    return await _move_money(request, claims, order, body, key, metrics.reversals_posted)


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
