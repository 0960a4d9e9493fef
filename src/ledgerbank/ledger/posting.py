"""The posting engine: every money movement is one balanced journal transaction.

`Books` is one database transaction's view of the ledger. It locks the customer accounts a
posting touches in ascending id order and keeps their running balances in memory; each posting
is decided in turn (funds checked, then the risk screen asked, then posted or recorded as
blocked) and everything decided is written at the end with one statement per table: the
transactions, their entries (each with the account's `balance_after`), the new balances, the
audit records and the risk scores. A group of requests sharing one database transaction (see
`ledger.money`) goes through one `Books`, so a later request sees the balances an earlier one
left. Internal accounts (cash vault, fee income) are never locked or updated: their balances
are derived from their entries, so no posting waits on them.

The functions at the end (`deposit`, `transfer`, `reverse`, ...) post one movement (or one
batch) in the caller's transaction; tools, imports and tests use them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Connection,
    RowMapping,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.audit.tables import audit_log
from ledgerbank.events import outbox
from ledgerbank.kit import context
from ledgerbank.kit.bulk import insert_returning_ids, insert_rows, update_rows
from ledgerbank.kit.clock import as_utc, utcnow
from ledgerbank.kit.money import DEFAULT_MAX_MAJOR, to_decimal_string, to_minor
from ledgerbank.ledger import evidence
from ledgerbank.ledger.accounts import internal_account_id
from ledgerbank.ledger.posting_events import posting_events
from ledgerbank.ledger.screening import (
    NO_SCREEN,
    SAFE,
    AccountState,
    Assessment,
    Proposal,
    Screen,
    Screened,
    ScreenSession,
)
from ledgerbank.ledger.tables import accounts, entries, fee_links, transactions

RawAmount = str | int | Decimal


@dataclass(frozen=True)
class Leg:
    """One side of a posting: a signed amount (credit positive) on an account; `currency` is
    the movement's unless given (an exchange has legs in two currencies)."""

    account_id: int
    amount: int
    currency: str | None = None


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
    batch_id: str | None = None
    actor_id: int | None = None
    request_id: str | None = field(default_factory=context.request_id.get)
    screened: bool = False  # asked the risk screen (customer movements)
    screen_as: str | None = None  # the kind the risk screen knows it as, when not `type`
    status: str = "posted"
    assessment: Assessment = SAFE
    proposal: Proposal | None = None
    row: dict[str, Any] = field(default_factory=dict)  # as written: id and header fields


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


def require_open(account: AccountState, *, allow_frozen: bool = False) -> None:
    if account.status == "closed":
        raise errors.AccountClosed(f"account {account.id} is closed", account_id=account.id)
    if account.status == "frozen" and not allow_frozen:
        raise errors.AccountFrozen(f"account {account.id} is frozen", account_id=account.id)


