"""Password and PIN hashing with argon2id, and the password policy."""

from __future__ import annotations

from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ledgerbank import errors

_hasher = PasswordHasher()  # argon2id with the library's recommended cost (RFC 9106 low-memory)

# The most common passwords of public breach lists; refused whatever the length rules say.
COMMON_PASSWORDS = frozenset((Path(__file__).parent / "common_passwords.txt").read_text().split())


def check_password_policy(password: str, *, min_length: int = 8, username: str = "") -> None:
    if len(password) < min_length:
        raise errors.ValidationFailed(f"password must be at least {min_length} characters")
    if len(password) > 256:
        raise errors.ValidationFailed("password must be at most 256 characters")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or (username and lowered == username.lower()):
        raise errors.ValidationFailed("password is too common; choose another")


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(stored_hash: str, secret: str) -> bool:
    try:
        return _hasher.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against this costs the same as a real check, so unknown users take as long.
_DUMMY_HASH = _hasher.hash("ledgerbank-timing-equalizer")


def burn_verification_time(secret: str) -> None:
    verify_secret(_DUMMY_HASH, secret)
