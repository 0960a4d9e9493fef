"""Concurrency on every backend: hot accounts under many writers, a reader that never sees money
appear or vanish, and retries that never post twice."""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from functools import partial

import pytest
from ledger_helpers import (
    assert_ledger_sound,
    balance_sheet,
    balances,
    create_account,
    create_funded_account,
    create_user,
    race,
)
from sqlalchemy import Connection, func, select

from ledgerbank import errors
from ledgerbank.kit.db import Database
from ledgerbank.ledger import posting
from ledgerbank.ledger.posting import TransferOrder
from ledgerbank.ledger.tables import accounts, entries, transactions

WRITERS = 8
ACCOUNTS = 6
OPERATIONS = 240  # in all, shared by the writers
OPENING = 100_000  # 1000.00 in each account


def test_hot_accounts_under_concurrent_transfers(database: Database) -> None:
    owner = database.write(create_user)
    ids = [create_funded_account(database, owner, "1000.00") for _ in range(ACCOUNTS)]
    total = OPENING * ACCOUNTS
    acknowledged: list[tuple[int, int, int, int]] = []  # (transaction id, from, to, amount)
    refused: Counter[str] = Counter()
    writers_done = threading.Event()
    reads: list[tuple[int, bool]] = []  # (total seen, any negative)

    def writer(seed: int, count: int) -> None:
        rng = random.Random(seed)
        for _ in range(count):
            if rng.random() < 0.15:  # an atomic batch over three accounts
                a, b, c = rng.sample(ids, 3)
                orders = [
                    TransferOrder(a, b, str(rng.randint(1, 300))),
                    TransferOrder(b, c, str(rng.randint(1, 300))),
                ]
                work: Callable[[Connection], posting.Posting] = partial(
                    posting.transfer_batch, orders=orders, actor_id=None
                )
            else:
                source, destination = rng.sample(ids, 2)
                work = partial(
                    posting.transfer,
                    from_account_id=source,
                    to_account_id=destination,
                    amount=f"{rng.randint(1, 60_000) / 100:.2f}",
                    actor_id=None,
                )
            try:
                done = database.write(work)
            except errors.InsufficientFunds:
                refused["insufficient_funds"] += 1
                continue
            for t in done.transactions:
                acknowledged.append(
                    (int(t["id"]), t["from_account_id"], t["to_account_id"], int(t["amount"]))
                )

    def reader() -> None:
        # Until the writers are done (and once more after): every read of all balances, in one
        # read transaction, sees the same total and nothing below zero.
        while True:
            finished = writers_done.is_set()
            with database.read() as conn:
                rows = conn.execute(
                    select(accounts.c.balance).where(accounts.c.id.in_(ids))
                ).scalars()
                balances = [int(b) for b in rows]
            reads.append((sum(balances), any(b < 0 for b in balances)))
            if finished:
                return

    per_writer = OPERATIONS // WRITERS
    watcher = threading.Thread(target=reader)
    watcher.start()
    try:
        failures = race([lambda s=seed: writer(s, per_writer) for seed in range(WRITERS)])
    finally:
        writers_done.set()
        watcher.join(timeout=300)
    assert failures == []
    assert not watcher.is_alive()

    assert len(reads) >= 2
    assert all(seen == (total, False) for seen in reads), [r for r in reads if r != (total, False)]

    with database.read() as conn:
        posted = {
            (int(r.id), r.from_account_id, r.to_account_id, int(r.amount))
            for r in conn.execute(
                select(
                    transactions.c.id,
                    transactions.c.from_account_id,
                    transactions.c.to_account_id,
                    transactions.c.amount,
                ).where(transactions.c.type == "transfer")
            )
        }
        legs = Counter(
            int(t)
            for t in conn.execute(
                select(entries.c.transaction_id)
                .join(transactions, transactions.c.id == entries.c.transaction_id)
                .where(transactions.c.type == "transfer")
            ).scalars()
        )
        final = {
            int(r.id): int(r.balance)
            for r in conn.execute(
                select(accounts.c.id, accounts.c.balance).where(accounts.c.id.in_(ids))
            )
        }
        assert_ledger_sound(conn)
    # Every acknowledged transfer is in the ledger exactly once, and nothing else is.
    assert len(acknowledged) == len(set(acknowledged)) == len(posted)
    assert set(acknowledged) == posted
    assert set(legs.values()) <= {2}
    assert len(legs) == len(posted)
    assert len(acknowledged) > OPERATIONS // 4  # the traffic really moved money
    expected = dict.fromkeys(ids, OPENING)
    for _, source, destination, amount in acknowledged:
        expected[source] -= amount
        expected[destination] += amount
    assert final == expected
    assert sum(final.values()) == total


