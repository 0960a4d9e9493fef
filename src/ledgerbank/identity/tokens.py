"""Signed, expiring JWT access tokens: HS256 only, every other algorithm (and `none`) refused.

Tokens name their signing key in the header (`kid`), so keys can be rotated: the newest key
signs, older ones keep verifying until they are retired (identity.keys). A token may carry a
scope: `enrol` tokens (staff who have not enrolled a second factor yet) can do nothing but
enrol.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt

from ledgerbank import errors
from ledgerbank.kit.clock import utcnow

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "role", "ver", "iat", "exp", "jti"]
ENROL_SCOPE = "enrol"
MAX_USER_ID = 2**63 - 1


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    role: str
    version: int  # the user's token_version when the token was issued
    jti: str
    expires_at: datetime
    scope: str | None = None  # None: a full token; "enrol": second-factor enrolment only


def issue(
    *,
    user_id: int,
    role: str,
    secret: str,
    ttl_minutes: int,
    token_version: int = 0,
    kid: str | None = None,
    scope: str | None = None,
) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds."""
    now = utcnow()
    lifetime = timedelta(minutes=ttl_minutes)
    claims: dict[str, object] = {
        "sub": str(user_id),
        "role": role,
        "ver": token_version,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    if scope is not None:
        claims["scope"] = scope
    headers = {"kid": kid} if kid is not None else None
    token = jwt.encode(claims, secret, algorithm=ALGORITHM, headers=headers)
    return token, int(lifetime.total_seconds())


def _key_for(token: str, secret: str | None, keys: Mapping[str, str] | None) -> str:
    """The key a token says it was signed with: by `kid` among `keys`, else `secret`."""
    if keys is None:
        if secret is None:
            raise ValueError("decode needs a secret or keys")
        return secret
    kid = jwt.get_unverified_header(token).get("kid")
    if kid is None:
        if secret is None:
            raise jwt.InvalidTokenError("the token names no signing key")
        return secret  # issued before keys had ids: only the current key verifies it
    if not isinstance(kid, str) or kid not in keys:
        raise jwt.InvalidTokenError("the token's signing key is unknown or retired")
    return keys[kid]


def decode(
    token: str, *, secret: str | None = None, keys: Mapping[str, str] | None = None
) -> TokenClaims:
    """The claims of a valid token; NotAuthenticated for anything else.

    With `keys` (kid -> secret) the token's `kid` picks the key; a token without one is
    checked against `secret` (the current key). A token verified once under the same keys is
    remembered (every request of a session carries the same one, and parsing and checking it
    costs more than the rest of authentication); only its expiry changes with time, and that
    is checked on every call.
    """
    try:
        claims = _verified(token, secret, tuple(sorted(keys.items())) if keys is not None else None)
    except jwt.ExpiredSignatureError:
        raise errors.NotAuthenticated("the access token has expired") from None
    except (jwt.InvalidTokenError, ValueError, TypeError, OverflowError):
        raise errors.NotAuthenticated("the access token is invalid") from None
    if claims.expires_at <= datetime.now(UTC):  # as PyJWT checks `exp`
        raise errors.NotAuthenticated("the access token has expired")
    return claims


@lru_cache(maxsize=4096)  # only tokens that verified: a failure raises and is not kept
def _verified(
    token: str, secret: str | None, keys: tuple[tuple[str, str], ...] | None
) -> TokenClaims:
    key = _key_for(token, secret, dict(keys) if keys is not None else None)
    claims = jwt.decode(token, key, algorithms=[ALGORITHM], options={"require": REQUIRED_CLAIMS})
    version = claims["ver"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise TypeError("ver must be an integer")
    subject = claims["sub"]
    # Ids are BIGINT: a subject that is not one would fail in the database, not here.
    if not (isinstance(subject, str) and subject.isascii() and subject.isdigit()):
        raise TypeError("sub must be a user id")
    if len(subject) > 19 or not 1 <= int(subject) <= MAX_USER_ID:
        raise ValueError("sub is out of range")
    scope = claims.get("scope")
    if scope is not None and scope != ENROL_SCOPE:
        raise ValueError("unknown scope")
    return TokenClaims(
        int(subject),
        str(claims["role"]),
        version,
        str(claims["jti"])[:64],
        datetime.fromtimestamp(int(claims["exp"]), UTC),
        scope,
    )
