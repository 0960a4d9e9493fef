"""`ledgerbank audit ...`: the audit trail's hash chain."""

from __future__ import annotations

import typer
from rich.console import Console

from ledgerbank.audit import service
from ledgerbank.kit.commands import open_database

app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)
console = Console()


@app.command("verify")
def verify_command() -> None:
    """Seal pending records, then walk the whole chain; exit code 0 only when intact."""
    database = open_database()
    service.try_seal(database.write)
    with database.read() as conn:
        report = service.verify(conn)
    if report.ok:
        console.print(f"[green]audit chain intact[/green]: {report.checked} records checked")
        return
    console.print(
        f"[red]audit chain BROKEN[/red] at record {report.first_broken_id}: {report.detail} "
        f"({report.checked} records checked before it)"
    )
    raise typer.Exit(1)
