"""Who is calling: the bearer token becomes a `Principal`, checked against the permission table.

Routes declare what they need with `Annotated` aliases built by `authorized(...)`; a role
change or a deactivated user takes effect at once because every request re-reads the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select

from ledgerbank import errors
from ledgerbank.config import Settings
from ledgerbank.identity import tokens
from ledgerbank.identity.permissions import Permission, Role, allows
from ledgerbank.identity.tables import users
from ledgerbank.identity.tokens import TokenClaims
from ledgerbank.kit.db import Database

bearer = OAuth2PasswordBearer(tokenUrl="/auth/login", auto_error=False)


@dataclass(frozen=True)
class Principal:
    id: int
    username: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return allows(self.role, permission)


def get_database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


DB = Annotated[Database, Depends(get_database)]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(get_settings)]


def current_principal(
    settings: AppSettings, database: DB, token: Annotated[str | None, Depends(bearer)]
) -> Principal:
    if not token:
        raise errors.NotAuthenticated("an Authorization: Bearer token is required")
    claims = tokens.decode(token, secret=settings.signing_secret())
    with database.read() as conn:
        row = conn.execute(
            select(
                users.c.id, users.c.username, users.c.role, users.c.is_active, users.c.token_version
            ).where(users.c.id == claims.user_id)
        ).first()
    if (
        row is None
        or not row.is_active
        or row.role != claims.role
        or row.token_version != claims.version
    ):
        raise errors.NotAuthenticated("the access token is no longer valid; sign in again")
    return Principal(int(row.id), str(row.username), Role(row.role))


CurrentUser = Annotated[Principal, Depends(current_principal)]


def authorized(*any_of: Permission) -> Any:
    """A dependency that admits a principal holding at least one of the permissions."""

    def check(principal: CurrentUser) -> Principal:
        if not any(principal.can(permission) for permission in any_of):
            raise errors.Forbidden(f"the {principal.role} role may not do this")
        return principal

    return Depends(check)


def token_holder(*any_of: Permission) -> Any:
    """A dependency for the money-moving routes: the verified token's claims, allowed one of
    the permissions by the role it names. It reads nothing from the database: the money
    service re-reads the caller's state (active, role, token version) inside the transaction
    that moves the money, so the request needs no transaction of its own for this."""

    async def check(request: Request, token: Annotated[str | None, Depends(bearer)]) -> TokenClaims:
        if not token:
            raise errors.NotAuthenticated("an Authorization: Bearer token is required")
        settings: Settings = request.app.state.settings
        claims = tokens.decode(token, secret=settings.signing_secret())
        if not any(allows(claims.role, permission) for permission in any_of):
            raise errors.Forbidden(f"the {claims.role} role may not do this")
        return claims

    return Depends(check)
