"""Bulk import: rows posted with their own timestamps, all or nothing, duplicates skipped."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from ledger_helpers import (
    assert_ledger_sound,
    balances,
    create_account,
    create_user,
    row_counts,
)
from sqlalchemy import Connection, select
from typer.testing import CliRunner

from ledgerbank.audit.tables import audit_log
from ledgerbank.cli import app as cli_app
from ledgerbank.config import get_settings
from ledgerbank.kit.db import Database
from ledgerbank.ledger import posting
from ledgerbank.ledger.import_file import RowError, parse
from ledgerbank.ledger.importer import ImportReport, import_transactions
from ledgerbank.ledger.tables import accounts, entries, transactions

HEADER = "external_id,timestamp,type,from_account,to_account,amount,currency,description"
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


def csv_file(*rows: str) -> str:
    return "\n".join([HEADER, *rows]) + "\n"


class Customers:
    """Two customers' USD accounts and one EUR account, empty, with their account numbers."""

    def __init__(self, database: Database) -> None:
        def open_all(conn: Connection) -> dict[str, int]:
            alice, bob = create_user(conn), create_user(conn)
            return {
                "alice": create_account(conn, alice),
                "bob": create_account(conn, bob, account_type="savings"),
                "bob_eur": create_account(conn, bob, currency="EUR"),
            }

        self.database = database
        self.ids = database.write(open_all)
        with database.read() as conn:
            self.numbers = {
                name: conn.execute(
                    select(accounts.c.account_number).where(accounts.c.id == account_id)
                ).scalar_one()
                for name, account_id in self.ids.items()
            }

    def balances(self) -> dict[str, int]:
        with self.database.read() as conn:
            found = balances(conn, list(self.ids.values()))
        return {name: found[account_id] for name, account_id in self.ids.items()}

    def history_file(self) -> str:
        """Three rows out of time order: the transfer is dated between the other two."""
        alice, bob = self.numbers["alice"], self.numbers["bob"]
        return csv_file(
            f"ext-3,{at(48)},withdrawal,{bob},,20.00,USD,ATM",
            f"ext-1,{at(0)},deposit,,{alice},1000.00,USD,Opening deposit",
            f'ext-2,{at(24)},transfer,{alice},{bob},250.50,usd,"Rent, March"',
        )


def run_import(database: Database, content: str, **options: bool) -> ImportReport:
    return import_transactions(database, content, file_name="history.csv", actor_id=None, **options)


def test_import_posts_every_row_in_time_order_with_its_own_timestamp(database: Database) -> None:
    bank = Customers(database)
    seen: list[tuple[int, int]] = []

    report = import_transactions(
        database,
        bank.history_file(),
        file_name="history.csv",
        actor_id=None,
        progress=lambda done, total: seen.append((done, total)),
    )

    assert report.as_dict() == {
        "file_name": "history.csv",
        "rows": 3,
        "posted": 3,
        "skipped_duplicates": 0,
        "errors": [],
        "dry_run": False,
        "partial": False,
    }
    assert seen[-1] == (3, 3)
    assert bank.balances() == {"alice": 1000_00 - 250_50, "bob": 250_50 - 20_00, "bob_eur": 0}
    with database.read() as conn:
        posted = conn.execute(
            select(
                transactions.c.external_id, transactions.c.type, transactions.c.created_at
            ).order_by(transactions.c.id)
        ).all()
        assert [(row.external_id, row.type, row.created_at) for row in posted] == [
            ("ext-1", "deposit", T0),
            ("ext-2", "transfer", T0 + timedelta(hours=24)),
            ("ext-3", "withdrawal", T0 + timedelta(hours=48)),
        ]
        bob_entries = conn.execute(
            select(entries.c.posted_at, entries.c.balance_after)
            .where(entries.c.account_id == bank.ids["bob"])
            .order_by(entries.c.id)
        ).all()
        assert [tuple(row) for row in bob_entries] == [
            (T0 + timedelta(hours=24), 250_50),
            (T0 + timedelta(hours=48), 230_50),
        ]
        summary = conn.execute(
            select(audit_log.c.after).where(audit_log.c.action == "ledger.imported")
        ).scalar_one()
        per_transaction = conn.execute(
            select(audit_log.c.action).where(audit_log.c.entity_type == "transaction")
        ).scalars()
        assert sorted(per_transaction) == [
            "transaction.deposit",
            "transaction.transfer",
            "transaction.withdrawal",
        ]
        assert_ledger_sound(conn)
    assert json.loads(summary) | {"sha256": None} == {
        "file_name": "history.csv",
        "sha256": None,
        "rows": 3,
        "posted": 3,
        "skipped_duplicates": 0,
        "refused": 0,
        "partial": False,
    }


