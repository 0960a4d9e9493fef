"""`ledgerbank bench ledger`: a tiny run completes, prints its figures and leaves a sound ledger."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, insert, select
from typer.testing import CliRunner

from ledgerbank import errors
from ledgerbank.bench.report import percentile
from ledgerbank.cli import app as cli_app
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.ledger import integrity
from ledgerbank.ledger.tables import accounts, transactions


def bench(database_url: str, *options: str) -> Any:
    return CliRunner().invoke(
        cli_app,
        ["bench", "ledger", "--database-url", database_url, *options],
        env={"COLUMNS": "200"},
    )


def test_a_tiny_ledger_benchmark_posts_transfers_and_prints_its_figures(
    database: Database, database_url: str
) -> None:
    result = bench(
        database_url,
        *("--seconds", "0.5", "--workers", "2", "--clients", "3", "--accounts", "20"),
        *("--hot", "3", "--batch-size", "20"),
    )

    assert result.exit_code == 0, result.output
    for heading in ("transfers/s", "p50 ms", "p99 ms", "requests per commit"):
        assert heading in result.output
    reference = {"sqlite": "raw sqlite3 loop", "postgresql": "pgbench-transfer"}
    if database.dialect in reference:  # measured in the same run, each rate as a ratio to it
        assert f"ratio to {reference[database.dialect]}" in result.output
    for scenario in (
        "single, 20 accounts",
        "single, 3 hot accounts",
        "batch of 20, 10 accounts/worker",
    ):
        row = next(line for line in result.output.splitlines() if scenario in line)
        posted = int(row.split("│")[3].replace(",", ""))
        assert posted > 0, row
    assert "ledger sound after the benchmark" in result.output
    with database.read() as conn:
        kinds = dict(
            conn.execute(
                select(transactions.c.type, func.count()).group_by(transactions.c.type)
            ).all()
        )
        bench_accounts = conn.execute(
            select(func.count()).select_from(accounts).where(accounts.c.is_internal == 0)
        ).scalar_one()
        assert integrity.violations(conn) == []
    assert kinds["deposit"] == bench_accounts == 20  # each bench account funded once
    assert kinds["transfer"] >= 20


def test_the_benchmark_refuses_a_database_with_other_users(
    database: Database, database_url: str
) -> None:
    now = utcnow()
    database.write(
        lambda conn: conn.execute(
            insert(users),
            {
                "username": "alice",
                "email": "alice@example.com",
                "full_name": "Alice",
                "password_hash": "not-a-hash",
                "created_at": now,
                "updated_at": now,
            },
        )
    )

    result = bench(database_url, "--seconds", "0.1", "--workers", "1")

    assert isinstance(result.exception, errors.Conflict)
    assert "--force" in str(result.exception)
    with database.read() as conn:
        assert conn.execute(select(func.count()).select_from(accounts)).scalar_one() == 0


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]

    assert (percentile(values, 0.5), percentile(values, 0.99), percentile(values, 1.0)) == (
        50.0,
        99.0,
        100.0,
    )
    assert percentile([], 0.5) == 0.0
    assert percentile([7.0], 0.99) == 7.0
