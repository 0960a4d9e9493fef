"""The one owner of a money-moving request: every control and the posting in one transaction.

A `MoneyRequest` is a parsed order (deposit, withdrawal, transfer, batch, reversal, ...), its
caller, the PIN and the Idempotency-Key. `MoneyService` runs requests in one database
transaction each, or — in the server — several concurrent requests in one shared transaction
(group commit, `kit.group_commit`). For a group it does, in this order and for all its requests
at once where it can:

1. replays stored answers of Idempotency-Keys and claims the others (key order);
2. locks the callers' user rows (id order) and reads their current state: active, role, token
   version, KYC, PIN and its attempt counter, limit overrides;
3. reads the callers' daily totals (their user rows are locked, so no one else changes them);
4. locks every account the requests name, in ascending id order (one statement), so groups in
   different processes cannot deadlock;
5. decides each request in turn, each seeing what the earlier ones did: caller still valid,
   KYC tier, PIN (a wrong one is counted and the count commits with the refusal), daily
   limits, ownership, funds, the risk screen; a refusal answers that request alone;
6. writes everything decided (transactions, entries, balances, audit records, risk scores,
   PIN counters, daily totals, stored answers) and commits.

The risk screen comes in through the `Screen` protocol; the ledger imports nothing from risk.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import Connection, select, update

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.identity import pins
from ledgerbank.identity.tables import api_tokens, revoked_tokens, users
from ledgerbank.kit import context
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.kit.group_commit import GroupCommitter
from ledgerbank.kit.keys import Keyring
from ledgerbank.ledger import idempotency
from ledgerbank.ledger.fees import FeeSchedule
from ledgerbank.ledger.limits import DailyLimits, Kind, LimitBook
from ledgerbank.ledger.payees import FirstPayments
from ledgerbank.ledger.posting import Books, Movement
from ledgerbank.ledger.screening import AccountState, Screen

log = logging.getLogger(__name__)

CUSTOMER = "customer"
_CALLER_COLUMNS = (
    users.c.id,
    users.c.role,
    users.c.is_active,
    users.c.token_version,
    users.c.kyc_status,
    users.c.pin_hash,
    users.c.failed_pins,
    users.c.pin_locked_until,
    users.c.limit_deposit_daily,
    users.c.limit_withdrawal_daily,
    users.c.limit_transfer_daily,
)


@dataclass(frozen=True)
class Caller:
    """Who asks. `token_version` is the version their token was issued at (None: a trusted
    caller without a token, the CLI or the worker); `pin_exempt` for payments the customer
    authorised with their PIN earlier (a standing order run by the worker)."""

    user_id: int
    role: str
    token_version: int | None = None
    pin_exempt: bool = False
    token_id: str | None = None  # the token's jti: a signed-out session is refused (trust)
    api_token_id: int | None = None  # a machine client's API token: refused once revoked

    @property
    def is_customer(self) -> bool:
        return self.role == CUSTOMER


@dataclass(frozen=True)
class Answer:
    """What a request answers: status and JSON body, the transaction it wrote, whether an
    Idempotency-Key keeps it (a committed outcome), whether it is a replay."""

    status: int
    body: dict[str, Any]
    transaction_id: int | None = None
    keep: bool = False
    replayed: bool = False

    @property
    def code(self) -> str | None:
        code = self.body.get("code") if self.status >= 400 else None
        return None if code is None else str(code)


def refusal(error: errors.LedgerbankError) -> Answer:
    """A refused request as problem+json, exactly as the app's error handler renders it."""
    body: dict[str, Any] = {
        "type": f"https://ledgerbank.dev/problems/{error.code}",
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
        **error.extra,
    }
    if (request_id := context.request_id.get()) is not None:
        body["request_id"] = request_id
    return Answer(error.status, body)


@dataclass
class Pending:
    """A decided request whose answer is rendered once its transactions are written."""

    render: Callable[[], Answer]


