"""`ledgerbank ledger ...`: operator commands on the ledger."""

from __future__ import annotations

import time
from collections.abc import Sequence

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ledgerbank.audit import service as audit
from ledgerbank.kit.commands import open_database
from ledgerbank.kit.db import Database
from ledgerbank.ledger import verification

app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)
console = Console()
SHOWN_FINDINGS = 200


def print_findings(findings: Sequence[verification.Finding]) -> None:
    table = Table("check", "what", "found", "meaning")
    for finding in findings[:SHOWN_FINDINGS]:
        table.add_row(finding.check, finding.subject, finding.detail, finding.meaning)
    console.print(table)
    if len(findings) > SHOWN_FINDINGS:
        console.print(f"... and {len(findings) - SHOWN_FINDINGS} more")


def verify_ledger(database: Database, *, full: bool) -> verification.Report:
    """Seal pending records, then verify in one snapshot with a progress bar."""
    audit.seal_pending(database.write)
    with verification.snapshot(database) as conn:
        start = verification.Start() if full else verification.last_start(conn)
        total = max(verification.head_position(conn) - start.position, 0)
        columns = (
            TextColumn("verifying"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("records"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("verify", total=total)
            return verification.run(conn, full=full, progress=lambda n: progress.advance(task, n))


@app.command("verify")
def verify_command(
    full: bool = typer.Option(
        False, "--full", help="Check everything from the first record, not from the last run."
    ),
) -> None:
    """Check every posting against its entries, its audit record and the balance chains;
    exit code 0 only when the ledger is sound. Starts where the last sound run stopped."""
    database = open_database()
    began = time.perf_counter()
    report = verify_ledger(database, full=full)
    seconds = time.perf_counter() - began
    scope = (
        "full run"
        if full or not report.start.position
        else f"from chain position {report.start.position}"
    )
    if report.ok:
        database.write(lambda conn: verification.store(conn, report))
        console.print(
            f"[green]ledger sound[/green]: every invariant holds ({scope}: {report.postings} "
            f"postings and {report.records} audit records checked in {seconds:.1f} s; verified "
            f"up to chain position {report.position}, {report.transactions} transactions, "
            f"{report.entries} entries, {report.scores} scores)"
        )
        return
    print_findings(report.findings)
    console.print(
        f"[red]ledger NOT sound[/red]: {len(report.findings)} finding(s) ({scope}, {seconds:.1f} s)"
    )
    raise typer.Exit(1)