def test_a_retried_posting_with_the_same_external_id_posts_once(database: Database) -> None:
    owner = database.write(create_user)
    payer = create_funded_account(database, owner, "100.00")
    payee = create_funded_account(database, owner, "0.01")
    outcomes: list[object] = []

    def send() -> None:
        try:
            done = database.write(
                lambda c: posting.transfer(
                    c,
                    from_account_id=payer,
                    to_account_id=payee,
                    amount="25.00",
                    actor_id=None,
                    external_id="wire-2024-0001",
                )
            )
            outcomes.append(done.transaction["id"])
        except errors.LedgerbankError as exc:
            outcomes.append(exc)

    assert race([send, send, send]) == []
    posted = [o for o in outcomes if not isinstance(o, Exception)]
    duplicates = [o for o in outcomes if isinstance(o, errors.LedgerbankError)]
    assert len(posted) == 1
    assert len(duplicates) == 2
    for duplicate in duplicates:
        assert isinstance(duplicate, errors.Conflict)
        assert duplicate.status == 409
        assert "wire-2024-0001" in duplicate.detail

    # A later, sequential retry is refused the same way; a deposit reusing the id too.
    for retry in (
        lambda c: posting.transfer(
            c,
            from_account_id=payer,
            to_account_id=payee,
            amount="25.00",
            actor_id=None,
            external_id="wire-2024-0001",
        ),
        lambda c: posting.deposit(
            c, account_id=payee, amount="1.00", actor_id=None, external_id="wire-2024-0001"
        ),
    ):
        with pytest.raises(errors.Conflict, match="wire-2024-0001"):
            database.write(retry)

    with database.read() as conn:
        count = conn.execute(
            select(func.count())
            .select_from(transactions)
            .where(transactions.c.external_id == "wire-2024-0001")
        ).scalar_one()
        money = balances(conn, [payer, payee])
        assert_ledger_sound(conn)
    assert count == 1
    assert money == {payer: 7500, payee: 2501}


def test_concurrent_reversals_of_one_transaction_reverse_it_once(database: Database) -> None:
    owner = database.write(create_user)
    payer = create_funded_account(database, owner, "100.00")
    payee = create_funded_account(database, owner, "0.01")
    original = database.write(
        lambda c: posting.transfer(
            c, from_account_id=payer, to_account_id=payee, amount="40.00", actor_id=None
        )
    ).transaction["id"]
    outcomes: list[object] = []

    def undo() -> None:
        try:
            outcomes.append(
                database.write(lambda c: posting.reverse(c, original, reason="x", actor_id=None))
            )
        except errors.LedgerbankError as exc:
            outcomes.append(exc)

    assert race([undo, undo, undo, undo]) == []
    assert sum(isinstance(o, posting.Posting) for o in outcomes) == 1
    assert sum(isinstance(o, errors.NotReversible) for o in outcomes) == 3
    with database.read() as conn:
        reversals = conn.execute(
            select(func.count())
            .select_from(transactions)
            .where(transactions.c.reverses_id == original)
        ).scalar_one()
        money = balances(conn, [payer, payee])
        assert_ledger_sound(conn)
    assert reversals == 1
    assert money == {payer: 10000, payee: 1}


def test_first_cash_postings_in_a_new_currency_open_one_vault(database: Database) -> None:
    owner = database.write(create_user)
    customers = database.write(
        lambda c: [create_account(c, owner, currency="EUR") for _ in range(WRITERS)]
    )
    outcomes: list[object] = []

    def cash_in(account: int) -> None:
        outcomes.append(
            database.write(
                lambda c: posting.deposit(c, account_id=account, amount="12.34", actor_id=None)
            )
        )

    assert race([partial(cash_in, account) for account in customers]) == []
    assert len(outcomes) == WRITERS
    with database.read() as conn:
        vaults = conn.execute(
            select(accounts.c.id).where(accounts.c.internal_key == "cash_vault:EUR")
        ).all()
        sheet = balance_sheet(conn)
        assert_ledger_sound(conn)
    assert len(vaults) == 1
    assert sheet["EUR"].assets == sheet["EUR"].liabilities == 1234 * WRITERS
