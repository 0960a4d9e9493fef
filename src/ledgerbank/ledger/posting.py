"""The posting engine: every money movement is one balanced journal transaction.

A posting locks the customer accounts it touches in ascending id order, checks status and
funds, asks the risk screen, then writes the transaction, its entries (each with the
account's `balance_after`), the new balances and the audit record, all in the caller's
database transaction. Internal accounts (cash vault, fee income) are never locked or updated:
their balances are derived from their entries, so no posting waits on them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    RowMapping,
    Table,
    Update,
    bindparam,
    case,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.audit.tables import audit_log
from ledgerbank.kit.clock import as_utc, utcnow
from ledgerbank.kit.money import DEFAULT_MAX_MAJOR, to_decimal_string, to_minor
from ledgerbank.ledger.accounts import internal_account_id
from ledgerbank.ledger.screening import (
    NO_SCREEN,
    AccountState,
    Assessment,
    Proposal,
    Screen,
    Screened,
    Verdict,
)
from ledgerbank.ledger.tables import accounts, entries, transactions

RawAmount = str | int | Decimal


@dataclass(frozen=True)
class Leg:
    """One side of a posting: a signed amount (credit positive) on an account."""

    account_id: int
    amount: int


@dataclass
class Movement:
    """A movement ready to be written: its header fields and its balanced legs."""

    type: str
    amount: int
    currency: str
    legs: list[Leg]
    from_account_id: int | None = None
    to_account_id: int | None = None
    description: str | None = None
    reverses_id: int | None = None
    external_id: str | None = None
    proposal: Proposal | None = None
    assessment: Assessment = field(default_factory=lambda: Assessment(0.0, Verdict.SAFE))


@dataclass(frozen=True)
class Posting:
    """The outcome of a posting call: the transactions written and whether risk blocked them."""

    transactions: list[dict[str, Any]]
    blocked: bool = False

    @property
    def transaction(self) -> dict[str, Any]:
        return self.transactions[0]


@dataclass(frozen=True)
class TransferOrder:
    from_account_id: int
    to_account_id: int
    amount: RawAmount
    description: str | None = None


@dataclass
class _Context:
    """Everything shared by the movements of one posting call."""

    conn: Connection
    actor_id: int | None
    screen: Screen
    now: datetime
    occurred_at: datetime
    is_import: bool
    max_major: Decimal
    batch_id: str | None = None
    locked: dict[int, AccountState] = field(default_factory=dict)
    balances: dict[int, int] = field(default_factory=dict)
    limits: dict[int, int] = field(default_factory=dict)


def _context(
    conn: Connection,
    *,
    actor_id: int | None,
    screen: Screen,
    occurred_at: datetime | None,
    max_major: Decimal,
) -> _Context:
    now = utcnow()
    return _Context(
        conn=conn,
        actor_id=actor_id,
        screen=screen,
        now=now,
        occurred_at=occurred_at or now,
        is_import=occurred_at is not None,
        max_major=max_major,
    )


def lock_accounts(ctx: _Context, account_ids: Iterable[int], *, customer_only: bool) -> None:
    """Lock customer accounts in ascending id order (one statement) and remember their state.

    With `customer_only=False` (journal postings, reversals) the bank's internal accounts may
    take part too: they are read, never locked, since their balances derive from entries.
    """
    wanted = sorted({i for i in account_ids if i not in ctx.locked})
    if not wanted:
        return
    if not customer_only:
        kinds = select(accounts).where(accounts.c.id.in_(wanted))
        for row in ctx.conn.execute(kinds).mappings():
            if row["is_internal"]:
                ctx.locked[row["id"]] = _state(row)
        wanted = [i for i in wanted if i not in ctx.locked]
        if not wanted:
            return
    query = select(accounts).where(accounts.c.id.in_(wanted)).order_by(accounts.c.id)
    rows = {row["id"]: row for row in ctx.conn.execute(query.with_for_update()).mappings()}
    for account_id in wanted:
        found = rows.get(account_id)
        if found is None or found["is_internal"]:
            raise errors.NotFound(f"account {account_id} not found", account_id=account_id)
        ctx.locked[account_id] = _state(found)
        ctx.balances[account_id] = int(found["balance"])
        ctx.limits[account_id] = int(found["overdraft_limit"])


def _state(row: RowMapping) -> AccountState:
    return AccountState(
        id=row["id"],
        owner_id=row["owner_id"],
        account_type=row["account_type"],
        currency=row["currency"],
        balance=int(row["balance"]),
        status=row["status"],
        is_internal=bool(row["is_internal"]),
        created_at=row["created_at"],
    )


def _require_open(account: AccountState, *, allow_frozen: bool = False) -> None:
    if account.status == "closed":
        raise errors.AccountClosed(f"account {account.id} is closed", account_id=account.id)
    if account.status == "frozen" and not allow_frozen:
        raise errors.AccountFrozen(f"account {account.id} is frozen", account_id=account.id)


def _apply_legs(ctx: _Context, legs: Sequence[Leg]) -> None:
    """Move the in-memory balances, refusing any customer account that would go below limit."""
    running: dict[int, int] = {}  # several legs may hit one account (a journal posting)
    for leg in legs:
        state = ctx.locked.get(leg.account_id)
        if state is None or state.is_internal:
            continue
        before = running.get(leg.account_id, ctx.balances[leg.account_id])
        running[leg.account_id] = new_balance = before + leg.amount
        if new_balance + ctx.limits[leg.account_id] < 0:
            available = to_decimal_string(before + ctx.limits[leg.account_id], state.currency)
            raise errors.InsufficientFunds(
                f"account {leg.account_id} has {available} {state.currency} available",
                account_id=leg.account_id,
            )
    for leg in legs:
        if leg.account_id in ctx.balances and not ctx.locked[leg.account_id].is_internal:
            ctx.balances[leg.account_id] += leg.amount


def _movement(
    ctx: _Context,
    *,
    type: str,
    source_id: int | None,
    destination_id: int | None,
    amount: RawAmount,
    description: str | None,
    external_id: str | None = None,
) -> Movement:
    """Check one customer movement against the locked accounts and build its legs."""
    if source_id is not None and source_id == destination_id:
        raise errors.SameAccount("cannot transfer to the same account")
    source = ctx.locked[source_id] if source_id is not None else None
    destination = ctx.locked[destination_id] if destination_id is not None else None
    if source and destination and source.currency != destination.currency:
        raise errors.CurrencyMismatch(
            f"account {source.id} holds {source.currency}, account {destination.id} holds "
            f"{destination.currency}"
        )
    currency = (source or destination).currency  # type: ignore[union-attr]
    minor = to_minor(amount, currency, max_major=ctx.max_major)
    for account in (source, destination):
        if account is not None:
            _require_open(account)
    debit, credit = source_id, destination_id
    if debit is None or credit is None:  # cash in or out: the vault is the other side
        vault = internal_account_id(ctx.conn, currency, "cash_vault")
        debit, credit = (debit or vault), (credit or vault)
    legs = [Leg(debit, -minor), Leg(credit, minor)]
    proposal = Proposal(
        type=type,
        amount=minor,
        currency=currency,
        source=source,
        destination=destination,
        occurred_at=ctx.occurred_at,
        description=description,
        is_import=ctx.is_import,
        initiated_by=ctx.actor_id,
    )
    return Movement(
        type=type,
        amount=minor,
        currency=currency,
        legs=legs,
        from_account_id=source_id,
        to_account_id=destination_id,
        description=description,
        external_id=external_id,
        proposal=proposal,
    )


def _refuse_back_dating(ctx: _Context) -> None:
    """A posting dated in the past may not land before an entry its accounts already have.

    Each entry's `balance_after` follows the entries before it in posting order, so an entry
    dated earlier would make point-in-time balances and statements wrong. The accounts are
    locked, so no entry can appear behind this check.
    """
    customer = [i for i, state in ctx.locked.items() if not state.is_internal]
    latest = ctx.conn.execute(
        select(func.max(entries.c.posted_at)).where(entries.c.account_id.in_(customer))
    ).scalar()
    if latest is not None and as_utc(ctx.occurred_at) < latest:
        raise errors.ValidationFailed(
            f"occurred_at {as_utc(ctx.occurred_at).isoformat()} is earlier than the latest "
            f"entry of the accounts ({latest.isoformat()}): history must be posted in time order"
        )


def _screen_and_write(ctx: _Context, movements: list[Movement]) -> Posting:
    """Assess, then either write every movement or record the blocked ones and nothing else."""
    if ctx.is_import:
        _refuse_back_dating(ctx)
    proposals = [m.proposal for m in movements if m.proposal is not None]
    assessments = ctx.screen.assess(ctx.conn, proposals) if proposals else []
    scored = [m for m in movements if m.proposal is not None]
    for movement, assessment in zip(scored, assessments, strict=True):
        movement.assessment = assessment
    blocked = [m for m in scored if m.assessment.blocks and not ctx.is_import]
    if blocked:
        return Posting(_write(ctx, blocked, status="blocked"), blocked=True)
    return Posting(_write(ctx, movements, status="posted"))


def _write(ctx: _Context, movements: list[Movement], *, status: str) -> list[dict[str, Any]]:
    """Insert the transactions, their entries, the new balances and the audit records."""
    conn = ctx.conn
    headers = [
        {
            "type": m.type,
            "status": status,
            "amount": m.amount,
            "currency": m.currency,
            "from_account_id": m.from_account_id,
            "to_account_id": m.to_account_id,
            "description": m.description,
            "reverses_id": m.reverses_id,
            "external_id": m.external_id,
            "batch_id": ctx.batch_id,
            "initiated_by": ctx.actor_id,
            "created_at": ctx.occurred_at,
        }
        for m in movements
    ]
    try:
        ids = _insert_returning_ids(conn, headers)
    except IntegrityError as exc:
        # A retry of a posting already made (an import row, a bank's wire reference).
        given = [h["external_id"] for h in headers if h["external_id"] is not None]
        if not given or "external_id" not in str(exc.orig):
            raise
        raise errors.Conflict(
            f"a transaction with external_id {given[0]!r} is already posted",
            external_id=given[0],
        ) from None
    rows: list[dict[str, Any]] = [{"id": i, **h} for i, h in zip(ids, headers, strict=True)]
    if status == "posted":
        _write_entries(ctx, movements, ids)
    insert_rows(
        conn,
        audit_log,
        [
            audit.prepare(
                actor_id=ctx.actor_id,
                action=f"transaction.{'blocked' if status == 'blocked' else m.type}",
                entity_type="transaction",
                entity_id=row["id"],
                after=_audit_view(row, m),
                at=ctx.now,
            )
            for row, m in zip(rows, movements, strict=True)
        ],
    )
    screened = [
        Screened(row["id"], m.proposal, m.assessment, posted=status == "posted")
        for row, m in zip(rows, movements, strict=True)
        if m.proposal is not None
    ]
    if screened:
        ctx.screen.record(conn, screened)
    for row, m in zip(rows, movements, strict=True):
        row["risk"] = m.assessment.as_dict()
    return rows


def _insert_returning_ids(conn: Connection, headers: list[dict[str, Any]]) -> list[int]:
    if len(headers) == 1 or not conn.dialect.insert_executemany_returning_sort_by_parameter_order:
        return [
            int(conn.execute(insert(transactions), h).inserted_primary_key[0])  # type: ignore[index]
            for h in headers
        ]
    result = conn.execute(
        insert(transactions).returning(transactions.c.id, sort_by_parameter_order=True), headers
    )
    return [int(i) for i in result.scalars()]


def _write_entries(ctx: _Context, movements: list[Movement], ids: list[int]) -> None:
    """Entries in posting order with running balances; one balance update per account."""
    running = {i: ctx.balances[i] for i in ctx.balances}
    for movement in reversed(movements):  # unwind to the balances before this call
        for leg in movement.legs:
            if leg.account_id in running:
                running[leg.account_id] -= leg.amount
    rows = []
    for movement, transaction_id in zip(movements, ids, strict=True):
        for leg in movement.legs:
            balance_after = None
            if leg.account_id in running and not ctx.locked[leg.account_id].is_internal:
                running[leg.account_id] += leg.amount
                balance_after = running[leg.account_id]
            rows.append(
                {
                    "transaction_id": transaction_id,
                    "account_id": leg.account_id,
                    "amount": leg.amount,
                    "currency": movement.currency,
                    "balance_after": balance_after,
                    "posted_at": ctx.occurred_at,
                }
            )
    insert_rows(ctx.conn, entries, rows)
    touched = sorted({leg.account_id for m in movements for leg in m.legs})
    customer = [i for i in touched if i in ctx.balances and not ctx.locked[i].is_internal]
    if customer:
        # One statement for every balance: the rows are locked, so the new values are exact.
        params: dict[str, Any] = {"now": ctx.now}
        for index, account_id in enumerate(customer):
            params[f"id_{index}"] = account_id
            params[f"balance_{index}"] = ctx.balances[account_id]
        ctx.conn.execute(_balance_update(len(customer)), params)


@lru_cache(maxsize=64)
def _balance_update(count: int) -> Update:
    """UPDATE accounts SET balance = CASE id WHEN :id_0 THEN :balance_0 ... END, built once
    per number of accounts so that SQLAlchemy compiles it once."""
    ids = [bindparam(f"id_{i}", type_=BigInteger()) for i in range(count)]
    new_balance = case(
        *[
            (accounts.c.id == ids[i], bindparam(f"balance_{i}", type_=BigInteger()))
            for i in range(count)
        ]
    )
    return (
        update(accounts)
        .where(accounts.c.id.in_(ids))
        .values(balance=new_balance, updated_at=bindparam("now", type_=accounts.c.updated_at.type))
    )


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert rows in one round trip where the driver allows it.

    With RETURNING, SQLAlchemy batches an executemany into multi-row VALUES statements
    ("insertmanyvalues") and still caches the compiled statement; PyMySQL batches plain
    executemany INSERTs itself.
    """
    if len(rows) == 1:
        conn.execute(insert(table), rows[0])
    elif conn.dialect.insert_executemany_returning:
        conn.execute(insert(table).returning(table.c.id), rows)
    elif rows:
        conn.execute(insert(table), rows)