class Order:
    """One kind of money-moving request. Subclasses name the accounts to lock and `execute`
    in a `Desk`: build movements, then `desk.post` them. `execute` either raises before its
    first `post` (the request is refused and nothing of it remains) or its posts stand."""

    kind: ClassVar[str] = ""
    sends_money: ClassVar[bool] = False  # needs the PIN and verified KYC
    moves_money_for_others: ClassVar[bool] = False  # staff acting on customers' accounts

    def account_ids(self, conn: Connection) -> list[int]:
        """The accounts to lock before the group decides anything (read without locks)."""
        raise NotImplementedError

    def execute(self, desk: Desk) -> Pending:
        raise NotImplementedError


@dataclass(frozen=True)
class MoneyRequest:
    caller: Caller
    order: Order
    pin: str | None = None
    key: str | None = None
    fingerprint: str = ""
    request_id: str | None = field(default_factory=context.request_id.get)

    @property
    def key_of(self) -> idempotency.KeyOf | None:
        if self.key is None:
            return None
        return (idempotency.scope_of(self.caller.user_id), self.key)


@dataclass(frozen=True)
class FourEyes:
    """When a money movement waits for a second person instead of posting."""

    deposit_above: str = "10000.00"  # cash staff pay in for a customer, above this
    hours: int = 48  # how long the proposal waits


@dataclass
class Desk:
    """Where one request is decided inside its group's transaction."""

    books: Books
    caller: Caller
    user: Mapping[str, Any]  # the caller's locked user row
    limits: LimitBook
    now: datetime
    four_eyes: FourEyes = field(default_factory=FourEyes)
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    first_payments: FirstPayments = field(default_factory=FirstPayments)

    @property
    def staff(self) -> bool:
        return not self.caller.is_customer

    def account(self, account_id: int) -> AccountState:
        """A customer account the group locked; NotFound when there is none."""
        state = self.books.locked.get(account_id)
        if state is None or state.is_internal:
            raise errors.NotFound(f"account {account_id} not found", account_id=account_id)
        return state

    def own(self, account_id: int) -> AccountState:
        """One of the caller's own accounts; another's answers NotFound, like a missing one."""
        state = self.account(account_id)
        if state.owner_id != self.caller.user_id:
            raise errors.NotFound(f"account {account_id} not found", account_id=account_id)
        return state

    def usage(self, movements: Sequence[Movement]) -> dict[tuple[Kind, str], int]:
        """What these movements take from the caller's daily limits (customers only): cash in,
        cash out, and transfers to accounts of other people."""
        found: dict[tuple[Kind, str], int] = {}
        if self.staff:
            return found
        for m in movements:
            if m.type == "deposit":
                kind = Kind.DEPOSIT
            elif m.type == "withdrawal":
                kind = Kind.WITHDRAWAL
            elif m.type == "transfer" and m.to_account_id is not None:
                if self.books.locked[m.to_account_id].owner_id == self.caller.user_id:
                    continue
                kind = Kind.TRANSFER
            else:
                continue
            found[(kind, m.currency)] = found.get((kind, m.currency), 0) + m.amount
        return found

    def post(self, movements: Sequence[Movement]) -> bool:
        """Check the daily limits, then decide the movements (all or none); True when posted,
        False when the risk screen blocked them (recorded, nothing moved)."""
        usage = self.usage(movements)
        self.limits.check(self.user, usage, pending=self.user["kyc_status"] == "pending")
        posted = self.books.decide(list(movements))
        if posted and usage:
            self.limits.add(self.caller.user_id, usage)
        return posted


LEGACY_PIN = Answer(0, {"code": "legacy_pin"})


@dataclass
class _Callers:
    """The group's callers' locked user rows, and the PIN state changed by their attempts."""

    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    pin_states: dict[int, pins.PinState] = field(default_factory=dict)
    signed_out: set[str] = field(default_factory=set)  # jtis of ended sessions among them
    revoked_api_tokens: set[int] = field(default_factory=set)

    def pin_state(self, user_id: int) -> pins.PinState:
        state = self.pin_states.get(user_id)
        if state is None:
            row = self.rows[user_id]
            state = pins.PinState(
                user_id, row["pin_hash"], int(row["failed_pins"]), row["pin_locked_until"]
            )
            self.pin_states[user_id] = state
        return state


