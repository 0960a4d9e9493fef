"""`ledgerbank ledger ...`: operator commands on the ledger."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(help="The double-entry ledger.", no_args_is_help=True)
console = Console()
