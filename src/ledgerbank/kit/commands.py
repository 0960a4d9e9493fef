"""`ledgerbank db ...` and `ledgerbank serve`."""

from __future__ import annotations

import typer
from rich.console import Console

from ledgerbank.config import get_settings
from ledgerbank.kit.db import Database

app = typer.Typer(help="Database schema.", no_args_is_help=True)
console = Console()


def open_database() -> Database:
    settings = get_settings()
    return Database.from_url(settings.resolved_database_url, pool_size=settings.db_pool_size)


@app.command("upgrade")
def upgrade_command() -> None:
    """Apply the migrations to the configured database."""
    from ledgerbank.migrations import upgrade

    database = open_database()
    upgrade(database.engine)
    console.print(f"database migrated: {database.engine.url.render_as_string(hide_password=True)}")
    if events_url := get_settings().events_url:
        from ledgerbank.events.broker import STREAM, create_stream

        create_stream(events_url)
        console.print(f"NATS JetStream stream {STREAM} ready at {events_url}")


def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, help="Worker processes."),
    reload: bool = typer.Option(False, help="Reload on code changes (development)."),
) -> None:
    """Run the API and the web app (migrates the database first)."""
    import uvicorn

    from ledgerbank.migrations import upgrade

    upgrade(open_database().engine)
    uvicorn.run(
        "ledgerbank.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,  # live event streams must not hold a shutdown up
    )