def _audit_view(row: dict[str, Any], movement: Movement) -> dict[str, Any]:
    view = {
        key: row[key]
        for key in ("type", "status", "amount", "currency", "from_account_id", "to_account_id")
    }
    view["legs"] = [[leg.account_id, leg.amount] for leg in movement.legs]
    if movement.proposal is not None:
        view["risk"] = movement.assessment.as_dict()
    if row["reverses_id"] is not None:
        view["reverses_id"] = row["reverses_id"]
    return view


# --- the operations --------------------------------------------------------------------


def _post_one(
    conn: Connection,
    *,
    type: str,
    source_id: int | None,
    destination_id: int | None,
    amount: RawAmount,
    actor_id: int | None,
    description: str | None,
    screen: Screen,
    occurred_at: datetime | None,
    external_id: str | None,
    max_major: Decimal,
) -> Posting:
    """Lock, check, screen and write one customer movement (the cash vault is the other side
    of a deposit or a withdrawal)."""
    if source_id is not None and source_id == destination_id:
        raise errors.SameAccount("cannot transfer to the same account")
    ctx = _context(
        conn, actor_id=actor_id, screen=screen, occurred_at=occurred_at, max_major=max_major
    )
    lock_accounts(
        ctx, [i for i in (source_id, destination_id) if i is not None], customer_only=True
    )
    movement = _movement(
        ctx,
        type=type,
        source_id=source_id,
        destination_id=destination_id,
        amount=amount,
        description=description,
        external_id=external_id,
    )
    _check_funds(ctx, movement)
    return _screen_and_write(ctx, [movement])


