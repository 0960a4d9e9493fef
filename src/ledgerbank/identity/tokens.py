"""Signed, expiring JWT access tokens: HS256 only, every other algorithm (and `none`) refused."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt

from ledgerbank import errors
from ledgerbank.kit.clock import utcnow

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["sub", "role", "ver", "iat", "exp", "jti"]


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    role: str
    version: int  # the user's token_version when the token was issued
    jti: str


def issue(
    *, user_id: int, role: str, secret: str, ttl_minutes: int, token_version: int = 0
) -> tuple[str, int]:
    """A signed access token and its lifetime in seconds."""
    now = utcnow()
    lifetime = timedelta(minutes=ttl_minutes)
    claims = {
        "sub": str(user_id),
        "role": role,
        "ver": token_version,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM), int(lifetime.total_seconds())


def decode(token: str, *, secret: str) -> TokenClaims:
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": REQUIRED_CLAIMS}
        )
        version = claims["ver"]
        if not isinstance(version, int) or isinstance(version, bool):
            raise TypeError("ver must be an integer")
        return TokenClaims(int(claims["sub"]), str(claims["role"]), version, str(claims["jti"]))
    except jwt.ExpiredSignatureError:
        raise errors.NotAuthenticated("the access token has expired") from None
    except (jwt.InvalidTokenError, ValueError, TypeError):
        raise errors.NotAuthenticated("the access token is invalid") from None
