"""Sessions: issuing tokens with the current signing key, ending one session or all of them.

A token ends with its session when the user signs out (its `jti` is kept in `revoked_tokens`
until it would have expired anyway) or when every session of the user ends at once (the
user's token version moves on: a password change or reset, sign out everywhere, deactivation,
a role change, a second factor turned on, off or reset).
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.exc import IntegrityError

from ledgerbank.audit import service as audit
from ledgerbank.config import Settings
from ledgerbank.identity import tokens
from ledgerbank.identity.deps import Principal
from ledgerbank.identity.service import end_sessions
from ledgerbank.identity.tables import revoked_tokens, users
from ledgerbank.kit.clock import utcnow


def issue_for(
    settings: Settings, *, user_id: int, role: str, token_version: int, scope: str | None = None
) -> tuple[str, int]:
    """A token signed with the current key; an enrol-only one lives at most 15 minutes."""
    keys = settings.signing_keys()
    ttl = settings.token_ttl_minutes if scope is None else min(15, settings.token_ttl_minutes)
    return tokens.issue(
        user_id=user_id,
        role=role,
        secret=keys.current,
        ttl_minutes=ttl,
        token_version=token_version,
        kid=keys.current_kid,
        scope=scope,
    )


def current_version(conn: Connection, user_id: int) -> int:
    found = conn.execute(select(users.c.token_version).where(users.c.id == user_id)).scalar_one()
    return int(found)


def sign_out(conn: Connection, principal: Principal) -> None:
    """End the caller's session: this token is refused from now on."""
    now = utcnow()
    conn.execute(delete(revoked_tokens).where(revoked_tokens.c.expires_at < now))
    try:
        with conn.begin_nested():
            conn.execute(
                insert(revoked_tokens),
                {
                    "jti": principal.token_id,
                    "user_id": principal.id,
                    "expires_at": principal.token_expires_at or now,
                    "revoked_at": now,
                },
            )
    except IntegrityError:
        return  # signed out already
    audit.record(
        conn,
        actor_id=principal.id,
        action="auth.signed_out",
        entity_type="user",
        entity_id=principal.id,
        at=now,
    )


def sign_out_everywhere(conn: Connection, user_id: int, *, actor_id: int, why: str) -> None:
    """End every session of the user (every token issued so far), audited with the reason."""
    end_sessions(conn, user_id)
    audit.record(
        conn,
        actor_id=actor_id,
        action="auth.sessions_ended",
        entity_type="user",
        entity_id=user_id,
        after={"why": why},
    )
