"""`ledgerbank holds ...`: list holds, capture or void one as an admin, expire what is due."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from ledgerbank.kit.commands import open_database
from ledgerbank.kit.db import Database
from ledgerbank.ledger import hold_orders, holds
from ledgerbank.ledger.commands import run_as
from ledgerbank.ledger.money import Order

app = typer.Typer(help="Holds (card authorisations).", no_args_is_help=True)
console = Console()


@app.command("list")
def list_command(
    account_id: int | None = typer.Option(None, help="Only this account's holds."),
    status: str | None = typer.Option(None, help="active, captured, voided or expired."),
    limit: int = typer.Option(50, min=1, max=500),
) -> None:
    """Holds, newest first."""
    with open_database().read() as conn:
        rows = holds.list_holds(
            conn,
            account_ids=None if account_id is None else [account_id],
            status=status,
            limit=limit,
        )
    table = Table("id", "account", "payee", "amount", "status", "expires", "description")
    for row in rows:
        body = holds.hold_body(row, staff=True)
        table.add_row(
            str(body["id"]),
            str(body["account_id"]),
            str(body["payee_account_id"] or "card settlement"),
            f"{body['amount']} {body['currency']}",
            body["status"],
            str(body["expires_at"]),
            body["description"],
        )
    console.print(table)


def _run_as(context: typer.Context, database: Database, username: str, order: Order) -> None:
    body = run_as(context, database, username, order).body
    console.print(f"hold {body['id']} is {body['status']} ({body['amount']} {body['currency']})")


@app.command("capture")
def capture_command(
    context: typer.Context,
    hold_id: int = typer.Argument(..., help="The hold."),
    amount: str | None = typer.Option(None, help="A partial capture (default: all of it)."),
    as_user: str = typer.Option(..., "--as", help="The admin capturing it (audited)."),
) -> None:
    """Post all or part of a hold (screened by risk) and release the rest."""
    _run_as(context, open_database(), as_user, hold_orders.CaptureHold(hold_id, amount))


@app.command("void")
def void_command(
    context: typer.Context,
    hold_id: int = typer.Argument(..., help="The hold."),
    as_user: str = typer.Option(..., "--as", help="The admin voiding it (audited)."),
) -> None:
    """Release a hold without posting."""
    _run_as(context, open_database(), as_user, hold_orders.VoidHold(hold_id))


@app.command("expire")
def expire_command() -> None:
    """Mark every hold past its expiry expired (the worker does this too)."""
    marked = holds.expire_holds(open_database())
    console.print(f"{marked} hold(s) expired")