def deposit(
    conn: Connection,
    *,
    account_id: int,
    amount: RawAmount,
    actor_id: int | None,
    description: str | None = None,
    screen: Screen = NO_SCREEN,
    occurred_at: datetime | None = None,
    external_id: str | None = None,
    max_major: Decimal = DEFAULT_MAX_MAJOR,
) -> Posting:
    """Cash in: debit the cash vault, credit the customer account."""
    return _post_one(
        conn,
        type="deposit",
        source_id=None,
        destination_id=account_id,
        amount=amount,
        actor_id=actor_id,
        description=description,
        screen=screen,
        occurred_at=occurred_at,
        external_id=external_id,
        max_major=max_major,
    )


def withdraw(
    conn: Connection,
    *,
    account_id: int,
    amount: RawAmount,
    actor_id: int | None,
    description: str | None = None,
    screen: Screen = NO_SCREEN,
    occurred_at: datetime | None = None,
    external_id: str | None = None,
    max_major: Decimal = DEFAULT_MAX_MAJOR,
) -> Posting:
    """Cash out: debit the customer account, credit the cash vault."""
    return _post_one(
        conn,
        type="withdrawal",
        source_id=account_id,
        destination_id=None,
        amount=amount,
        actor_id=actor_id,
        description=description,
        screen=screen,
        occurred_at=occurred_at,
        external_id=external_id,
        max_major=max_major,
    )


