"""Who is calling: the bearer token becomes a `Principal`, checked against the permission table.

Routes declare what they need with `Annotated` aliases built by `authorized(...)`; a role
change or a deactivated user takes effect at once because every request re-reads the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import exists, select

from ledgerbank import errors
from ledgerbank.config import Settings
from ledgerbank.identity import tokens
from ledgerbank.identity.permissions import Permission, Role, allows
from ledgerbank.identity.tables import revoked_tokens, users
from ledgerbank.identity.tokens import TokenClaims
from ledgerbank.kit.db import Database

bearer = OAuth2PasswordBearer(tokenUrl="/auth/token", auto_error=False)


@dataclass(frozen=True)
class Principal:
    id: int
    username: str
    role: Role
    token_id: str = ""  # the token's jti, to end this one session
    token_expires_at: datetime | None = None
    enrol_only: bool = False  # a staff token that can do nothing but enrol a second factor

    def can(self, permission: Permission) -> bool:
        return allows(self.role, permission)


def get_database(request: Request) -> Database:
    database: Database = request.app.state.db
    return database


DB = Annotated[Database, Depends(get_database)]


def get_read_database(request: Request) -> Database:
    """The read replica (LEDGERBANK_READ_DATABASE_URL) for reports, else the primary."""
    database: Database = request.app.state.read_db
    return database


ReadDB = Annotated[Database, Depends(get_read_database)]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


AppSettings = Annotated[Settings, Depends(get_settings)]


def _principal(settings: Settings, database: Database, token: str | None) -> Principal:
    """The caller of a valid, current, unrevoked token (of any scope)."""
    if not token:
        raise errors.NotAuthenticated("an Authorization: Bearer token is required")
    keys = settings.signing_keys()
    claims = tokens.decode(token, secret=keys.current, keys=keys.by_kid)
    revoked = exists().where(revoked_tokens.c.jti == claims.jti)
    with database.read() as conn:
        row = conn.execute(
            select(
                users.c.id,
                users.c.username,
                users.c.role,
                users.c.is_active,
                users.c.token_version,
                revoked.label("revoked"),
            ).where(users.c.id == claims.user_id)
        ).first()
    if (
        row is None
        or not row.is_active
        or row.revoked
        or row.role != claims.role
        or row.token_version != claims.version
    ):
        raise errors.NotAuthenticated("the access token is no longer valid; sign in again")
    return Principal(
        int(row.id),
        str(row.username),
        Role(row.role),
        claims.jti,
        claims.expires_at,
        claims.scope == tokens.ENROL_SCOPE,
    )


def current_principal(
    settings: AppSettings, database: DB, token: Annotated[str | None, Depends(bearer)]
) -> Principal:
    principal = _principal(settings, database, token)
    if principal.enrol_only:
        raise errors.SecondFactorEnrolmentRequired(
            "this token can only enrol a second factor: POST /users/2fa/setup, then /enable"
        )
    return principal


def enrolling_principal(
    settings: AppSettings, database: DB, token: Annotated[str | None, Depends(bearer)]
) -> Principal:
    """The caller of a full token or of an enrol-only one (second-factor enrolment routes)."""
    return _principal(settings, database, token)


CurrentUser = Annotated[Principal, Depends(current_principal)]
EnrollingUser = Annotated[Principal, Depends(enrolling_principal)]


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
        keys = settings.signing_keys()
        claims = tokens.decode(token, secret=keys.current, keys=keys.by_kid)
        if claims.scope == tokens.ENROL_SCOPE:
            raise errors.SecondFactorEnrolmentRequired("this token can only enrol a second factor")
        if not any(allows(claims.role, permission) for permission in any_of):
            raise errors.Forbidden(f"the {claims.role} role may not do this")
        return claims

    return Depends(check)