class Books:
    """One database transaction's locked accounts, running balances and decided postings."""

    def __init__(
        self,
        conn: Connection,
        *,
        screen: Screen = NO_SCREEN,
        occurred_at: datetime | None = None,
        max_major: Decimal = DEFAULT_MAX_MAJOR,
    ) -> None:
        self.conn = conn
        self.session: ScreenSession = screen.session(conn)
        self.now = utcnow()
        self.occurred_at = occurred_at or self.now
        self.is_import = occurred_at is not None
        self.max_major = max_major
        self.locked: dict[int, AccountState] = {}
        self.balances: dict[int, int] = {}  # customer accounts: the running balance
        self.limits: dict[int, int] = {}  # customer accounts: the overdraft limit
        self.held: dict[int, int] = {}  # customer accounts: what active holds reserve
        self.held_changed: set[int] = set()
        self.expired_holds: list[int] = []  # holds found past their expiry and ended
        self.decided: list[Movement] = []
        self.reversed_ids: list[int] = []
        self.audit_rows: list[dict[str, Any]] = []  # other records of this transaction
        # Rows that name a written transaction (fee links, conversions): run after its insert.
        self.after_write: list[Callable[[Connection], None]] = []
        self.event_rows: list[dict[str, Any]] = []  # outbox events of this transaction

    # --- locking ----------------------------------------------------------------------

    def lock(self, account_ids: Iterable[int], *, customer_only: bool = True) -> None:
        """Lock customer accounts in ascending id order (one statement) and remember them.

        With `customer_only=False` (journal postings, reversals) the bank's internal accounts
        may take part too: they are read, never locked, since their balances derive from
        entries. An account that does not exist (or is internal, when only customer accounts
        may take part) raises NotFound.
        """
        wanted = sorted({i for i in account_ids if i not in self.locked})
        if not wanted:
            return
        if not customer_only:
            kinds = select(accounts).where(accounts.c.id.in_(wanted), accounts.c.is_internal == 1)
            for row in self.conn.execute(kinds).mappings():
                self.locked[row["id"]] = _state(row)
            wanted = [i for i in wanted if i not in self.locked]
            if not wanted:
                return
        query = select(accounts).where(accounts.c.id.in_(wanted)).order_by(accounts.c.id)
        rows = {row["id"]: row for row in self.conn.execute(query.with_for_update()).mappings()}
        for account_id in wanted:
            found = rows.get(account_id)
            if found is None or found["is_internal"]:
                raise errors.NotFound(f"account {account_id} not found", account_id=account_id)
            self.locked[account_id] = _state(found)
            self.balances[account_id] = int(found["balance"])
            self.limits[account_id] = int(found["overdraft_limit"])
            self.held[account_id] = int(found["held"])
        self._release_expired_holds(wanted)

    def lock_existing(self, account_ids: Iterable[int]) -> None:
        """Lock those of these accounts that exist, customer accounts in ascending id order
        (one statement); internal ones are read, not locked. Ids that name no account are
        left out: the request naming one is refused on its own, not the whole group."""
        wanted = sorted({i for i in account_ids if i not in self.locked})
        if not wanted:
            return
        query = select(accounts).where(accounts.c.id.in_(wanted), accounts.c.is_internal == 0)
        for row in self.conn.execute(query.order_by(accounts.c.id).with_for_update()).mappings():
            self._remember(row)
        missing = [i for i in wanted if i not in self.locked]
        if missing:  # the bank's own accounts (a reversal's other side), or no account at all
            internal = select(accounts).where(accounts.c.id.in_(missing))
            for found in self.conn.execute(internal).mappings():
                self._remember(found)
        self._release_expired_holds(wanted)
        self.session.prefetch([self.locked[i] for i in wanted if i in self.locked])

    def _remember(self, row: RowMapping) -> None:
        state = _state(row)
        self.locked[state.id] = state
        if not state.is_internal:
            self.balances[state.id] = state.balance
            self.limits[state.id] = int(row["overdraft_limit"])
            self.held[state.id] = int(row["held"])

    def _release_expired_holds(self, account_ids: Iterable[int]) -> None:
        """Holds past their expiry on these (just locked) accounts end now, so that what they
        reserved is available again; only accounts holding something are looked at."""
        holding = [i for i in account_ids if self.held.get(i)]
        if holding:
            from ledgerbank.ledger import holds  # holds build on the books

            holds.release_expired(self, holding)

    def set_held(self, account_id: int, held: int) -> None:
        """What active holds reserve on a locked account; written with the books."""
        self.held[account_id] = held
        self.held_changed.add(account_id)

    def available(self, account_id: int, balance: int | None = None) -> int:
        """What a locked customer account can still pay: balance + overdraft limit - held."""
        if balance is None:
            balance = self.balances[account_id]
        return balance + self.limits[account_id] - self.held.get(account_id, 0)

    def account(self, account_id: int) -> AccountState:
        """A locked account as it stands now (its running balance)."""
        state = self.locked[account_id]
        if account_id in self.balances and state.balance != self.balances[account_id]:
            return replace(state, balance=self.balances[account_id])
        return state

    # --- building movements -----------------------------------------------------------

    def movement(
        self,
        *,
        type: str,
        source_id: int | None,
        destination_id: int | None,
        amount: RawAmount,
        description: str | None,
        actor_id: int | None,
        external_id: str | None = None,
    ) -> Movement:
        """One customer movement between locked accounts, checked (same currency, open
        accounts, a valid amount); the cash vault is the other side of cash in or out."""
        if source_id is not None and source_id == destination_id:
            raise errors.SameAccount("cannot transfer to the same account")
        source = self.locked[source_id] if source_id is not None else None
        destination = self.locked[destination_id] if destination_id is not None else None
        if source and destination and source.currency != destination.currency:
            raise errors.CurrencyMismatch(
                f"account {source.id} holds {source.currency}, account {destination.id} holds "
                f"{destination.currency}"
            )
        currency = (source or destination).currency  # type: ignore[union-attr]
        minor = to_minor(amount, currency, max_major=self.max_major)
        for account in (source, destination):
            if account is not None:
                require_open(account)
        debit, credit = source_id, destination_id
        if debit is None or credit is None:  # cash in or out: the vault is the other side
            vault = internal_account_id(self.conn, currency, "cash_vault")
            debit, credit = (debit or vault), (credit or vault)
        return Movement(
            type=type,
            amount=minor,
            currency=currency,
            legs=[Leg(debit, -minor), Leg(credit, minor)],
            from_account_id=source_id,
            to_account_id=destination_id,
            description=description,
            external_id=external_id,
            actor_id=actor_id,
            screened=True,
        )

    # --- deciding ---------------------------------------------------------------------

    def check_funds(
        self, movements: Sequence[Movement], running: dict[int, int] | None = None
    ) -> dict[int, int]:
        """The balances after `movements` (in order, after `running`: balances some earlier
        movements already left); InsufficientFunds when a debit would take a customer account
        below its limit, less what its holds reserve. Changes nothing of the books."""
        running = {} if running is None else running
        for movement in movements:
            for leg in movement.legs:
                if leg.account_id not in self.balances:
                    continue  # an internal account: its balance derives from its entries
                before = running.get(leg.account_id, self.balances[leg.account_id])
                running[leg.account_id] = after = before + leg.amount
                if leg.amount < 0 and self.available(leg.account_id, after) < 0:
                    state = self.locked[leg.account_id]
                    available = to_decimal_string(
                        max(0, self.available(leg.account_id, before)), state.currency
                    )
                    raise errors.InsufficientFunds(
                        f"account {leg.account_id} has {available} {state.currency} available",
                        account_id=leg.account_id,
                    )
        return running

    def decide(self, movements: Sequence[Movement]) -> bool:
        """Post `movements` together (all or none): check funds, ask the risk screen, then
        either post them or, when the screen blocks any of them, record them all as blocked
        (an import is scored but never blocked). True when posted. A refusal raises before
        anything changes."""
        after = self.check_funds(movements)
        if self.is_import:
            self._refuse_back_dating()
        scored = [m for m in movements if m.screened]
        for m in scored:
            m.proposal = self._proposal(m)
        proposals = [m.proposal for m in scored if m.proposal is not None]
        assessments = self.session.assess(proposals) if proposals else []
        for m, assessment in zip(scored, assessments, strict=True):
            m.assessment = assessment
        blocked = [m for m in scored if m.assessment.blocks] if not self.is_import else []
        if blocked:  # only the blocked items are recorded (the attempt); nothing moves
            self.session.accept([m.proposal for m in blocked if m.proposal], posted=False)
            for m in blocked:
                m.status = "blocked"
            self.decided.extend(blocked)
            return False
        self.session.accept(proposals, posted=True)
        self.decided.extend(movements)
        self.balances.update(after)
        return True

    def _proposal(self, m: Movement) -> Proposal:
        source = self.account(m.from_account_id) if m.from_account_id is not None else None
        destination = self.account(m.to_account_id) if m.to_account_id is not None else None
        return Proposal(
            type=m.screen_as or m.type,
            amount=m.amount,
            currency=m.currency,
            source=source,
            destination=destination,
            occurred_at=self.occurred_at,
            description=m.description,
            is_import=self.is_import,
            initiated_by=m.actor_id,
        )

    def _refuse_back_dating(self) -> None:
        """A posting dated in the past may not land before an entry its accounts already have.

        Each entry's `balance_after` follows the entries before it in posting order, so an entry
        dated earlier would make point-in-time balances and statements wrong. The accounts are
        locked, so no entry can appear behind this check.
        """
        customer = [i for i, state in self.locked.items() if not state.is_internal]
        latest = self.conn.execute(
            select(func.max(entries.c.posted_at)).where(entries.c.account_id.in_(customer))
        ).scalar()
        if latest is not None and as_utc(self.occurred_at) < latest:
            raise errors.ValidationFailed(
                f"occurred_at {as_utc(self.occurred_at).isoformat()} is earlier than the latest "
                f"entry of the accounts ({latest.isoformat()}): history must be posted in time "
                "order"
            )

    def post_unscreened(self, movement: Movement) -> None:
        """A posting the bank makes itself (a fee, a journal, a reversal): funds checked, not
        screened."""
        self.balances.update(self.check_funds([movement]))
        movement.status = "posted"
        self.decided.append(movement)

    # --- writing ----------------------------------------------------------------------

    def write(self) -> None:
        """Write everything decided: one INSERT per table, one UPDATE for every balance."""
        decided, self.decided = self.decided, []
        if decided:
            _write_movements(self, decided)
        if self.held_changed:
            changed, self.held_changed = sorted(self.held_changed), set()
            update_rows(
                self.conn, accounts, "id", [{"id": i, "held": self.held[i]} for i in changed]
            )
        after, self.after_write = self.after_write, []
        for write in after:
            write(self.conn)
        if self.audit_rows:
            insert_rows(self.conn, audit_log, self.audit_rows)
            self.audit_rows = []
        if self.event_rows:
            outbox.write(self.conn, self.event_rows)
            self.event_rows = []


