"""`ledgerbank ledger verify` and `ledgerbank audit verify` (added to those groups by the CLI):
the ledger's postings and the audit trail checked, with progress, findings and exit codes."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ledgerbank.audit import service as audit
from ledgerbank.config import get_settings
from ledgerbank.kit.commands import open_database
from ledgerbank.kit.db import Database
from ledgerbank.proof import audit_trail as proof
from ledgerbank.proof import postings as verification

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


def ledger_verify_command(
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


def audit_verify_command(
    checkpoint: list[Path] = typer.Option(
        [], "--checkpoint", help="An exported checkpoint file to check too (repeatable)."
    ),
    trusted_key: list[str] = typer.Option(
        [], "--trusted-key", help="A public key (base64) to trust besides the configured ones."
    ),
) -> None:
    """Seal pending records, walk the whole chain, check every signed checkpoint (stored and
    given) and every recorded posting against the ledger; exit code 0 only when intact."""
    result = proof.verify(
        open_database(), get_settings(), files=checkpoint, trusted_keys=trusted_key
    )
    chain = result.chain
    if chain.ok:
        console.print(f"[green]audit chain intact[/green]: {chain.checked} records checked")
    else:
        console.print(
            f"[red]audit chain BROKEN[/red] at record {chain.first_broken_id}: {chain.detail} "
            f"({chain.checked} records checked before it)"
        )
    signed = result.checkpoints
    for problem in signed.problems:
        console.print(f"[red]checkpoint problem[/red]: {problem}")
    if signed.newest_position is not None:
        console.print(
            f"{signed.checked} signed checkpoint(s) checked; the newest valid one covers chain "
            f"position {signed.newest_position} ({signed.newest_created_at}); "
            f"{result.uncovered} record(s) after it are covered by no checkpoint yet"
        )
    elif not signed.problems:
        console.print(
            "[yellow]no signed checkpoint[/yellow]: a chain rewritten with recomputed hashes "
            "would go unnoticed (`ledgerbank audit checkpoint` signs one)"
        )
    if result.ledger.findings:
        print_findings(result.ledger.findings)
        console.print(
            f"[red]the ledger does not match its audit records[/red]: "
            f"{len(result.ledger.findings)} finding(s)"
        )
    else:
        console.print(
            f"every recorded posting matches the ledger ({result.ledger.postings} checked)"
        )
    if not result.ok:
        raise typer.Exit(1)
