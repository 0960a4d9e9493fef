"""`ledgerbank ledger ...`: operator commands on the ledger."""

from __future__ import annotations

import typer
from rich.console import Console

from ledgerbank import errors
from ledgerbank.config import get_settings
from ledgerbank.identity.service import find_user
from ledgerbank.kit.commands import open_database
from ledgerbank.kit.composition import composed
from ledgerbank.kit.db import Database
from ledgerbank.ledger.closing import CloseAccount
from ledgerbank.ledger.money import Answer, Caller, MoneyRequest, MoneyService, Order

app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)
console = Console()


def run_as(context: typer.Context, database: Database, username: str, order: Order) -> Answer:
    """Run a money order through the money service as a staff user (audited as them); a
    refusal prints its code and exits 2."""
    with database.read() as conn:
        user = find_user(conn, username)
    if user is None or not user["is_active"]:
        raise errors.NotFound(f"user {username!r} not found")
    settings = get_settings()
    screen = composed(context).screen(settings)
    money = MoneyService.from_settings(database, lambda: screen, settings)
    answer = money.run(MoneyRequest(Caller(int(user["id"]), str(user["role"])), order))
    if answer.status >= 400:
        console.print(f"[red]refused[/red] ({answer.code}): {answer.body.get('detail')}")
        raise typer.Exit(2)
    return answer


@app.command("close-account")
def close_account_command(
    context: typer.Context,
    account_id: int = typer.Argument(..., help="The account to close."),
    move_to: int | None = typer.Option(
        None, "--move-to", help="Move the rest to this account of the same customer."
    ),
    reason: str = typer.Option(..., help="Why (audited)."),
    as_user: str = typer.Option(..., "--as", help="The staff user closing it (audited)."),
) -> None:
    """Close an account: interest owed to today paid in, the rest moved out (or a zero
    balance), standing orders ended and holds voided, in one transaction."""
    answer = run_as(context, open_database(), as_user, CloseAccount(account_id, reason, move_to))
    body = answer.body
    console.print(f"account {body['account']['account_number']} is closed")
    for name, label in (("interest_paid", "interest paid in"), ("moved_out", "moved out")):
        if body.get(name):
            console.print(f"{label}: {body[name]['amount']} {body[name]['currency']}")