def transfer(
    conn: Connection,
    *,
    from_account_id: int,
    to_account_id: int,
    amount: RawAmount,
    actor_id: int | None,
    description: str | None = None,
    screen: Screen = NO_SCREEN,
    occurred_at: datetime | None = None,
    external_id: str | None = None,
    max_major: Decimal = DEFAULT_MAX_MAJOR,
) -> Posting:
    """Move money between two customer accounts of the same currency."""
    return _post_one(
        conn,
        type="transfer",
        source_id=from_account_id,
        destination_id=to_account_id,
        amount=amount,
        actor_id=actor_id,
        description=description,
        screen=screen,
        occurred_at=occurred_at,
        external_id=external_id,
        max_major=max_major,
    )


def transfer_batch(
    conn: Connection,
    orders: Sequence[TransferOrder],
    *,
    actor_id: int | None,
    screen: Screen = NO_SCREEN,
    max_major: Decimal = DEFAULT_MAX_MAJOR,
) -> Posting:
    """Post every transfer or none: one lock pass over all accounts, then one write pass."""
    if not orders:
        raise errors.ValidationFailed("a batch needs at least one transfer")
    for index, order in enumerate(orders):
        if order.from_account_id == order.to_account_id:
            raise errors.SameAccount(f"transfer {index}: cannot transfer to the same account")
    ctx = _context(conn, actor_id=actor_id, screen=screen, occurred_at=None, max_major=max_major)
    ctx.batch_id = str(uuid.uuid4())
    ids = [i for o in orders for i in (o.from_account_id, o.to_account_id)]
    lock_accounts(ctx, ids, customer_only=True)
    movements = []
    for index, order in enumerate(orders):
        try:
            movement = _movement(
                ctx,
                type="transfer",
                source_id=order.from_account_id,
                destination_id=order.to_account_id,
                amount=order.amount,
                description=order.description,
            )
            _check_funds(ctx, movement)  # running balances: earlier items count
        except errors.LedgerbankError as exc:
            exc.detail = f"transfer {index}: {exc.detail}"
            exc.extra["index"] = index
            raise
        movements.append(movement)
    return _screen_and_write(ctx, movements)


