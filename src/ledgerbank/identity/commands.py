"""`ledgerbank users ...`: create users of any role (the first admin) and list them."""

from __future__ import annotations

from datetime import date

import typer
from pydantic import EmailStr, TypeAdapter, ValidationError
from rich.console import Console
from rich.table import Table

from ledgerbank import errors
from ledgerbank.config import get_settings
from ledgerbank.identity import passwords, service
from ledgerbank.identity.permissions import Role
from ledgerbank.kit.commands import open_database

app = typer.Typer(help="Users, roles and KYC.", no_args_is_help=True)
console = Console()


def _configure_hashing() -> None:
    settings = get_settings()
    passwords.configure(
        time_cost=settings.password_hash_time_cost,
        memory_kib=settings.password_hash_memory_kib,
        parallelism=settings.password_hash_parallelism,
    )


@app.command("create")
def create_command(
    username: str = typer.Option(..., help="3–64 letters, digits, '_', '.' or '-'."),
    email: str = typer.Option(..., help="Email address."),
    role: Role = typer.Option(Role.CUSTOMER, help="The user's role."),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, help="Asked if not given."
    ),
    full_name: str = typer.Option("", help="Full name (defaults to the username)."),
    kyc_status: str = typer.Option("verified", help="pending, verified or rejected."),
    date_of_birth: str = typer.Option("", help="YYYY-MM-DD (optional)."),
) -> None:
    """Create a user of any role; the way to make the first administrator."""
    _configure_hashing()
    settings = get_settings()
    birth = date.fromisoformat(date_of_birth) if date_of_birth else None
    try:
        email = str(TypeAdapter(EmailStr).validate_python(email))
    except ValidationError:
        raise errors.ValidationFailed(f"{email!r} is not a valid email address") from None
    user = open_database().write(
        lambda conn: service.create_user(
            conn,
            username=username,
            password=password,
            email=email,
            full_name=full_name or username,
            role=role,
            kyc_status=kyc_status,
            date_of_birth=birth,
            min_password_length=settings.password_min_length,
        )
    )
    console.print(f"created user {user['id']} [bold]{user['username']}[/bold] ({user['role']})")


@app.command("list")
def list_command(
    role: Role | None = typer.Option(None, help="Only this role."),
    limit: int = typer.Option(500, min=1, help="At most this many users."),
) -> None:
    """List users with their role, KYC status and whether they can sign in."""
    with open_database().read() as conn:
        rows, _ = service.list_users(conn, role=role, limit=limit)
    table = Table("id", "username", "role", "kyc", "active", "email", "created")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["username"],
            row["role"],
            row["kyc_status"],
            "yes" if row["is_active"] else "no",
            row["email"],
            f"{row['created_at']:%Y-%m-%d %H:%M}",
        )
    console.print(table)