class MoneyService:
    """Runs money-moving requests: alone (`run`), or grouped by the server (`submit`)."""

    def __init__(
        self,
        database: Database,
        screen: Callable[[], Screen],
        *,
        keyring: Keyring,
        limits: DailyLimits,
        max_major: Decimal,
        pin_max_failures: int = 5,
        pin_lock_minutes: int = 15,
        four_eyes: FourEyes | None = None,
        fees: FeeSchedule | None = None,
    ) -> None:
        self.four_eyes = four_eyes or FourEyes()
        self.fees = fees or FeeSchedule()
        self.database = database
        self.screen = screen
        self.keyring = keyring
        self.limits = limits
        self.max_major = max_major
        self.pin_max_failures = pin_max_failures
        self.pin_lock_minutes = pin_lock_minutes
        self.committer: GroupCommitter[MoneyRequest, Answer] | None = None

    @classmethod
    def from_settings(
        cls, database: Database, screen: Callable[[], Screen], settings: Any
    ) -> MoneyService:
        return cls(
            database,
            screen,
            keyring=settings.pin_keyring(),
            limits=DailyLimits.from_settings(settings),
            max_major=Decimal(settings.max_amount),
            pin_max_failures=settings.pin_max_failures,
            pin_lock_minutes=settings.pin_lock_minutes,
            four_eyes=FourEyes(settings.approval_deposit_above, settings.approval_hours),
            fees=FeeSchedule.from_settings(settings),
        )

    # --- running ----------------------------------------------------------------------

    def start_group_commit(self, *, max_group: int, window: float, committers: int) -> None:
        self.committer = GroupCommitter(
            self._run_transaction,
            max_group=max_group,
            window=window,
            committers=committers,
            name="money",
        )

    def close(self) -> None:
        if self.committer is not None:
            self.committer.close()
            self.committer = None

    def run(self, request: MoneyRequest) -> Answer:
        """Run one request and wait for its answer (grouped with others when group commit
        is on)."""
        for _ in range(2):
            if self.committer is not None:
                answer = self.committer.submit(request).result()
            else:
                answer = self._run_transaction([request])[0]
            if answer is not LEGACY_PIN:
                return answer
            legacy = self._check_legacy_pin(request)
            if legacy is not None:
                return legacy
        raise AssertionError("a re-keyed PIN is never legacy")

    async def run_async(self, request: MoneyRequest) -> Answer:
        """`run` for an event loop: waits for the group without holding a thread."""
        if self.committer is None:
            return await asyncio.to_thread(self.run, request)
        answer = await asyncio.wrap_future(self.committer.submit(request))
        if answer is LEGACY_PIN:
            return await asyncio.to_thread(self.run, request)
        return answer

    def _run_transaction(self, requests: Sequence[MoneyRequest]) -> list[Answer]:
        answers = self.database.write(lambda conn: _Group(self, conn, requests).run())
        # Keys another transaction committed while we claimed them: their answers now.
        retry = [i for i, a in enumerate(answers) if a is _TAKEN]
        if retry:
            with self.database.read() as conn:
                stored = idempotency.read_stored(conn, [requests[i].key_of for i in retry])  # type: ignore[misc]
            for i in retry:
                key = requests[i].key_of
                found = stored.get(key) if key is not None else None
                answers[i] = (
                    _replay(found, requests[i].fingerprint)
                    if found is not None
                    else refusal(
                        errors.Conflict("the Idempotency-Key is in use by another request; retry")
                    )
                )
        return answers

    def _check_legacy_pin(self, request: MoneyRequest) -> Answer | None:
        """A first-round argon2 PIN: checked outside any transaction with its attempt
        reserved first, re-keyed when right; None to run the request again."""
        from ledgerbank.identity.auth import check_legacy_pin

        try:
            check_legacy_pin(
                self.database,
                request.caller.user_id,
                request.pin,
                keyring=self.keyring,
                max_failures=self.pin_max_failures,
                lock_minutes=self.pin_lock_minutes,
            )
        except errors.LedgerbankError as exc:
            return refusal(exc)
        return None


_TAKEN = Answer(0, {"code": "key_taken"})