def test_dry_run_reports_what_would_be_posted_and_writes_nothing(database: Database) -> None:
    bank = Customers(database)
    with database.read() as conn:
        before = row_counts(conn)

    report = run_import(database, bank.history_file(), dry_run=True)

    assert (report.posted, report.errors, report.dry_run) == (3, [], True)
    with database.read() as conn:
        assert row_counts(conn) == before
    assert bank.balances() == {"alice": 0, "bob": 0, "bob_eur": 0}


def test_rows_already_imported_are_skipped(database: Database) -> None:
    bank = Customers(database)
    assert run_import(database, bank.history_file()).posted == 3

    again = run_import(database, bank.history_file())
    extra_row = f"ext-4,{at(72)},deposit,,{bank.numbers['bob']},5.00,USD,"
    extended = run_import(database, bank.history_file() + extra_row + "\n")

    assert (again.posted, again.skipped_duplicates, again.errors) == (0, 3, [])
    assert (extended.posted, extended.skipped_duplicates, extended.errors) == (1, 3, [])
    assert bank.balances() == {"alice": 749_50, "bob": 235_50, "bob_eur": 0}


def test_bad_rows_are_reported_by_line_and_nothing_is_posted(database: Database) -> None:
    bank = Customers(database)
    alice, bob, bob_eur = bank.numbers["alice"], bank.numbers["bob"], bank.numbers["bob_eur"]
    content = csv_file(
        f"ok-1,{at(0)},deposit,,{alice},100.00,USD,",
        f"bad-3,{at(1)},deposit,,400000000000,5.00,USD,unknown account",
        f"ok-4,{at(2)},transfer,{alice},{bob},10.00,USD,",
        f"bad-5,{at(3)},deposit,,{bob_eur},5.00,USD,wrong currency",
        f"bad-6,{at(4)},deposit,,{alice},5.001,USD,too many decimals",
        f"bad-7,yesterday,refund,,{alice},5.00,USD,",
    )
    with database.read() as conn:
        before = row_counts(conn)

    report = run_import(database, content)

    assert [error.line for error in report.errors] == [3, 5, 6, 7]
    messages = dict(report.errors)
    assert "account 400000000000 not found" in messages[3]
    assert f"does not match account {bob_eur} (EUR)" in messages[5]
    assert "at most 2 decimal places" in messages[6]
    assert "not an ISO 8601" in messages[7]
    assert "'refund' is not one of" in messages[7]
    assert report.posted == 0
    with database.read() as conn:
        assert row_counts(conn) == before


def test_partial_posts_the_good_rows_and_reports_the_bad(database: Database) -> None:
    bank = Customers(database)
    alice, bob = bank.numbers["alice"], bank.numbers["bob"]
    content = csv_file(
        f"p-1,{at(0)},deposit,,{alice},100.00,USD,",
        f"p-2,{at(1)},transfer,{alice},{alice},1.00,USD,to itself",
        f"p-3,{at(2)},transfer,{alice},{bob},30.00,USD,",
        f"p-4,{at(3)},withdrawal,{bob},,31.00,USD,more than bob has",
        f"p-5,{at(4)},withdrawal,{bob},,30.00,USD,",
    )

    report = run_import(database, content, partial=True)

    assert [error.line for error in report.errors] == [3, 5]
    assert "same account" in report.errors[0].message
    assert report.errors[1].message == f"account {bob} has 30.00 USD available"
    assert (report.posted, report.partial) == (3, True)
    assert bank.balances() == {"alice": 70_00, "bob": 0, "bob_eur": 0}
    with database.read() as conn:
        assert_ledger_sound(conn)

    retried = run_import(database, content, partial=True)
    assert (retried.posted, retried.skipped_duplicates) == (0, 3)
    assert [error.line for error in retried.errors] == [3, 5]


def test_insufficient_funds_found_while_posting_rolls_back_the_whole_file(
    database: Database,
) -> None:
    bank = Customers(database)
    alice, bob = bank.numbers["alice"], bank.numbers["bob"]
    content = csv_file(
        f"f-1,{at(0)},deposit,,{alice},100.00,USD,",
        f"f-2,{at(1)},transfer,{alice},{bob},100.01,USD,",
        f"f-3,{at(2)},withdrawal,{bob},,1.00,USD,",
    )
    with database.read() as conn:
        before = row_counts(conn)

    report = run_import(database, content)
    dry = run_import(database, content, dry_run=True)

    assert report.errors == [
        RowError(3, f"account {alice} has 100.00 USD available"),
        RowError(4, f"account {bob} has 0.00 USD available"),
    ]
    assert report.posted == 0
    assert (dry.errors, dry.posted) == (report.errors, 0)
    with database.read() as conn:
        assert row_counts(conn) == before