def _write_movements(books: Books, movements: list[Movement]) -> None:
    conn = books.conn
    headers = [
        {
            "type": m.type,
            "status": m.status,
            "amount": m.amount,
            "currency": m.currency,
            "from_account_id": m.from_account_id,
            "to_account_id": m.to_account_id,
            "description": m.description,
            "reverses_id": m.reverses_id,
            "external_id": m.external_id,
            "batch_id": m.batch_id,
            "initiated_by": m.actor_id,
            "created_at": books.occurred_at,
        }
        for m in movements
    ]
    try:
        ids = insert_returning_ids(conn, transactions, headers)
    except IntegrityError as exc:
        # A retry of a posting already made (an import row, a bank's wire reference).
        given = [h["external_id"] for h in headers if h["external_id"] is not None]
        if not given or "external_id" not in str(exc.orig):
            raise
        raise errors.Conflict(
            f"a transaction with external_id {given[0]!r} is already posted",
            external_id=given[0],
        ) from None
    for m, transaction_id, header in zip(movements, ids, headers, strict=True):
        m.row = {"id": transaction_id, **header}
        if m.screened:
            m.row["risk"] = m.assessment.as_dict()
    posted = [m for m in movements if m.status == "posted"]
    if posted:
        _write_entries(books, posted)
    books.event_rows.extend(posting_events(books, movements, books.now))
    if books.reversed_ids:
        # After the reversal is inserted: the original is marked reversed only beside it.
        conn.execute(
            update(transactions)
            .where(transactions.c.id.in_(books.reversed_ids))
            .values(status="reversed")
        )
        books.reversed_ids = []
    books.audit_rows.extend(
        audit.prepare(
            actor_id=m.actor_id,
            action=f"transaction.{'blocked' if m.status == 'blocked' else m.type}",
            entity_type="transaction",
            entity_id=m.row["id"],
            after=_audit_view(m.row, m),
            at=books.now,
            request_id=m.request_id,
        )
        for m in movements
    )
    screened = [
        Screened(m.row["id"], m.proposal, m.assessment, posted=m.status == "posted")
        for m in movements
        if m.proposal is not None
    ]
    if screened:
        books.session.record(screened)


