"""Property tests: random days of banking, checked against a model of the ledger kept in Python.

Hypothesis draws a sequence of operations (deposits, withdrawals, transfers, batches, fees,
reversals, freezes and closures, many of them bound to fail); each runs in its own database
transaction. After every operation the outcome (posted, or the exact error code) matches the
model, a refused operation wrote nothing, the balances match the model, and every invariant of
the books holds.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from ledger_helpers import assert_ledger_sound, create_account, create_user, row_counts
from sqlalchemy import Connection, func, select

from ledgerbank import errors
from ledgerbank.kit.db import Database
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.ledger import accounts as account_service
from ledgerbank.ledger import posting
from ledgerbank.ledger.posting import TransferOrder
from ledgerbank.ledger.tables import accounts, entries

CURRENCIES = ["USD", "USD", "USD", "JPY"]  # the accounts of every example
PLACES = {"USD": 2, "JPY": 0}
UNKNOWN_TRANSACTION = 987_654_321
BAD_AMOUNTS = ["0", "0.00", "-1.00", "1.001", "NaN", "1e2", "ten", "1000000000.01"]

index = st.integers(0, len(CURRENCIES) - 1)
# Mostly distinct USD accounts, so that transfers can succeed; sometimes the same account or
# across currencies.
pair = st.sampled_from(
    [(0, 1), (1, 2), (2, 0), (1, 0), (2, 1), (0, 2)] * 3 + [(0, 0), (3, 3), (0, 3), (3, 1)]
)


def amounts(max_cents: int) -> st.SearchStrategy[str]:
    cents = st.integers(1, max_cents).map(lambda c: f"{c // 100}.{c % 100:02d}")
    whole = st.integers(1, max_cents // 100).map(str)
    return st.one_of(cents, cents, whole, whole, st.sampled_from(BAD_AMOUNTS))


operation = st.one_of(
    st.tuples(st.just("deposit"), index, amounts(50_000)),
    st.tuples(st.just("withdraw"), index, amounts(20_000)),
    st.tuples(st.just("transfer"), pair, amounts(10_000)).map(lambda t: (t[0], *t[1], t[2])),
    st.tuples(st.just("transfer"), pair, amounts(10_000)).map(lambda t: (t[0], *t[1], t[2])),
    st.tuples(
        st.just("batch"),
        st.lists(
            st.tuples(pair, amounts(5_000)).map(lambda t: (*t[0], t[1])), min_size=1, max_size=3
        ),
    ),
    st.tuples(st.just("fee"), index, amounts(1_000)),
    st.tuples(st.just("reverse"), st.integers(0, 40)),
    st.tuples(st.just("withdraw_all"), index),
    st.tuples(st.just("status"), index, st.sampled_from(["frozen", "active", "closed"])),
    st.tuples(st.just("status"), index, st.sampled_from(["frozen", "active", "closed"])),
)
# Every day opens with money in each account, so that the rest has something to move.
OPENING = [("deposit", i, "300") for i in range(len(CURRENCIES))]


class Refused(Exception):
    def __init__(self, code: str) -> None:
        self.code = code


@dataclass
class ModelAccount:
    id: int
    currency: str
    status: str = "active"
    balance: int = 0


@dataclass
class ModelTransaction:
    type: str
    legs: list[tuple[str | int, int]]  # (account index, or an internal key like "cash_vault:USD")
    status: str = "posted"
    id: int | None = None


@dataclass
class Model:
    """What the ledger should hold: customer balances and statuses, internal totals, postings."""

    accounts: list[ModelAccount]
    internal: dict[str, int] = field(default_factory=dict)  # sum of entry amounts per account
    transactions: list[ModelTransaction] = field(default_factory=list)
    audit_records: int = 0


def minor_of(text: str, currency: str) -> int:
    """The model's own reading of the amounts this test generates."""
    if text in BAD_AMOUNTS:
        raise Refused("invalid_amount")
    whole, _, fraction = text.partition(".")
    fraction = fraction.rstrip("0")
    places = PLACES[currency]
    if len(fraction) > places:
        raise Refused("invalid_amount")
    return int(whole) * 10**places + int(fraction.ljust(places, "0") or "0")


