"""`ledgerbank bench events`: a tiny run completes and prints its figures."""

from __future__ import annotations

from events_helpers import NATS_URL
from typer.testing import CliRunner

from ledgerbank.cli import app as cli_app
from ledgerbank.kit.db import Database
from ledgerbank.ledger import integrity


def test_a_tiny_events_benchmark_prints_its_figures(database: Database, database_url: str) -> None:
    options = ("--seconds", "0.5", "--clients", "2", "--accounts", "10", "--events-url", NATS_URL)
    result = CliRunner().invoke(
        cli_app,
        ["bench", "events", "--database-url", database_url, *options],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    for heading in (
        "single transfers/s with outbox rows",
        "outbox rows per transfer: build + bulk insert",
        "events/s commit → NATS JetStream",
        "deliveries/s to the webhook receiver",
    ):
        assert heading in result.output
    received = next(line for line in result.output.splitlines() if "deliveries received" in line)
    assert int(received.split("│")[2].replace(",", "")) > 0, received
    with database.read() as conn:
        assert integrity.violations(conn) == []
