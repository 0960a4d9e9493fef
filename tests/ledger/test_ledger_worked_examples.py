"""The bank's worked examples, booked step by step, with the books checked after every step.

Like django-hordak's test_worked_examples: after each step the exact balances, the balance
sheet (assets = liabilities + equity), the integrity view and `ledgerbank ledger verify` agree.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ledger_helpers import (
    BalanceSheetLine,
    append_only_lifted,
    assert_ledger_sound,
    balance,
    balance_sheet,
    cli_env,
    create_account,
    create_funded_account,
    create_user,
    row_counts,
    run_ledger_verify,
)
from sqlalchemy import Connection, select, text, update
from sqlalchemy.exc import DBAPIError

from ledgerbank import errors
from ledgerbank.kit.db import Database
from ledgerbank.ledger import accounts as account_service
from ledgerbank.ledger import integrity, posting
from ledgerbank.ledger.posting import TransferOrder
from ledgerbank.ledger.tables import accounts, entries, transactions


class Bank:
    """The worked examples' customers and the checks run after each step."""

    def __init__(self, database: Database, database_url: str) -> None:
        self.database = database
        self.database_url = database_url

        def open_all(conn: Connection) -> dict[str, int]:
            alice, bob, carol, kenji = (create_user(conn) for _ in range(4))
            return {
                "alice": create_account(conn, alice, account_type="checking"),
                "bob": create_account(conn, bob, account_type="savings"),
                "carol": create_account(conn, carol, account_type="wallet"),
                "kenji": create_account(conn, kenji, currency="JPY", account_type="wallet"),
            }

        self.ids = database.write(open_all)

    def check(
        self,
        step: str,
        *,
        alice: int,
        bob: int,
        carol: int,
        usd: tuple[int, int, int] | None,
        kenji: int = 0,
    ) -> None:
        """Exact balances, the USD balance sheet (assets, liabilities, equity), and soundness."""
        with self.database.read() as conn:
            got = {name: balance(conn, i) for name, i in self.ids.items()}
            assert got == {"alice": alice, "bob": bob, "carol": carol, "kenji": kenji}, step
            sheet = balance_sheet(conn)
            if usd is None:
                assert "USD" not in sheet, step
            else:
                assets, liabilities, equity = usd
                assert sheet["USD"] == BalanceSheetLine("USD", assets, liabilities, equity, 0)
                vault = account_service.internal_account_id(conn, "USD", "cash_vault")
                assert balance(conn, vault) == assets, step
            if kenji:
                assert sheet["JPY"] == BalanceSheetLine("JPY", kenji, kenji, 0, 0), step
            assert_ledger_sound(conn)
        result = run_ledger_verify(self.database_url)
        assert result.exit_code == 0, (step, result.output)
        assert "ledger sound" in result.output


def test_worked_examples(database: Database, database_url: str) -> None:
    bank = Bank(database, database_url)
    alice, bob, carol, kenji = (bank.ids[n] for n in ("alice", "bob", "carol", "kenji"))
    write = database.write

    bank.check("opening", alice=0, bob=0, carol=0, usd=None)

    write(lambda c: posting.deposit(c, account_id=alice, amount="1000.00", actor_id=None))
    bank.check("deposit", alice=100000, bob=0, carol=0, usd=(100000, 100000, 0))

    transfer = write(
        lambda c: posting.transfer(
            c, from_account_id=alice, to_account_id=bob, amount="250.00", actor_id=None
        )
    )
    assert transfer.transaction["amount"] == 25000
    bank.check("transfer", alice=75000, bob=25000, carol=0, usd=(100000, 100000, 0))

    write(lambda c: posting.withdraw(c, account_id=bob, amount="50.00", actor_id=None))
    bank.check("withdrawal", alice=75000, bob=20000, carol=0, usd=(95000, 95000, 0))

    write(lambda c: posting.post_fee(c, account_id=alice, amount="2.50", actor_id=None))
    bank.check("fee", alice=74750, bob=20000, carol=0, usd=(95000, 94750, 250))

    mistake = write(
        lambda c: posting.transfer(
            c, from_account_id=alice, to_account_id=carol, amount="100.00", actor_id=None
        )
    ).transaction["id"]
    bank.check("mistaken transfer", alice=64750, bob=20000, carol=10000, usd=(95000, 94750, 250))

    reversal = write(lambda c: posting.reverse(c, mistake, reason="sent twice", actor_id=None))
    bank.check("reversal", alice=74750, bob=20000, carol=0, usd=(95000, 94750, 250))
    with database.read() as conn:
        original = posting.get_transaction_row(conn, mistake)
        mirror = posting.get_transaction_row(conn, reversal.transaction["id"])
        legs = {
            tid: sorted(
                (row.account_id, row.amount)
                for row in conn.execute(
                    select(entries.c.account_id, entries.c.amount).where(
                        entries.c.transaction_id == tid
                    )
                )
            )
            for tid in (mistake, mirror["id"])
        }
    assert original["status"] == "reversed"
    assert (mirror["type"], mirror["status"], mirror["reverses_id"]) == (
        "reversal",
        "posted",
        mistake,
    )
    assert (mirror["from_account_id"], mirror["to_account_id"]) == (carol, alice)
    assert legs[mistake] == sorted([(alice, -10000), (carol, 10000)])
    assert legs[mirror["id"]] == sorted([(alice, 10000), (carol, -10000)])
    with pytest.raises(errors.NotReversible):
        write(lambda c: posting.reverse(c, mistake, reason="again", actor_id=None))

    # A three-leg journal posting: Alice pays 30.00, split between Bob and Carol.
    write(
        lambda c: posting.post_journal(
            c, [(alice, "-30.00"), (bob, "20.00"), (carol, "10.00")], actor_id=None
        )
    )
    bank.check("3-leg journal", alice=71750, bob=22000, carol=1000, usd=(95000, 94750, 250))

    # A batch: Carol's second item relies on the 5.00 Bob sends her in the first.
    batch = write(
        lambda c: posting.transfer_batch(
            c,
            [
                TransferOrder(bob, carol, "5.00"),
                TransferOrder(carol, alice, "15.00"),
                TransferOrder(alice, bob, "0.01"),
            ],
            actor_id=None,
        )
    )
    assert len(batch.transactions) == 3
    assert len({t["batch_id"] for t in batch.transactions}) == 1
    bank.check("batch", alice=73249, bob=21501, carol=0, usd=(95000, 94750, 250))

    # An atomic batch whose second item cannot be paid posts nothing at all.
    with database.read() as conn:
        before = row_counts(conn)
    with pytest.raises(errors.InsufficientFunds) as refused:
        write(
            lambda c: posting.transfer_batch(
                c,
                [TransferOrder(alice, carol, "10.00"), TransferOrder(carol, bob, "10.01")],
                actor_id=None,
            )
        )
    assert refused.value.extra["index"] == 1
    with database.read() as conn:
        assert row_counts(conn) == before
    bank.check("refused batch", alice=73249, bob=21501, carol=0, usd=(95000, 94750, 250))

    # A second currency has its own line on the balance sheet.
    write(lambda c: posting.deposit(c, account_id=kenji, amount="50000", actor_id=None))
    bank.check("JPY deposit", alice=73249, bob=21501, carol=0, usd=(95000, 94750, 250), kenji=50000)