def _write_entries(books: Books, movements: list[Movement]) -> None:
    """Entries in posting order with running balances; one balance update per account."""
    running = dict(books.balances)
    for movement in reversed(movements):  # unwind to the balances before these postings
        for leg in movement.legs:
            if leg.account_id in running:
                running[leg.account_id] -= leg.amount
    rows = []
    for movement in movements:
        for leg in movement.legs:
            balance_after = None
            if leg.account_id in running:
                running[leg.account_id] += leg.amount
                balance_after = running[leg.account_id]
            rows.append(
                {
                    "transaction_id": movement.row["id"],
                    "account_id": leg.account_id,
                    "amount": leg.amount,
                    "currency": leg.currency or movement.currency,
                    "balance_after": balance_after,
                    "posted_at": books.occurred_at,
                }
            )
    insert_rows(books.conn, entries, rows)
    customer = sorted({leg.account_id for m in movements for leg in m.legs} & books.balances.keys())
    # The rows are locked, so the new values are exact: one statement for every balance.
    update_rows(
        books.conn,
        accounts,
        "id",
        [{"id": i, "balance": books.balances[i], "updated_at": books.now} for i in customer],
    )


def _audit_view(row: dict[str, Any], movement: Movement) -> dict[str, Any]:
    """The posting's full content as its audit record carries it (see ledger.evidence)."""
    return evidence.posting_record(
        row,
        [(leg.account_id, leg.amount) for leg in movement.legs],
        movement.assessment.as_dict() if movement.proposal is not None else None,
    )