def require_open(account: ModelAccount, *, allow_frozen: bool = False) -> None:
    if account.status == "closed":
        raise Refused("account_closed")
    if account.status == "frozen" and not allow_frozen:
        raise Refused("account_frozen")


def book(model: Model, kind: str, legs: list[tuple[str | int, int]]) -> ModelTransaction:
    """Apply balanced legs to the model, refusing a customer account that would go below zero."""
    for key, value in legs:
        if isinstance(key, int):
            if model.accounts[key].balance + value < 0:
                raise Refused("insufficient_funds")
            model.accounts[key].balance += value
        else:
            model.internal[key] = model.internal.get(key, 0) + value
    transaction = ModelTransaction(kind, legs)
    model.transactions.append(transaction)
    model.audit_records += 1
    return transaction


def expect_deposit(model: Model, i: int, text: str) -> None:
    account = model.accounts[i]
    minor = minor_of(text, account.currency)
    require_open(account)
    book(model, "deposit", [(f"cash_vault:{account.currency}", -minor), (i, minor)])


def expect_withdraw(model: Model, i: int, text: str) -> None:
    account = model.accounts[i]
    minor = minor_of(text, account.currency)
    require_open(account)
    book(model, "withdrawal", [(i, -minor), (f"cash_vault:{account.currency}", minor)])


def whole_balance(model: Model, i: int) -> str:
    account = model.accounts[i]
    return to_decimal_string(account.balance, account.currency) if account.balance else "0"


def expect_withdraw_all(model: Model, i: int) -> None:
    expect_withdraw(model, i, whole_balance(model, i))


def expect_transfer(model: Model, i: int, j: int, text: str) -> None:
    if i == j:
        raise Refused("same_account")
    source, destination = model.accounts[i], model.accounts[j]
    if source.currency != destination.currency:
        raise Refused("currency_mismatch")
    minor = minor_of(text, source.currency)
    require_open(source)
    require_open(destination)
    book(model, "transfer", [(i, -minor), (j, minor)])


def expect_batch(model: Model, orders: list[tuple[int, int, str]]) -> None:
    if any(i == j for i, j, _ in orders):
        raise Refused("same_account")
    for i, j, text in orders:
        expect_transfer(model, i, j, text)


def expect_fee(model: Model, i: int, text: str) -> None:
    account = model.accounts[i]
    require_open(account)
    minor = minor_of(text, account.currency)
    book(model, "fee", [(i, -minor), (f"fee_income:{account.currency}", minor)])


def expect_reverse(model: Model, k: int) -> None:
    if not model.transactions:
        raise Refused("not_found")
    original = model.transactions[k % len(model.transactions)]
    if original.status != "posted" or original.type == "reversal":
        raise Refused("not_reversible")
    for key, _ in original.legs:
        if isinstance(key, int):
            require_open(model.accounts[key], allow_frozen=True)
    book(model, "reversal", [(key, -value) for key, value in original.legs])
    original.status = "reversed"


def expect_status(model: Model, i: int, status: str) -> None:
    account = model.accounts[i]
    allowed = {"frozen": {"active"}, "active": {"frozen"}, "closed": {"active", "frozen"}}
    if account.status not in allowed[status]:
        raise Refused("invalid_transition")
    if status == "closed" and account.balance != 0:
        raise Refused("invalid_transition")
    account.status = status
    model.audit_records += 1


def run(conn: Connection, model: Model, op: tuple[Any, ...]) -> posting.Posting | None:
    """The same operation against the real ledger."""
    ids = [a.id for a in model.accounts]
    kind = op[0]
    if kind == "deposit":
        return posting.deposit(conn, account_id=ids[op[1]], amount=op[2], actor_id=None)
    if kind == "withdraw":
        return posting.withdraw(conn, account_id=ids[op[1]], amount=op[2], actor_id=None)
    if kind == "withdraw_all":
        amount = whole_balance(model, op[1])
        return posting.withdraw(conn, account_id=ids[op[1]], amount=amount, actor_id=None)
    if kind == "transfer":
        return posting.transfer(
            conn, from_account_id=ids[op[1]], to_account_id=ids[op[2]], amount=op[3], actor_id=None
        )
    if kind == "batch":
        orders = [TransferOrder(ids[i], ids[j], text) for i, j, text in op[1]]
        return posting.transfer_batch(conn, orders, actor_id=None)
    if kind == "fee":
        return posting.post_fee(conn, account_id=ids[op[1]], amount=op[2], actor_id=None)
    if kind == "reverse":
        target = (
            model.transactions[op[1] % len(model.transactions)].id
            if model.transactions
            else UNKNOWN_TRANSACTION
        )
        return posting.reverse(conn, int(target or 0), reason="property test", actor_id=None)
    account_service.set_status(conn, ids[op[1]], status=op[2], reason="property", actor_id=None)
    return None


