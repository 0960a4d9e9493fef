"""`ledgerbank fx import|rates` and `ledgerbank interest set-rate|rates|accrue|pay`."""

from __future__ import annotations

from pathlib import Path

from ledger_helpers import run_cli
from sqlalchemy import Table, func, select

from ledgerbank.fx.tables import fx_rates
from ledgerbank.interest.tables import interest_rates
from ledgerbank.kit.db import Database

GOOD = (
    "base,quote,rate,valid_from\n"
    "EUR,USD,1.0850,2026-11-01T00:00:00+00:00\n"
    "USD,JPY,151.2,2026-11-01\n"
)


def count(database: Database, table: Table) -> int:
    with database.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_rates_import_all_or_none_and_again_without_duplicates(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD + "GBP,USD,1.2.3,2026-11-01\n")
    refused = run_cli(database_url, "fx", "import", str(bad))
    assert refused.exit_code != 0
    assert "line 4" in str(refused.exception), refused.output
    assert count(database, fx_rates) == 0  # one bad row: nothing loaded

    good = tmp_path / "rates.csv"
    good.write_text(GOOD)
    loaded = run_cli(database_url, "fx", "import", str(good))
    assert loaded.exit_code == 0, loaded.output
    assert "2 rates added, 0 already loaded" in loaded.output
    again = run_cli(database_url, "fx", "import", str(good))
    assert "0 rates added, 2 already loaded" in again.output
    assert count(database, fx_rates) == 2
    listed = run_cli(database_url, "fx", "rates")
    assert "1.085" in listed.output
    assert "151.2" in listed.output


def test_interest_commands(database: Database, database_url: str) -> None:
    made = run_cli(database_url, "interest", "set-rate", "0.03", "--from", "2026-01-01")
    assert made.exit_code == 0, made.output
    assert count(database, interest_rates) == 1
    assert "0.03" in run_cli(database_url, "interest", "rates").output
    accrued = run_cli(database_url, "interest", "accrue", "--date", "2026-11-30")
    assert accrued.exit_code == 0, accrued.output
    assert "accrued on 0 accounts" in accrued.output  # no savings accounts yet
    paid = run_cli(database_url, "interest", "pay", "--date", "2026-11-15")
    assert paid.exit_code == 0, paid.output
    assert "0 accounts paid" in paid.output