def _check_funds(ctx: _Context, movement: Movement) -> None:
    """Check funds and move the running balances, before scoring: a refusal records nothing."""
    _apply_legs(ctx, movement.legs)


def post_fee(
    conn: Connection,
    *,
    account_id: int,
    amount: RawAmount,
    actor_id: int | None,
    description: str | None = None,
    max_major: Decimal = DEFAULT_MAX_MAJOR,
) -> Posting:
    """Charge a fee: debit the customer account, credit the bank's fee income."""
    ctx = _context(conn, actor_id=actor_id, screen=NO_SCREEN, occurred_at=None, max_major=max_major)
    lock_accounts(ctx, [account_id], customer_only=True)
    account = ctx.locked[account_id]
    _require_open(account)
    minor = to_minor(amount, account.currency, max_major=max_major)
    income = internal_account_id(conn, account.currency, "fee_income")
    movement = Movement(
        type="fee",
        amount=minor,
        currency=account.currency,
        legs=[Leg(account_id, -minor), Leg(income, minor)],
        from_account_id=account_id,
        description=description,
    )
    _apply_legs(ctx, movement.legs)
    return Posting(_write(ctx, [movement], status="posted"))


def post_journal(
    conn: Connection,
    legs: Sequence[tuple[int, RawAmount]],
    *,
    actor_id: int | None,
    description: str | None = None,
    max_major: Decimal = DEFAULT_MAX_MAJOR,
) -> Posting:
    """A general N-leg posting (signed amounts, credit positive) that must sum to zero."""
    if len(legs) < 2:
        raise errors.UnbalancedPosting("a journal posting needs at least two legs")
    ctx = _context(conn, actor_id=actor_id, screen=NO_SCREEN, occurred_at=None, max_major=max_major)
    lock_accounts(ctx, [account_id for account_id, _ in legs], customer_only=False)
    currencies = {ctx.locked[account_id].currency for account_id, _ in legs}
    if len(currencies) != 1:
        raise errors.CurrencyMismatch("every leg of a journal posting must share one currency")
    currency = currencies.pop()
    signed = []
    for account_id, raw in legs:
        text = str(raw).strip()
        negative = text.startswith("-")
        minor = to_minor(text[1:] if negative else raw, currency, max_major=max_major)
        _require_open(ctx.locked[account_id])
        signed.append(Leg(account_id, -minor if negative else minor))
    if sum(leg.amount for leg in signed) != 0:
        raise errors.UnbalancedPosting("debits and credits of a journal posting must be equal")
    movement = Movement(
        type="journal",
        amount=sum(leg.amount for leg in signed if leg.amount > 0),
        currency=currency,
        legs=signed,
        description=description,
    )
    _apply_legs(ctx, movement.legs)
    return Posting(_write(ctx, [movement], status="posted"))


