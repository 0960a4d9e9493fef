"""`ledgerbank users ...`: create users of any role (the first admin), list them, issue a reset
link; `ledgerbank keys ...`: rotate and retire the signing keys of access tokens, and seal the
stored TOTP and webhook secrets under the current secret key."""

from __future__ import annotations

from datetime import date

import typer
from pydantic import EmailStr, TypeAdapter, ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection

from ledgerbank import errors
from ledgerbank.config import get_settings
from ledgerbank.events.tables import webhooks
from ledgerbank.events.webhooks import SECRET_PURPOSE
from ledgerbank.identity import keys, passwords, recovery, second_factor, service
from ledgerbank.identity.approval_actions import reset_url
from ledgerbank.identity.permissions import Role
from ledgerbank.identity.tables import users
from ledgerbank.kit.commands import open_database
from ledgerbank.kit.sealed import reseal_column

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


@app.command("reset-password")
def reset_password_command(
    username: str = typer.Argument(..., help="Whose password to reset."),
) -> None:
    """Issue a one-time, expiring password reset link (shown once) for a user.

    The operator running this has the server's configuration, so no second person approves it
    (in the API, issuing another user's link is a four-eyes action).
    """
    settings = get_settings()
    database = open_database()

    def issue(conn: Connection) -> tuple[str, recovery.ResetLink]:
        user = service.find_user(conn, username)
        if user is None:
            raise errors.NotFound(f"no user is called {username!r}")
        link = recovery.issue_reset(
            conn, int(user["id"]), created_by=None, minutes=settings.password_reset_minutes
        )
        return str(user["username"]), link

    name, link = database.write(issue)
    base = (settings.public_url or "http://127.0.0.1:8000").rstrip("/")
    until = f"{link.expires_at:%Y-%m-%d %H:%M} UTC"
    console.print(f"reset link for [bold]{name}[/bold] (works once, until {until}):")
    console.print(reset_url(base, link.token), soft_wrap=True)


keys_app = typer.Typer(
    help="Signing keys of access tokens (kept in the data folder when LEDGERBANK_JWT_SECRET is "
    "not set), and sealing stored secrets under the current secret key.",
    no_args_is_help=True,
)


@keys_app.command("list")
def keys_list_command() -> None:
    """The key that signs and the older ones that still verify, by id (never the keys)."""
    settings = get_settings()
    found = settings.signing_keys()
    table = Table("kid", "use")
    for kid in found.by_kid:
        table.add_row(kid, "signs and verifies" if kid == found.current_kid else "verifies")
    console.print(table)


@keys_app.command("rotate")
def keys_rotate_command() -> None:
    """A new signing key in the data folder; the old one keeps verifying until retired.

    Restart the servers to use it. With LEDGERBANK_JWT_SECRET set, rotate in the environment
    instead: the new secret there, the old one in LEDGERBANK_JWT_PREVIOUS_SECRETS.
    """
    settings = get_settings()
    if settings.jwt_secret:
        raise errors.ValidationFailed(
            "LEDGERBANK_JWT_SECRET is set: rotate it there (old one to "
            "LEDGERBANK_JWT_PREVIOUS_SECRETS)"
        )
    found = keys.rotate_folder_keys(settings.data_dir.resolve())
    console.print(f"new signing key {found.current_kid}; {len(found.previous)} older key(s) verify")


@keys_app.command("retire")
def keys_retire_command(
    kid: str = typer.Argument("", help="One older key's id; without it, every older key."),
) -> None:
    """Stop accepting tokens signed by an older key (they were issued before a rotation)."""
    settings = get_settings()
    if settings.jwt_secret:
        raise errors.ValidationFailed("remove it from LEDGERBANK_JWT_PREVIOUS_SECRETS instead")
    retired = keys.retire_folder_keys(settings.data_dir.resolve(), kid or None)
    console.print(f"retired {', '.join(retired) or 'nothing'}")


@keys_app.command("reseal")
def keys_reseal_command() -> None:
    """Seal every stored TOTP and webhook secret under the current key of
    LEDGERBANK_SECRET_KEYS: plain ones from before sealing and those under older keys. Then the
    older keys can be removed from the setting."""
    settings = get_settings()
    sealer = settings.sealer()
    database = open_database()
    try:
        totp, hooks = database.write(
            lambda conn: (
                reseal_column(conn, sealer, users, "totp_secret", second_factor.purpose),
                reseal_column(conn, sealer, webhooks, "secret", lambda _: SECRET_PURPOSE),
            )
        )
    finally:
        database.dispose()
    console.print(
        f"sealed under key {sealer.keyring.current}: {totp} TOTP secret(s), "
        f"{hooks} webhook secret(s)"
    )
