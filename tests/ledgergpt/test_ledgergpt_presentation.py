"""`ledgerbank ask` for people: columns that matter, amounts and dates written out, nothing cut
to three characters in an 80-column terminal, one record per block when a table cannot fit."""

from __future__ import annotations

import csv
import io
import json
from types import SimpleNamespace

from ledgerbank.ledgergpt import presentation
from ledgerbank.ledgergpt.plan import GroupKey, Metric, QueryPlan, Subject

COLUMNS = [
    "id", "created_at", "type", "status", "amount", "currency", "from_username",
    "from_account_number", "to_username", "to_account_number", "description", "risk_verdict",
]  # fmt: skip
ROWS = [
    [812, "2026-06-11T01:52:10+00:00", "transfer", "posted", "1250.00", "USD", "alice",
     "400438067860", "mallory", "402758873119", "Payment", "SUSPICIOUS"],
    [813, "2026-06-11T02:05:41+00:00", "transfer", "posted", "87.5", "USD", "alice",
     "400438067860", "mallory", "402758873119", "Payment", None],
]  # fmt: skip
TRANSFERS = QueryPlan(subject=Subject.TRANSACTIONS, transaction_types=("transfer",))


def test_a_transaction_list_fits_80_columns_with_whole_values() -> None:
    table = presentation.shown(COLUMNS, ROWS, TRANSFERS)
    assert presentation.fits(table, 80)
    assert table.headers == ["id", "date", "amount", "from", "to", "description", "verdict"]
    assert table.rows[0] == ["812", "2026-06-11 01:52", "1,250.00 USD", "alice", "mallory",
                             "Payment", "SUSPICIOUS"]  # fmt: skip
    assert table.rows[1][2] == "87.5 USD"
    assert table.rows[1][-1] == "—"
    assert set(table.hidden) >= {"type", "status", "currency", "from_account_number"}


def test_every_column_on_request_and_records_when_it_cannot_fit() -> None:
    table = presentation.shown(COLUMNS, ROWS, TRANSFERS, every_column=True)
    assert len(table.headers) == len(COLUMNS)
    assert not presentation.fits(table, 80)
    lines = presentation.records(table, 80)
    assert all(len(line) <= 80 for line in lines)
    assert "402758873119" in "\n".join(lines)  # whole, not "402…"
    assert sum(line.startswith("— ") for line in lines) == 2  # one block per record
    long = presentation.shown(["description"], [["x" * 200]], None)
    wrapped = presentation.records(long, 80)
    assert all(len(line) <= 80 for line in wrapped)
    assert "".join(line.split("  ", 1)[-1].strip() for line in wrapped[1:]) == "x" * 200


def test_figures_keep_their_keys_and_show_the_currency_with_the_amount() -> None:
    plan = QueryPlan(subject=Subject.TRANSACTIONS, metric=Metric.TOTAL, group_by=(GroupKey.MONTH,))
    table = presentation.shown(
        ["month", "currency", "total"],
        [["2026-05", "EUR", "400"], ["2026-05", "USD", "90684.13"]],
        plan,
    )
    assert table.headers == ["month", "total"]
    assert table.rows == [["2026-05", "400 EUR"], ["2026-05", "90,684.13 USD"]]


def test_scripts_get_every_column_exactly_as_csv_or_json() -> None:
    text = presentation.as_csv(COLUMNS, ROWS)
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[0] == COLUMNS
    assert parsed[1][4] == "1250.00"  # the exact decimal, not "1,250.00 USD"
    assert parsed[2][-1] == ""
    answer = SimpleNamespace(
        question="q", sql="SELECT 1", parameters={}, explanation="e", columns=COLUMNS, rows=ROWS,
        row_count=2, truncated=False, engine="offline",
    )  # fmt: skip
    document = json.loads(presentation.as_json(answer))
    assert document["rows"][0][4] == "1250.00"
    assert document["columns"] == COLUMNS
