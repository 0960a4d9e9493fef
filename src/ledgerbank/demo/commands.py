"""`ledgerbank demo ...`: load the demo bank and print who can sign in."""

from __future__ import annotations

import time
from typing import Annotated

import pyotp
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.config import get_settings
from ledgerbank.demo import currencies, service
from ledgerbank.demo.history import DEFAULT_SEED, USERS
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.commands import open_database
from ledgerbank.ledger.limits import DailyLimits
from ledgerbank.ledger.money import MoneyService
from ledgerbank.ledger.screening import NO_SCREEN
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
            sealer=get_settings().sealer(),
        )
    settings = get_settings()
    with console.status("exchange rates, an exchange, interest on savings"):
        money = MoneyService.from_settings(database, lambda: NO_SCREEN, settings)
        now = utcnow()
        extra = currencies.load(
            database, money, now=now, today=DailyLimits.from_settings(settings).business_day(now)
        )
    console.print(
        f"EUR/USD rates set; Carol's exchange answered {extra.exchange_status}; interest accrued "
        f"for {extra.accrued_days} days, last month paid to {extra.paid_accounts} accounts"
    )
    with console.status("training the risk model on the demo history and scoring it"):
        version, _ = risk_training.prepare_history(database, get_settings())
    console.print(f"risk model {version or '(none yet: the rules decide alone)'}; history scored")
    audit.try_seal(database.write)
    print_bank(bank)


@app.command("totp")
def totp_command(
    username: Annotated[str, typer.Argument(help="A demo staff user, e.g. admin.")],
) -> None:
    """Print the current sign-in code of a demo staff user (their secret is published)."""
    user = next((u for u in USERS if u.username == username.strip().lower()), None)
    if user is None or user.totp_secret is None:
        raise errors.ValidationFailed(f"{username!r} is not a demo staff user")
    totp = pyotp.TOTP(user.totp_secret)
    left = totp.interval - int(time.time()) % totp.interval
    console.print(f"{totp.now()}  (valid for {left} more seconds; secret {user.totp_secret})")


def print_bank(bank: service.DemoBank) -> None:
    people = Table(title="demo users (sign in with these)")
    for column in ("username", "password", "PIN", "role", "name", "TOTP secret (staff)"):
        people.add_column(column, overflow="fold")
    for user in bank.users:
        people.add_row(
            user.username,
            user.password,
            user.pin or "",
            user.role,
            user.full_name,
            user.totp_secret or "",
        )
    console.print(people)
    console.print(
        "staff sign in with a code too: add the secret to an authenticator app, or run "
        "`ledgerbank demo totp <username>` for the current code"
    )
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