# --- one posting in the caller's transaction --------------------------------------------


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
    """Lock, check, screen and write one customer movement."""
    if source_id is not None and source_id == destination_id:
        raise errors.SameAccount("cannot transfer to the same account")
    books = Books(conn, screen=screen, occurred_at=occurred_at, max_major=max_major)
    books.lock(i for i in (source_id, destination_id) if i is not None)
    movement = books.movement(
        type=type,
        source_id=source_id,
        destination_id=destination_id,
        amount=amount,
        description=description,
        actor_id=actor_id,
        external_id=external_id,
    )
    posted = books.decide([movement])
    books.write()
    return Posting([movement.row], blocked=not posted)


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


def batch_movements(
    books: Books, orders: Sequence[TransferOrder], *, actor_id: int | None
) -> list[Movement]:
    """The movements of an all-or-none batch of transfers between locked accounts, each checked
    in order (its amount, then the funds the items before it left): the first bad item raises
    with its index. They share a batch id."""
    if not orders:
        raise errors.ValidationFailed("a batch needs at least one transfer")
    batch_id = str(uuid.uuid4())
    movements = []
    running: dict[int, int] = {}
    for index, order in enumerate(orders):
        try:
            movement = books.movement(
                type="transfer",
                source_id=order.from_account_id,
                destination_id=order.to_account_id,
                amount=order.amount,
                description=order.description,
                actor_id=actor_id,
            )
            books.check_funds([movement], running)
        except errors.LedgerbankError as exc:
            raise _at_index(exc, index) from None
        movement.batch_id = batch_id
        movements.append(movement)
    return movements


def _at_index(exc: errors.LedgerbankError, index: int) -> errors.LedgerbankError:
    exc.detail = f"transfer {index}: {exc.detail}"
    exc.extra["index"] = index
    return exc


def transfer_batch(
    conn: Connection,
    orders: Sequence[TransferOrder],
    *,
    actor_id: int | None,
    screen: Screen = NO_SCREEN,
    max_major: Decimal = DEFAULT_MAX_MAJOR,
) -> Posting:
    """Post every transfer or none: one lock pass over all accounts, then one write pass."""
    for index, order in enumerate(orders):
        if order.from_account_id == order.to_account_id:
            raise errors.SameAccount(f"transfer {index}: cannot transfer to the same account")
    books = Books(conn, screen=screen, max_major=max_major)
    books.lock(i for o in orders for i in (o.from_account_id, o.to_account_id))
    movements = batch_movements(books, orders, actor_id=actor_id)
    posted = books.decide(movements)
    books.write()
    return Posting([m.row for m in movements if m.row], blocked=not posted)


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
    books = Books(conn, max_major=max_major)
    books.lock([account_id])
    account = books.locked[account_id]
    require_open(account)
    minor = to_minor(amount, account.currency, max_major=max_major)
    income = internal_account_id(conn, account.currency, "fee_income")
    movement = Movement(
        type="fee",
        amount=minor,
        currency=account.currency,
        legs=[Leg(account_id, -minor), Leg(income, minor)],
        from_account_id=account_id,
        description=description,
        actor_id=actor_id,
    )
    books.post_unscreened(movement)
    books.write()
    return Posting([movement.row])


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
    books = Books(conn, max_major=max_major)
    books.lock([account_id for account_id, _ in legs], customer_only=False)
    currencies = {books.locked[account_id].currency for account_id, _ in legs}
    if len(currencies) != 1:
        raise errors.CurrencyMismatch("every leg of a journal posting must share one currency")
    currency = currencies.pop()
    signed = []
    for account_id, raw in legs:
        text = str(raw).strip()
        negative = text.startswith("-")
        minor = to_minor(text[1:] if negative else raw, currency, max_major=max_major)
        require_open(books.locked[account_id])
        signed.append(Leg(account_id, -minor if negative else minor))
    if sum(leg.amount for leg in signed) != 0:
        raise errors.UnbalancedPosting("debits and credits of a journal posting must be equal")
    movement = Movement(
        type="journal",
        amount=sum(leg.amount for leg in signed if leg.amount > 0),
        currency=currency,
        legs=signed,
        description=description,
        actor_id=actor_id,
    )
    books.post_unscreened(movement)
    books.write()
    return Posting([movement.row])


