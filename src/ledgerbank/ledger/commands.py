"""`ledgerbank ledger ...`: operator commands on the ledger."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from ledgerbank.kit.commands import open_database
from ledgerbank.ledger import integrity

app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)
console = Console()


@app.command("verify")
def verify_command() -> None:
    """Check every ledger invariant; exit code 0 only when the ledger is sound."""
    with open_database().read() as conn:
        found = integrity.violations(conn)
    if not found:
        console.print("[green]ledger sound[/green]: every invariant holds")
        return
    table = Table("check", "entity", "difference (minor units)", "meaning")
    for violation in found:
        table.add_row(
            violation.check,
            f"{violation.entity_type} {violation.entity_id}",
            str(violation.difference),
            violation.meaning,
        )
    console.print(table)
    console.print(f"[red]ledger NOT sound[/red]: {len(found)} violation(s)")
    raise typer.Exit(1)