def reverse(conn: Connection, transaction_id: int, *, reason: str, actor_id: int | None) -> Posting:
    """Post the mirror image of a posted transaction and mark the original reversed."""
    original = get_transaction_row(conn, transaction_id)
    if original["status"] != "posted":
        raise errors.NotReversible(f"transaction {transaction_id} is {original['status']}")
    if original["type"] == "reversal":
        raise errors.NotReversible("a reversal cannot itself be reversed")
    legs = [
        Leg(row.account_id, -int(row.amount))
        for row in conn.execute(
            select(entries.c.account_id, entries.c.amount)
            .where(entries.c.transaction_id == transaction_id)
            .order_by(entries.c.id)
        )
    ]
    ctx = _context(
        conn, actor_id=actor_id, screen=NO_SCREEN, occurred_at=None, max_major=Decimal(0)
    )
    lock_accounts(ctx, [leg.account_id for leg in legs], customer_only=False)
    # Re-read under the account locks: a concurrent reversal may have won.
    original = get_transaction_row(conn, transaction_id)
    if original["status"] != "posted":
        raise errors.NotReversible(f"transaction {transaction_id} is {original['status']}")
    for leg in legs:
        _require_open(ctx.locked[leg.account_id], allow_frozen=True)
    movement = Movement(
        type="reversal",
        amount=int(original["amount"]),
        currency=original["currency"],
        legs=legs,
        from_account_id=original["to_account_id"],
        to_account_id=original["from_account_id"],
        description=f"Reversal of #{transaction_id}: {reason}",
        reverses_id=transaction_id,
    )
    _apply_legs(ctx, movement.legs)
    conn.execute(
        update(transactions).where(transactions.c.id == transaction_id).values(status="reversed")
    )
    return Posting(_write(ctx, [movement], status="posted"))


def get_transaction_row(conn: Connection, transaction_id: int) -> RowMapping:
    row = (
        conn.execute(select(transactions).where(transactions.c.id == transaction_id))
        .mappings()
        .first()
    )
    if row is None:
        raise errors.NotFound(f"transaction {transaction_id} not found")
    return row
