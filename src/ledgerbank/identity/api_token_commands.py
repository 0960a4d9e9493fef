"""`ledgerbank tokens ...`: create, list and revoke machine clients' API tokens."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table

from ledgerbank import errors
from ledgerbank.config import get_settings
from ledgerbank.identity import api_tokens
from ledgerbank.identity.permissions import SCOPES
from ledgerbank.identity.service import find_user
from ledgerbank.kit.commands import open_database
from ledgerbank.kit.db import Database

app = typer.Typer(help="API tokens for machine clients.", no_args_is_help=True)
console = Console()


def _admin_id(database: Database, username: str) -> int:
    with database.read() as conn:
        user = find_user(conn, username)
    if user is None or not user["is_active"] or user["role"] != "admin":
        raise errors.NotFound(f"admin {username!r} not found")
    return int(user["id"])


@app.command("create")
def create_command(
    name: str = typer.Option(..., help="What the token is for (a card processor, ...)."),
    scope: list[str] = typer.Option(..., help=f"Repeat for each: {', '.join(sorted(SCOPES))}."),
    as_user: str = typer.Option(..., "--as", help="The admin creating it (audited)."),
    owner: str | None = typer.Option(None, help="The user it acts as (default: --as)."),
) -> None:
    """Create a token; it is printed once and never again."""
    database = open_database()
    creator = _admin_id(database, as_user)
    owner_id = None
    if owner is not None:
        with database.read() as conn:
            found = find_user(conn, owner)
        if found is None:
            raise errors.NotFound(f"user {owner!r} not found")
        owner_id = int(found["id"])
    keyring = get_settings().pin_keyring()
    view, secret = database.write(
        lambda conn: api_tokens.create(
            conn, name=name, scopes=scope, owner_id=owner_id, created_by=creator, keyring=keyring
        )
    )
    console.print(f"API token {view['id']} ({' '.join(view['scopes'])}), shown once:")
    typer.echo(secret)  # plain, so it can be piped into a secret store


@app.command("list")
def list_command() -> None:
    """Every token: never its secret."""
    with open_database().read() as conn:
        rows = api_tokens.list_tokens(conn)
    table = Table("id", "name", "prefix", "scopes", "owner", "last used", "revoked")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["name"],
            row["prefix"],
            " ".join(row["scopes"]),
            str(row["owner_id"]),
            str(row["last_used_at"] or "-"),
            str(row["revoked_at"] or "-"),
        )
    console.print(table)


@app.command("revoke")
def revoke_command(
    token_id: int = typer.Argument(..., help="The token's id."),
    as_user: str = typer.Option(..., "--as", help="The admin revoking it (audited)."),
) -> None:
    """Revoke a token: refused from now on."""
    database = open_database()
    actor = _admin_id(database, as_user)
    database.write(lambda conn: api_tokens.revoke(conn, token_id, actor_id=actor))
    console.print(f"API token {token_id} revoked")
