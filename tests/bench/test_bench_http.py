"""`ledgerbank bench http`: a tiny run against a real uvicorn completes, prints its figures,
gets nothing but 201s and leaves a sound ledger with one transfer per 201."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from typer.testing import CliRunner

from ledgerbank import errors
from ledgerbank.cli import app as cli_app
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.ledger import integrity
from ledgerbank.ledger.tables import accounts, transactions

pytestmark = pytest.mark.http


@pytest.fixture
def backend() -> str:
    """The HTTP path is the same on every database; the database benchmarks run elsewhere."""
    return "sqlite"


def bench(database_url: str, data_dir: Path, *options: str) -> Any:
    return CliRunner().invoke(
        cli_app,
        ["bench", "http", "--database-url", database_url, *options],
        env={"COLUMNS": "200", "LEDGERBANK_DATA_DIR": str(data_dir)},
    )


def test_a_tiny_http_benchmark_gets_only_201s_and_leaves_a_sound_ledger(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    result = bench(
        database_url,
        tmp_path,
        *("--workers", "1", "--clients", "2", "--customers", "2"),
        *("--accounts-per-customer", "2"),
        *("--seconds", "1.5", "--warmup", "0.5"),
    )

    assert result.exit_code == 0, result.output
    for heading in ("requests/s", "p50 ms", "p95 ms", "p99 ms", "server cores"):
        assert heading in result.output
    row = next(line for line in result.output.splitlines() if "transfer, 2 connections" in line)
    answered = int(row.split("│")[3].replace(",", ""))
    assert answered > 0, row
    status_rows = [
        line.split("│")[2].strip()
        for line in result.output.splitlines()
        if "transfer, 2 connections" in line and line.count("│") == 4
    ]
    assert status_rows == ["201"], result.output  # one status row: nothing but 201
    posted = re.search(
        r"ledger sound after the benchmark; ([\d,]+) transfers posted", result.output
    )
    assert posted is not None, result.output
    with database.read() as conn:
        transfers = conn.execute(
            select(func.count()).select_from(transactions).where(transactions.c.type == "transfer")
        ).scalar_one()
        customer_accounts = conn.execute(
            select(func.count()).select_from(accounts).where(accounts.c.is_internal == 0)
        ).scalar_one()
        assert integrity.violations(conn) == []
    assert transfers == int(posted.group(1).replace(",", "")) >= answered
    assert customer_accounts == 4  # two customers, two accounts each


def test_the_http_benchmark_refuses_a_database_with_other_users(
    database: Database, database_url: str, tmp_path: Path
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

    result = bench(database_url, tmp_path, "--seconds", "0.1", "--customers", "2")

    assert isinstance(result.exception, errors.Conflict)
    assert "--force" in str(result.exception)
    with database.read() as conn:
        assert conn.execute(select(func.count()).select_from(accounts)).scalar_one() == 0
