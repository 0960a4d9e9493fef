"""`ledgerbank bench reports` (a small bulk load, then the timings) and `analytics backtest`."""

from __future__ import annotations

from sqlalchemy import func, select
from typer.testing import CliRunner

from ledgerbank.bench.bulkload import BENCH_PREFIX
from ledgerbank.cli import app
from ledgerbank.identity.tables import users
from ledgerbank.kit.db import Database
from ledgerbank.ledger import integrity
from ledgerbank.ledger.tables import accounts, entries, transactions
from ledgerbank.risk.tables import risk_scores

runner = CliRunner()


def test_bench_reports_loads_a_sound_bank_and_times_every_report(database_url: str) -> None:
    options = ["--database-url", database_url, "--transactions", "3000", "--customers", "60"]
    result = runner.invoke(app, ["bench", "reports", *options, "--months", "4", "--repeat", "1"])
    assert result.exit_code == 0, result.output
    assert "ledger sound" in result.output
    for report in ("kpis, all history", "custom: verdict x type", "compliance metrics"):
        assert report in result.output
    database = Database.from_url(database_url)
    try:
        with database.read() as conn:
            assert integrity.violations(conn) == []
            count = conn.execute(select(func.count()).select_from(transactions)).scalar_one()
            kinds = set(conn.execute(select(transactions.c.type).distinct()).scalars())
            statuses = set(conn.execute(select(transactions.c.status).distinct()).scalars())
            people = conn.execute(
                select(func.count()).where(users.c.username.like(f"{BENCH_PREFIX}%"))
            ).scalar_one()
            scored = conn.execute(select(func.count()).select_from(risk_scores)).scalar_one()
            # Each customer account's balance is the sum of its entries (and never negative).
            mismatched = conn.execute(
                select(func.count())
                .select_from(accounts)
                .where(
                    accounts.c.is_internal == 0,
                    accounts.c.balance
                    != select(func.coalesce(func.sum(entries.c.amount), 0))
                    .where(entries.c.account_id == accounts.c.id)
                    .scalar_subquery(),
                )
            ).scalar_one()
    finally:
        database.dispose()
    assert 2900 <= count <= 3100  # the plan's size, and the reversals it adds
    assert f"loaded {count:,} transactions" in result.output
    assert {"deposit", "withdrawal", "transfer"} <= kinds
    assert "posted" in statuses
    assert people == 60
    assert scored > count * 0.9
    assert mismatched == 0

    refused = runner.invoke(app, ["bench", "reports", *options, "--repeat", "1"])
    assert refused.exit_code != 0
    assert "not empty" in str(refused.exception) + refused.output

    backtest = runner.invoke(app, ["analytics", "backtest", "--database-url", database_url])
    assert backtest.exit_code == 0, backtest.output
    assert "robust_seasonal" in backtest.output
    assert "linear_regression" in backtest.output
    assert "MAPE" in backtest.output
