"""`ledgerbank dashboard`: run the Streamlit monitoring dashboard on the configured database."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from ledgerbank.config import get_settings

app = typer.Typer(help="The Streamlit monitoring dashboard (the ledgerbank\\[dashboard] extra).")
console = Console(stderr=True)
SCRIPT = Path(__file__).with_name("app.py")


@app.callback(invoke_without_command=True)
def dashboard(
    port: Annotated[int, typer.Option(help="Port to serve on.")] = 8501,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    database_url: Annotated[
        str,
        typer.Option(
            help="Database to watch (default: LEDGERBANK_READ_DATABASE_URL, else "
            "LEDGERBANK_DATABASE_URL)."
        ),
    ] = "",
) -> None:
    """Serve the live monitoring dashboard (read-only) on http://HOST:PORT."""
    if importlib.util.find_spec("streamlit") is None:
        console.print(
            "[red]the dashboard needs the `dashboard` extra[/red]: "
            "pip install 'ledgerbank[dashboard]'"
        )
        raise typer.Exit(1)
    settings = get_settings()
    url = database_url or settings.read_database_url or settings.resolved_database_url
    environment = {**os.environ, "LEDGERBANK_READ_DATABASE_URL": url}
    command = [
        sys.executable, "-m", "streamlit", "run", str(SCRIPT),
        "--server.port", str(port), "--server.address", host,
        "--server.headless", "true", "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    # Become the Streamlit server: signals (Ctrl-C, a supervisor's TERM) reach it directly.
    os.execve(sys.executable, command, environment)
