"""`ledgerbank demo ...`: load the demo bank and print who can sign in."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ledgerbank.audit import service as audit
from ledgerbank.config import get_settings
from ledgerbank.demo import service
from ledgerbank.demo.history import DEFAULT_SEED
from ledgerbank.kit.commands import open_database
from ledgerbank.risk import training as risk_training

app = typer.Typer(help="The demo bank.", no_args_is_help=True)
console = Console()


@app.command("load")
def load_command(
    if_empty: Annotated[
        bool, typer.Option("--if-empty", help="Load only into a database without users.")
    ] = False,
    seed: Annotated[int, typer.Option(help="Seed of the generated history.")] = DEFAULT_SEED,
) -> None:
    """Load users of every role, their accounts and six months of history ending today."""
    database = open_database()
    if if_empty:
        with database.read() as conn:
            if service.has_users(conn):
                console.print("the database already has users: demo bank not loaded")
                return
    with Progress(
        TextColumn("[bold]posting demo history"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task("demo", total=None)
        bank = service.load(
            database,
            seed=seed,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            pin_keyring=get_settings().pin_keyring(),
        )
    with console.status("training the risk model on the demo history and scoring it"):
        version, _ = risk_training.prepare_history(database, get_settings())
    console.print(f"risk model {version or '(none yet: the rules decide alone)'}; history scored")
    audit.try_seal(database.write)
    print_bank(bank)


def print_bank(bank: service.DemoBank) -> None:
    people = Table(title="demo users (sign in with these)")
    for column in ("username", "password", "PIN", "role", "name"):
        people.add_column(column, overflow="fold")
    for user in bank.users:
        people.add_row(user.username, user.password, user.pin or "", user.role, user.full_name)
    console.print(people)
    numbers = Table(title="demo accounts")
    for column in ("owner", "account number", "type", "currency"):
        numbers.add_column(column, overflow="fold")
    for account in bank.accounts:
        numbers.add_row(
            account.owner, account.account_number, account.account_type, account.currency
        )
    console.print(numbers)
    console.print(
        f"demo bank loaded: {len(bank.users)} users, {len(bank.accounts)} accounts, "
        f"{bank.transactions} transactions from {bank.first_posted_at:%Y-%m-%d} "
        f"to {bank.last_posted_at:%Y-%m-%d}"
    )