EXPECT: dict[str, Callable[..., None]] = {
    "deposit": expect_deposit,
    "withdraw": expect_withdraw,
    "withdraw_all": expect_withdraw_all,
    "transfer": expect_transfer,
    "batch": expect_batch,
    "fee": expect_fee,
    "reverse": expect_reverse,
    "status": expect_status,
}


def internal_totals(conn: Connection) -> dict[str, int]:
    rows = conn.execute(
        select(accounts.c.internal_key, func.coalesce(func.sum(entries.c.amount), 0))
        .select_from(accounts)
        .outerjoin(entries, entries.c.account_id == accounts.c.id)
        .where(accounts.c.is_internal == 1)
        .group_by(accounts.c.internal_key)
    )
    return {str(key): int(total) for key, total in rows}


def snapshot(conn: Connection, model: Model) -> dict[str, Any]:
    rows = conn.execute(
        select(accounts.c.id, accounts.c.balance, accounts.c.status).where(
            accounts.c.id.in_([a.id for a in model.accounts])
        )
    )
    return {
        "accounts": {int(r.id): (int(r.balance), r.status) for r in rows},
        "internal": internal_totals(conn),
        "counts": row_counts(conn),
    }


def check_one_day(database: Database, ops: list[tuple[Any, ...]]) -> None:
    def open_accounts(conn: Connection) -> Model:
        owner = create_user(conn)
        return Model([ModelAccount(create_account(conn, owner, currency=c), c) for c in CURRENCIES])

    model = database.write(open_accounts)
    with database.read() as conn:
        state = snapshot(conn, model)
    internal_start = state["internal"]

    for step, op in enumerate(ops):
        expected = copy.deepcopy(model)
        try:
            EXPECT[op[0]](expected, *op[1:])
            expected_code = None
        except Refused as refusal:
            expected_code = refusal.code
        try:
            done = database.write(lambda conn, op=op, model=model: run(conn, model, op))  # type: ignore[misc]
            code = None
        except errors.LedgerbankError as exc:
            done, code = None, exc.code
        assert code == expected_code, (step, op, code, expected_code)

        with database.read() as conn:
            after = snapshot(conn, model)
            assert_ledger_sound(conn)
        if code is not None:
            assert after == state, (step, op, "a refused operation wrote something")
            continue

        new = expected.transactions[len(model.transactions) :]
        if done is not None:
            assert [t["type"] for t in done.transactions] == [t.type for t in new]
            for transaction, written in zip(new, done.transactions, strict=True):
                transaction.id = int(written["id"])
        model = expected
        assert after["accounts"] == {a.id: (a.balance, a.status) for a in model.accounts}, (
            step,
            op,
        )
        for key in set(after["internal"]) | set(model.internal):
            moved = after["internal"].get(key, 0) - internal_start.get(key, 0)
            assert moved == model.internal.get(key, 0), (step, op, key)
        grew = {name: after["counts"][name] - state["counts"][name] for name in after["counts"]}
        assert grew["transactions"] == len(new), (step, op)
        assert grew["entries"] == sum(len(t.legs) for t in new), (step, op)
        assert grew["audit_log"] == (1 if op[0] == "status" else len(new)), (step, op)
        state = after


def test_random_days_of_banking_keep_the_books(database: Database) -> None:
    examples = 20 if database.dialect == "sqlite" else 10

    # No shrinking: every example costs real database round trips, so shrinking a failure
    # takes minutes; the failure names the step and operation, and Hypothesis prints the day.
    @settings(
        max_examples=examples,
        deadline=None,
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(ops=st.lists(operation, min_size=10, max_size=25))
    def one_day(ops: list[tuple[Any, ...]]) -> None:
        check_one_day(database, OPENING + ops)

    one_day()
