"""`ledgerbank db backup` and `db restore`: a copy of the whole bank, and its return, checked.

A restore always ends with `ledger verify --full` and `audit verify` (given the checkpoint
files kept elsewhere, if any), and exits non-zero unless both find the bank sound.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from ledgerbank.config import get_settings
from ledgerbank.kit import backup
from ledgerbank.proof.commands import audit_verify_command, ledger_verify_command

console = Console()


def backup_command(
    path: Path = typer.Argument(..., help="The backup file to write."),
) -> None:
    """Write a consistent copy of the whole database to PATH (SQLite: online backup;
    PostgreSQL: pg_dump; MySQL/MariaDB: mysqldump)."""
    settings = get_settings()
    backup.backup(settings.resolved_database_url, path)
    console.print(
        f"backup written: {path} ({path.stat().st_size:,} bytes); keep an exported audit "
        "checkpoint with it (`ledgerbank audit checkpoint --out FILE`)"
    )


def restore_command(
    path: Path = typer.Argument(..., help="The backup file to restore."),
    yes: bool = typer.Option(False, "--yes", help="Replace the database without asking."),
    checkpoint: list[Path] = typer.Option(
        [], "--checkpoint", help="An exported checkpoint file to verify against (repeatable)."
    ),
) -> None:
    """Replace the whole database with the backup at PATH, then run both verify commands."""
    settings = get_settings()
    if not yes:
        typer.confirm(
            f"Replace everything in {settings.resolved_database_url.split('@')[-1]} with {path}?",
            abort=True,
        )
    backup.restore(settings.resolved_database_url, path)
    console.print(f"restored from {path}; verifying the ledger and the audit trail")
    failed = []
    try:
        ledger_verify_command(full=True)
    except typer.Exit as exit_:
        if exit_.exit_code:
            failed.append("ledger verify --full")
    try:
        audit_verify_command(checkpoint=checkpoint, trusted_key=[])
    except typer.Exit as exit_:
        if exit_.exit_code:
            failed.append("audit verify")
    if failed:
        console.print(f"[red]the restored bank is NOT sound[/red]: {', '.join(failed)} failed")
        raise typer.Exit(1)
    console.print("[green]the restored bank is sound[/green]: both verify commands passed")
