"""`ledgerbank import ...`: load transaction history from CSV files.

Imported history is scored by the risk screen like live postings (never blocked); the screen
comes from the CLI's composition (`ledgerbank.cli` puts a `Composition` in the command
context), so the ledger imports nothing from `risk`.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ledgerbank.audit import service as audit
from ledgerbank.config import get_settings
from ledgerbank.kit.commands import open_database
from ledgerbank.kit.composition import composed
from ledgerbank.ledger.import_file import COLUMNS
from ledgerbank.ledger.importer import ImportReport, import_transactions

app = typer.Typer(help="Bulk import of transaction history.", no_args_is_help=True)
console = Console()


@app.command("transactions")
def transactions_command(
    context: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help=f"A CSV file with the columns {', '.join(COLUMNS)}.",
        ),
    ],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report what would be posted; write nothing.")
    ] = False,
    partial: Annotated[
        bool,
        typer.Option("--partial", help="Post the good rows even when some rows are refused."),
    ] = False,
) -> None:
    """Import transactions with their original timestamps; exit code 0 only if no row failed.

    Rows already imported (same external_id) are skipped, so a file can be imported again.
    Without --partial, one bad row means nothing of the file is posted.
    """
    settings = get_settings()
    database = open_database()
    with Progress(
        TextColumn("[bold]posting"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("posting", total=None)
        report = import_transactions(
            database,
            file.read_bytes(),
            file_name=file.name,
            actor_id=None,
            dry_run=dry_run,
            partial=partial,
            screen=composed(context).screen(settings),  # scored, never blocked
            max_major=Decimal(settings.max_amount),
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    if not dry_run:
        audit.try_seal(database.write)
    print_report(report)
    if report.errors:
        raise typer.Exit(1)


def print_report(report: ImportReport) -> None:
    verb = "would post" if report.dry_run else "posted"
    summary = Table(
        title=f"import of {report.file_name}" + (" (dry run)" if report.dry_run else "")
    )
    summary.add_column("rows", justify="right")
    summary.add_column(verb, justify="right")
    summary.add_column("skipped (already imported)", justify="right")
    summary.add_column("refused", justify="right")
    summary.add_row(
        str(report.rows),
        str(report.posted),
        str(report.skipped_duplicates),
        str(len(report.errors)),
    )
    console.print(summary)
    if report.errors:
        refused = Table("line", "why the row was refused", title="refused rows")
        for error in report.errors:
            refused.add_row(str(error.line), error.message)
        console.print(refused)
        if not report.partial:
            console.print("[red]nothing was posted[/red]: fix the rows above or use --partial")
