"""The `ledgerbank` command: one Typer app, a command group per domain."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from ledgerbank.analytics.commands import app as analytics_app
from ledgerbank.audit.commands import app as audit_app
from ledgerbank.bench.commands import app as bench_app
from ledgerbank.dashboard.commands import app as dashboard_app
from ledgerbank.demo.commands import app as demo_app
from ledgerbank.errors import LedgerbankError
from ledgerbank.evaluation.commands import risk_evaluate_command
from ledgerbank.events.commands import app as events_app
from ledgerbank.fx.commands import app as fx_app
from ledgerbank.identity.commands import app as users_app
from ledgerbank.identity.commands import keys_app
from ledgerbank.interest.commands import app as interest_app
from ledgerbank.kit.commands import app as db_app
from ledgerbank.kit.commands import serve
from ledgerbank.kit.composition import Composition
from ledgerbank.ledger.commands import app as ledger_app
from ledgerbank.ledger.import_commands import app as import_app
from ledgerbank.ledgergpt.commands import ask_command
from ledgerbank.proof.backup_commands import backup_command, restore_command
from ledgerbank.proof.commands import audit_verify_command, ledger_verify_command
from ledgerbank.risk.commands import app as risk_app
from ledgerbank.risk.commands import sanctions_app
from ledgerbank.risk.screen import build_screen
from ledgerbank.worker.commands import worker_command

app = typer.Typer(
    name="ledgerbank",
    help="ledgerbank: a double-entry bank core. Configured by LEDGERBANK_* settings and .env.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def compose(context: typer.Context) -> None:
    """ledgerbank: a double-entry bank core. Configured by LEDGERBANK_* settings and .env."""
    context.obj = Composition(screen=build_screen)


app.command()(serve)
db_app.command("backup")(backup_command)
db_app.command("restore")(restore_command)
app.add_typer(db_app, name="db")
ledger_app.command("verify")(ledger_verify_command)
app.add_typer(ledger_app, name="ledger")
audit_app.command("verify")(audit_verify_command)
app.add_typer(audit_app, name="audit")
app.add_typer(users_app, name="users")
app.add_typer(import_app, name="import")
app.add_typer(demo_app, name="demo")
app.add_typer(bench_app, name="bench")
app.command("ask")(ask_command)
risk_app.command("evaluate")(risk_evaluate_command)
app.add_typer(risk_app, name="risk")
app.add_typer(analytics_app, name="analytics")
app.add_typer(dashboard_app, name="dashboard")
app.add_typer(sanctions_app, name="sanctions")
app.add_typer(keys_app, name="keys")
app.add_typer(fx_app, name="fx")
app.add_typer(interest_app, name="interest")
app.add_typer(events_app, name="events")
app.command("worker")(worker_command)

err = Console(stderr=True)


def main() -> None:
    try:
        app()
    except LedgerbankError as exc:
        err.print(f"[red]error[/red] ({exc.code}): {exc.detail}")
        sys.exit(2)