def test_rows_older_than_an_accounts_latest_entry_are_refused(database: Database) -> None:
    bank = Customers(database)
    alice, bob = bank.numbers["alice"], bank.numbers["bob"]
    database.write(
        lambda conn: posting.deposit(
            conn, account_id=bank.ids["bob"], amount="10.00", actor_id=None, occurred_at=T0
        )
    )
    content = csv_file(
        f"o-1,{at(-1)},deposit,,{alice},50.00,USD,",
        f"o-2,{at(-0.5)},transfer,{alice},{bob},5.00,USD,",
    )

    refused = run_import(database, content)
    same_moment = run_import(database, csv_file(f"o-3,{at(0)},deposit,,{bob},1.00,USD,"))

    [error] = refused.errors
    assert error.line == 3
    assert "earlier than the latest entry of account " + bob in error.message
    assert "time order" in error.message
    assert refused.posted == 0
    assert (same_moment.posted, same_moment.errors) == (1, [])
    assert bank.balances() == {"alice": 0, "bob": 11_00, "bob_eur": 0}


def test_import_command_prints_the_report_and_exits_non_zero_on_refusals(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    bank = Customers(database)
    good = tmp_path / "good.csv"
    good.write_text(bank.history_file())
    bad = tmp_path / "bad.csv"
    bad.write_text(csv_file(f"x-1,{at(0)},deposit,,{bank.numbers['alice']},-5,USD,"))

    dry = invoke(database_url, "import", "transactions", str(good), "--dry-run")
    refused = invoke(database_url, "import", "transactions", str(bad))
    posted = invoke(database_url, "import", "transactions", str(good))

    assert dry.exit_code == 0, dry.output
    assert "would post" in dry.output
    assert bank.balances()["alice"] == 749_50
    assert refused.exit_code == 1
    assert "amount must be greater than zero" in refused.output
    assert "nothing was posted" in refused.output
    assert posted.exit_code == 0, posted.output


def invoke(database_url: str, *args: str) -> object:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(
            cli_app, list(args), env={"LEDGERBANK_DATABASE_URL": database_url, "COLUMNS": "200"}
        )
    finally:
        get_settings.cache_clear()


# --- reading the file (no database) ---------------------------------------------------------

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def test_parse_names_the_line_of_each_problem_even_after_a_multi_line_cell() -> None:
    content = csv_file(
        f'a-1,{at(0)},deposit,,400000000017,1.00,USD,"two\nlines"',
        "",
        f"a-1,{at(1)},deposit,,400000000017,1.00,USD,",
        f"a-3,{at(2)},transfer,400000000017,,1.00,USD,",
        "a-4,2027-01-01T00:00:00+00:00,withdrawal,400000000017,,1.00,XXX,",
    )

    rows, refused, count = parse(content, now=NOW)

    assert [row.line for row in rows] == [2]
    assert rows[0].description == "two\nlines"
    assert count == 4
    assert refused == [
        RowError(5, "external_id 'a-1' already appears on line 2"),
        RowError(6, "a transfer needs to_account"),
        RowError(7, "timestamp 2027-01-01T00:00:00+00:00 is in the future; 'XXX' is not a "
                 "supported ISO 4217 currency code"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", RowError(1, "the file is empty: expected the columns " + HEADER.replace(",", ", "))),
        ("external_id,timestamp,type,amount\n", RowError(1, "missing column(s): from_account, "
                                                            "to_account, currency")),
        (b"\xff\xfe", RowError(1, "the file is not UTF-8 text")),
    ],
)  # fmt: skip
def test_parse_refuses_a_file_it_cannot_read(content: str | bytes, expected: RowError) -> None:
    assert parse(content, now=NOW) == ([], [expected], 0)


def test_parse_reads_timestamps_as_utc_and_accepts_a_byte_order_mark() -> None:
    content = "\ufeff" + csv_file(
        "t-1,2026-03-02T11:30:00+02:00,Deposit,,400000000017,1,usd,",
        "t-2,2026-03-02 09:30:00,deposit,,400000000017,1,USD,",
    )

    rows, refused, _ = parse(content.encode(), now=NOW)

    assert refused == []
    assert [(row.occurred_at, row.type, row.currency) for row in rows] == [
        (T0, "deposit", "USD"),
        (T0, "deposit", "USD"),
    ]