def test_verify_fails_and_names_the_problem(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    owner = database.write(create_user)
    alice = create_funded_account(database, owner, "100.00")
    bob = create_funded_account(database, owner, "40.00")
    database.write(
        lambda c: posting.transfer(
            c, from_account_id=alice, to_account_id=bob, amount="10.00", actor_id=None
        )
    )

    # A stored balance edited behind the ledger's back (no trigger guards accounts).
    database.write(
        lambda c: c.execute(
            update(accounts).where(accounts.c.id == bob).values(balance=accounts.c.balance + 1)
        )
    )
    # The real command, as an operator runs it (the other checks run it in-process).
    done = subprocess.run(
        [sys.executable, "-m", "ledgerbank", "ledger", "verify"],
        env=cli_env(database_url),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "balance_mismatch" in done.stdout
    assert f"account {bob}" in done.stdout
    assert "NOT sound" in done.stdout
    with database.read() as conn:
        assert integrity.violations(conn) == [
            integrity.Violation("balance_mismatch", "account", bob, 1)
        ]

    # An entry's balance_after rewritten with the append-only trigger out of the way.
    with database.read() as conn:
        last_of_alice = conn.execute(
            select(entries.c.id)
            .where(entries.c.account_id == alice)
            .order_by(entries.c.id.desc())
            .limit(1)
        ).scalar_one()
    with append_only_lifted(database, "entries"):
        database.write(
            lambda c: c.execute(
                update(entries)
                .where(entries.c.id == last_of_alice)
                .values(balance_after=entries.c.balance_after + 7)
            )
        )
    result = run_ledger_verify(database_url)
    assert result.exit_code == 1, result.output
    assert "broken_balance_chain" in result.output
    assert f"entry {last_of_alice}" in result.output
    assert f"account {bob}" in result.output

    # A posted transaction whose legs no longer sum to zero.
    with database.read() as conn:
        transfer_id = conn.execute(
            select(transactions.c.id).where(transactions.c.type == "transfer")
        ).scalar_one()
    with append_only_lifted(database, "entries"):
        database.write(
            lambda c: c.execute(
                text(
                    "UPDATE entries SET amount = amount - 3 "
                    "WHERE transaction_id = :t AND amount > 0"
                ),
                {"t": transfer_id},
            )
        )
    result = run_ledger_verify(database_url)
    assert result.exit_code == 1
    assert "unbalanced_transaction" in result.output
    assert f"transaction {transfer_id}" in result.output
    with database.read() as conn:
        found = {(v.check, v.entity_id): v.difference for v in integrity.violations(conn)}
    assert found[("unbalanced_transaction", transfer_id)] == -3

    # With the triggers back, the ledger refuses to be edited again.
    with pytest.raises(DBAPIError, match="append-only"):
        database.write(lambda c: c.execute(update(entries).values(balance_after=0)))
