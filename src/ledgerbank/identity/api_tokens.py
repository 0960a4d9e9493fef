"""API tokens for machine clients (a card processor, a merchant system): scoped, long-lived,
created and revoked by an admin, shown once.

A token is `lbk_` and 43 random URL-safe characters, sent as `Authorization: Bearer lbk_...`.
The database keeps only a keyed hash of it (HMAC-SHA256 with the PIN keys, which live outside
the database: a stolen table yields nothing to try), so a fast hash is enough for a long random
secret. A token acts as its owner (by default the admin who created it) with at most what its
scopes grant (`identity.permissions.SCOPES`): what both the owner's role and the scopes allow.
Its last use is recorded (at most once a minute, so busy clients do not write on every call).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, or_, select, update

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.identity.permissions import SCOPES, allows, scope_permissions
from ledgerbank.identity.tables import api_tokens, users
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.kit.keys import Keyring

PREFIX = "lbk_"
LAST_USE_EVERY = timedelta(minutes=1)


def is_api_token(token: str) -> bool:
    return token.startswith(PREFIX)


def _hash(key_id: str, key: bytes, token: str) -> str:
    digest = hmac.new(key, b"api-token:" + token.encode(), hashlib.sha256).hexdigest()
    return f"{key_id}:{digest}"


def _hashes(keyring: Keyring, token: str) -> list[str]:
    """The token's hash under every key (the newest signs; older keys still find tokens)."""
    return [_hash(key_id, key, token) for key_id, key in keyring.keys.items()]


def parse_scopes(scopes: Sequence[str]) -> list[str]:
    unknown = sorted(set(scopes) - SCOPES.keys())
    if unknown or not scopes:
        raise errors.ValidationFailed(
            f"scopes must be some of {', '.join(sorted(SCOPES))}"
            + (f"; unknown: {', '.join(unknown)}" if unknown else "")
        )
    return sorted(set(scopes))


def token_view(row: RowMapping | dict[str, Any]) -> dict[str, Any]:
    """A token as admins list it: never its secret nor its hash."""
    return {
        "id": row["id"],
        "name": row["name"],
        "prefix": row["prefix"],
        "scopes": str(row["scopes"]).split(),
        "owner_id": row["owner_id"],
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "last_used_at": row["last_used_at"],
        "revoked_at": row["revoked_at"],
    }


def create(
    conn: Connection,
    *,
    name: str,
    scopes: Sequence[str],
    owner_id: int | None,
    created_by: int,
    keyring: Keyring,
) -> tuple[dict[str, Any], str]:
    """A new token (its view and the secret, which is never shown again)."""
    wanted = parse_scopes(scopes)
    owner_id = created_by if owner_id is None else owner_id
    owner = conn.execute(
        select(users.c.id, users.c.role, users.c.is_active).where(users.c.id == owner_id)
    ).first()
    if owner is None or not owner.is_active:
        raise errors.NotFound(f"user {owner_id} not found")
    beyond = sorted(p.value for p in scope_permissions(wanted) if not allows(owner.role, p))
    if beyond:
        raise errors.ValidationFailed(
            f"the owner's role ({owner.role}) may not do what these scopes grant: "
            + ", ".join(beyond)
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = {
        "name": name,
        "prefix": secret[:12],
        "token_hash": _hash(keyring.current, keyring.keys[keyring.current], secret),
        "scopes": " ".join(wanted),
        "owner_id": owner_id,
        "created_by": created_by,
        "created_at": now,
        "last_used_at": None,
        "revoked_at": None,
    }
    token_id = int(conn.execute(insert(api_tokens), row).inserted_primary_key[0])  # type: ignore[index]
    view = token_view({**row, "id": token_id})
    audit.record(
        conn,
        actor_id=created_by,
        action="api_token.created",
        entity_type="api_token",
        entity_id=token_id,
        after={k: v for k, v in view.items() if k not in ("created_at", "last_used_at")},
        at=now,
    )
    return view, secret


def list_tokens(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(api_tokens).order_by(api_tokens.c.id)).mappings()
    return [token_view(row) for row in rows]


def revoke(conn: Connection, token_id: int, *, actor_id: int) -> None:
    """The token is refused from now on (inside money requests too); revoking twice is a
    no-op."""
    row = (
        conn.execute(select(api_tokens).where(api_tokens.c.id == token_id).with_for_update())
        .mappings()
        .first()
    )
    if row is None:
        raise errors.NotFound(f"API token {token_id} not found")
    if row["revoked_at"] is not None:
        return
    now = utcnow()
    conn.execute(
        update(api_tokens)
        .where(api_tokens.c.id == token_id)
        .values(revoked_at=now, revoked_by=actor_id)
    )
    audit.record(
        conn,
        actor_id=actor_id,
        action="api_token.revoked",
        entity_type="api_token",
        entity_id=token_id,
        before={"revoked_at": None},
        after={"name": row["name"], "owner_id": row["owner_id"], "revoked_at": now.isoformat()},
        at=now,
    )


def authenticate(database: Database, keyring: Keyring, token: str) -> RowMapping:
    """The live token's row with its owner's username and role; NotAuthenticated for an
    unknown or revoked token or an inactive owner. Records the use."""
    with database.read() as conn:
        row = (
            conn.execute(
                select(
                    api_tokens.c.id,
                    api_tokens.c.scopes,
                    api_tokens.c.owner_id,
                    api_tokens.c.last_used_at,
                    users.c.username,
                    users.c.role,
                    users.c.is_active,
                )
                .join(users, users.c.id == api_tokens.c.owner_id)
                .where(
                    api_tokens.c.token_hash.in_(_hashes(keyring, token)),
                    api_tokens.c.revoked_at.is_(None),
                )
            )
            .mappings()
            .first()
        )
    if row is None or not row["is_active"]:
        raise errors.NotAuthenticated("the API token is unknown or revoked")
    now = utcnow()
    if row["last_used_at"] is None or row["last_used_at"] < now - LAST_USE_EVERY:
        stale = or_(
            api_tokens.c.last_used_at.is_(None),
            api_tokens.c.last_used_at < now - LAST_USE_EVERY,
        )
        database.write(
            lambda conn: conn.execute(
                update(api_tokens)
                .where(api_tokens.c.id == row["id"], stale)
                .values(last_used_at=now)
            )
        )
    return row