def _replay(stored: idempotency.StoredAnswer, request_hash: str) -> Answer:
    if stored.request_hash != request_hash:
        return refusal(
            errors.IdempotencyConflict(
                "this Idempotency-Key was already used with a different request"
            )
        )
    return Answer(stored.status, stored.body, stored.transaction_id, keep=True, replayed=True)


class _Group:
    """One transaction's worth of requests."""

    def __init__(
        self, service: MoneyService, conn: Connection, requests: Sequence[MoneyRequest]
    ) -> None:
        self.service = service
        self.conn = conn
        self.requests = requests
        self.now = utcnow()
        self.books = Books(conn, screen=service.screen(), max_major=service.max_major)
        self.limits = LimitBook(service.limits, service.limits.business_day(self.now))
        self.callers = _Callers()
        self.first_payments = FirstPayments()  # the new-payee notices of its transfers
        self.answers: list[Answer | Pending | None] = [None] * len(requests)
        self.claimed: dict[idempotency.KeyOf, int] = {}  # key -> the request that claimed it
        self.twins: dict[int, int] = {}  # a request -> the earlier one with its key

    def run(self) -> list[Answer]:
        self._idempotency()
        open_requests = [r for r, a in zip(self.requests, self.answers, strict=True) if a is None]
        self._lock_callers(open_requests)
        self._lock_accounts(open_requests)
        for index, request in enumerate(self.requests):
            if self.answers[index] is None:
                # This thread decides many requests: each one's records carry its own id.
                token = context.request_id.set(request.request_id)
                try:
                    self.answers[index] = self._decide(index, request)
                finally:
                    context.request_id.reset(token)
        self._write_callers()
        self.books.write()
        self.first_payments.write(self.conn)
        self.limits.write(self.conn)
        return self._finish()

    # --- 1. idempotency ---------------------------------------------------------------

    def _idempotency(self) -> None:
        keyed = [(i, r.key_of) for i, r in enumerate(self.requests) if r.key_of is not None]
        if not keyed:
            return
        stored = idempotency.read_stored(self.conn, [k for _, k in keyed])
        to_claim: dict[idempotency.KeyOf, str] = {}
        for index, key in keyed:
            found = stored.get(key)
            if found is not None:
                self.answers[index] = _replay(found, self.requests[index].fingerprint)
            elif key in self.claimed:
                self.twins[index] = self.claimed[key]
            else:
                self.claimed[key] = index
                to_claim[key] = self.requests[index].fingerprint
        for key in idempotency.claim(self.conn, to_claim):
            self.answers[self.claimed.pop(key)] = _TAKEN
        for twin, first in list(self.twins.items()):
            if self.answers[first] is _TAKEN:  # both read the committed answer afterwards
                self.answers[twin] = _TAKEN
                del self.twins[twin]

    # --- 2. and 4. locks --------------------------------------------------------------

    def _lock_callers(self, open_requests: list[MoneyRequest]) -> None:
        ids = sorted({r.caller.user_id for r in open_requests})
        if not ids:
            return
        query = select(*_CALLER_COLUMNS).where(users.c.id.in_(ids)).order_by(users.c.id)
        for row in self.conn.execute(query.with_for_update()).mappings():
            self.callers.rows[int(row["id"])] = dict(row)
        if jtis := {r.caller.token_id for r in open_requests if r.caller.token_id}:
            ended = select(revoked_tokens.c.jti).where(revoked_tokens.c.jti.in_(jtis))
            self.callers.signed_out.update(self.conn.execute(ended).scalars())
        if machine := {r.caller.api_token_id for r in open_requests if r.caller.api_token_id}:
            revoked = select(api_tokens.c.id).where(
                api_tokens.c.id.in_(machine), api_tokens.c.revoked_at.is_not(None)
            )
            self.callers.revoked_api_tokens.update(self.conn.execute(revoked).scalars())
        self.limits.load(
            self.conn,
            [i for i, row in self.callers.rows.items() if row["role"] == CUSTOMER],
        )

    def _lock_accounts(self, open_requests: list[MoneyRequest]) -> None:
        ids = {i for r in open_requests for i in r.order.account_ids(self.conn)}
        self.books.lock_existing(ids)

    # --- 5. each request --------------------------------------------------------------

    def _decide(self, index: int, request: MoneyRequest) -> Answer | Pending:
        twin = self.twins.get(index)
        if twin is not None:
            return self._twin_answer(twin, request)
        try:
            user = self._check_caller(request.caller)
            self._check_kyc(request, user)
            if request.order.sends_money and not request.caller.pin_exempt:
                pins.attempt(
                    self.callers.pin_state(request.caller.user_id),
                    request.pin,
                    keyring=self.service.keyring,
                    now=self.now,
                    max_failures=self.service.pin_max_failures,
                    lock_minutes=self.service.pin_lock_minutes,
                )
            desk = Desk(
                self.books,
                request.caller,
                user,
                self.limits,
                self.now,
                self.service.four_eyes,
                self.service.fees,
                self.first_payments,
            )
            return request.order.execute(desk)
        except pins.LegacyPin:
            return LEGACY_PIN
        except errors.LedgerbankError as exc:
            return refusal(exc)

    def _twin_answer(self, first: int, request: MoneyRequest) -> Answer | Pending:
        """A second request with the same key in one group: the first's kept answer replays;
        when the first was refused, the twin is refused too (it may retry)."""
        answer = self.answers[first]
        if isinstance(answer, Pending):
            rendered = answer.render
            first_hash = self.requests[first].fingerprint

            def replay() -> Answer:
                found = rendered()
                if not found.keep:
                    return refusal(
                        errors.Conflict("the Idempotency-Key is in use by another request; retry")
                    )
                stored = idempotency.StoredAnswer(
                    found.status, found.body, found.transaction_id, first_hash
                )
                return _replay(stored, request.fingerprint)

            return Pending(replay)
        return refusal(errors.Conflict("the Idempotency-Key is in use by another request; retry"))

    def _check_caller(self, caller: Caller) -> Mapping[str, Any]:
        user = self.callers.rows.get(caller.user_id)
        if (
            user is None
            or not user["is_active"]
            or user["role"] != caller.role
            or (caller.token_version is not None and user["token_version"] != caller.token_version)
            or caller.token_id in self.callers.signed_out
            or caller.api_token_id in self.callers.revoked_api_tokens
        ):
            raise errors.NotAuthenticated("the access token is no longer valid; sign in again")
        return user

    @staticmethod
    def _check_kyc(request: MoneyRequest, user: Mapping[str, Any]) -> None:
        if not request.caller.is_customer:
            return
        status = user["kyc_status"]
        if status == "rejected":
            raise errors.KycRejected(
                "your identity check was not approved, so money cannot move; please contact us"
            )
        if status != "verified" and request.order.sends_money:
            raise errors.KycRequired(
                "money can leave your accounts once your identity is verified; until then you "
                "may receive money and deposit up to a small daily amount"
            )

    # --- 6. writing -------------------------------------------------------------------

    def _write_callers(self) -> None:
        for user_id, state in sorted(self.callers.pin_states.items()):
            for action, after, request_id in state.events:
                self.books.audit_rows.append(
                    audit.prepare(
                        actor_id=None,
                        action=action,
                        entity_type="user",
                        entity_id=user_id,
                        after=after,
                        at=self.now,
                        request_id=request_id,
                    )
                )
            if state.dirty:
                self.conn.execute(
                    update(users)
                    .where(users.c.id == user_id)
                    .values(
                        pin_hash=state.pin_hash,
                        failed_pins=state.failures,
                        pin_locked_until=state.locked_until,
                    )
                )

    def _finish(self) -> list[Answer]:
        answers: list[Answer] = []
        for request, answer in zip(self.requests, self.answers, strict=True):
            assert answer is not None
            if isinstance(answer, Pending):
                token = context.request_id.set(request.request_id)
                try:
                    answer = answer.render()
                finally:
                    context.request_id.reset(token)
            answers.append(answer)
        kept, released = [], []
        for key, index in self.claimed.items():
            answer = answers[index]
            if answer.keep:
                kept.append((key, answer.status, answer.body, answer.transaction_id))
            else:
                released.append(key)
        idempotency.store(self.conn, kept)
        idempotency.release(self.conn, released)
        return answers
