"""Password and PIN hashing with argon2id, and the password policy."""

from __future__ import annotations

from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ledgerbank import errors

# argon2id with RFC 9106's low-memory profile (t=3, 64 MiB, p=4) until `configure` says else.
_hasher = PasswordHasher()

# The most common passwords of public breach lists; refused whatever the length rules say.
COMMON_PASSWORDS = frozenset((Path(__file__).parent / "common_passwords.txt").read_text().split())


def configure(*, time_cost: int, memory_kib: int, parallelism: int) -> None:
    """Set the argon2id cost of new hashes (Settings keeps production at RFC 9106 or above).

    Existing hashes keep verifying: each carries its own parameters.
    """
    global _hasher, _dummy_hash
    if (_hasher.time_cost, _hasher.memory_cost, _hasher.parallelism) == (
        time_cost,
        memory_kib,
        parallelism,
    ):
        return
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
    _dummy_hash = None


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


def needs_rehash(stored_hash: str) -> bool:
    """True when a hash was made with other parameters than the configured ones."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


# Verifying against this costs the same as a real check, so unknown users take as long.
# Made on first use, at the configured cost, so importing this module stays cheap.
_dummy_hash: str | None = None


def burn_verification_time(secret: str) -> None:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("ledgerbank-timing-equalizer")
    verify_secret(_dummy_hash, secret)