def reversal(books: Books, transaction_id: int, *, reason: str, actor_id: int | None) -> Movement:
    """Decide the mirror image of a posted transaction, and of each posted fee linked to it
    (`fee_links`: an exchange's spread, a withdrawal's fee), so the whole of it is undone; the
    originals are marked reversed when the reversals are written. The transaction's own
    reversal is returned (its fees' reversals are decided after it)."""
    movement = _reversal(books, transaction_id, reason=reason, actor_id=actor_id)
    for fee_id in linked_fees(books.conn, [transaction_id]):
        if fee_id not in books.reversed_ids:
            _reversal(books, fee_id, reason=reason, actor_id=actor_id)
    return movement


def linked_fees(conn: Connection, transaction_ids: Sequence[int]) -> list[int]:
    """The posted fee transactions charged because of these transactions, in id order."""
    if not transaction_ids:
        return []
    query = (
        select(fee_links.c.fee_transaction_id)
        .join(transactions, transactions.c.id == fee_links.c.fee_transaction_id)
        .where(fee_links.c.caused_by_id.in_(transaction_ids), transactions.c.status == "posted")
        .order_by(fee_links.c.fee_transaction_id)
    )
    return [int(i) for i in conn.execute(query).scalars()]


def _reversal(books: Books, transaction_id: int, *, reason: str, actor_id: int | None) -> Movement:
    original = get_transaction_row(books.conn, transaction_id)
    if original["status"] != "posted" or transaction_id in books.reversed_ids:
        raise errors.NotReversible(f"transaction {transaction_id} is {original['status']}")
    if original["type"] == "reversal":
        raise errors.NotReversible("a reversal cannot itself be reversed")
    legs = [
        Leg(row.account_id, -int(row.amount), row.currency)
        for row in books.conn.execute(
            select(entries.c.account_id, entries.c.amount, entries.c.currency)
            .where(entries.c.transaction_id == transaction_id)
            .order_by(entries.c.id)
        )
    ]
    books.lock([leg.account_id for leg in legs], customer_only=False)
    # Re-read under the account locks: a concurrent reversal may have won.
    original = get_transaction_row(books.conn, transaction_id)
    if original["status"] != "posted":
        raise errors.NotReversible(f"transaction {transaction_id} is {original['status']}")
    for leg in legs:
        require_open(books.locked[leg.account_id], allow_frozen=True)
    movement = Movement(
        type="reversal",
        amount=int(original["amount"]),
        currency=original["currency"],
        legs=legs,
        from_account_id=original["to_account_id"],
        to_account_id=original["from_account_id"],
        description=f"Reversal of #{transaction_id}: {reason}",
        reverses_id=transaction_id,
        actor_id=actor_id,
    )
    books.post_unscreened(movement)
    books.reversed_ids.append(transaction_id)
    return movement


def reverse(conn: Connection, transaction_id: int, *, reason: str, actor_id: int | None) -> Posting:
    """Post the mirror image of a posted transaction (and of its linked fees) and mark the
    originals reversed."""
    books = Books(conn, max_major=Decimal(0))
    reversal(books, transaction_id, reason=reason, actor_id=actor_id)
    decided = list(books.decided)  # the transaction's reversal first, then its fees'
    books.write()
    return Posting([m.row for m in decided])


def get_transaction_row(conn: Connection, transaction_id: int) -> RowMapping:
    row = (
        conn.execute(select(transactions).where(transactions.c.id == transaction_id))
        .mappings()
        .first()
    )
    if row is None:
        raise errors.NotFound(f"transaction {transaction_id} not found")
    return row
