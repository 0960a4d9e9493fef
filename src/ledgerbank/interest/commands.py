"""`ledgerbank interest ...`: product rates, and the daily accrual and monthly payment (run by
hand or by the worker; both are idempotent)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from ledgerbank.audit import service as audit
from ledgerbank.config import get_settings
from ledgerbank.interest import service
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.commands import open_database
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.ledger.limits import DailyLimits

app = typer.Typer(help="Interest on savings.", no_args_is_help=True)
console = Console()


def _today() -> date:
    return DailyLimits.from_settings(get_settings()).business_day(utcnow())


@app.command("set-rate")
def set_rate_command(
    annual_rate: Annotated[str, typer.Argument(help="a share: 0.025 is 2.5 %")],
    valid_from: Annotated[str, typer.Option("--from", help="first day (YYYY-MM-DD)")],
    account_type: Annotated[str, typer.Option("--type")] = "savings",
) -> None:
    """Set a product's annual rate from a day on (audited, history kept)."""
    database = open_database()
    found = database.write(
        lambda conn: service.set_rate(
            conn,
            account_type=account_type,
            annual_rate=annual_rate,
            valid_from=date.fromisoformat(valid_from),
            actor_id=None,
        )
    )
    audit.try_seal(database.write)
    console.print(f"{found['account_type']}: {found['annual_rate']} from {found['valid_from']}")


@app.command("rates")
def rates_command() -> None:
    """Every product's rates, newest first."""
    database = open_database()
    with database.read() as conn:
        found = service.list_rates(conn)
    table = Table("product", "annual rate", "valid from", title="interest rates")
    for rate in found:
        table.add_row(rate["account_type"], rate["annual_rate"], rate["valid_from"])
    console.print(table)


@app.command("accrue")
def accrue_command(
    day: Annotated[
        str | None, typer.Option("--date", help="the day to accrue (default: yesterday)")
    ] = None,
) -> None:
    """Accrue one day's interest on the end-of-day balances (a rerun accrues nothing twice)."""
    settings = get_settings()
    when = date.fromisoformat(day) if day else _today() - timedelta(days=1)
    database = open_database()
    run = database.write(
        lambda conn: service.accrue_interest(conn, when, timezone=settings.timezone)
    )
    console.print(f"{when}: accrued on {len(run.accounts)} accounts, {run.skipped} already accrued")


@app.command("pay")
def pay_command(
    day: Annotated[
        str | None,
        typer.Option("--date", help="any day of the month to pay (default: last month)"),
    ] = None,
) -> None:
    """Pay each account the interest it accrued in a month that is over (a rerun pays
    nothing twice)."""
    today = _today()
    when = date.fromisoformat(day) if day else today.replace(day=1) - timedelta(days=1)
    database = open_database()
    run = database.write(lambda conn: service.pay_interest(conn, when, today=today))
    audit.try_seal(database.write)
    table = Table("account", "interest", "transaction", title=f"interest for {run.month:%Y-%m}")
    for payment in run.payments:
        table.add_row(
            str(payment.account_id),
            f"{to_decimal_string(payment.amount, payment.currency)} {payment.currency}",
            str(payment.transaction_id or "-"),
        )
    console.print(table)
    console.print(f"{len(run.payments)} accounts paid, {run.skipped} already paid")
