"""Transaction PINs: a keyed HMAC with a key the database never holds, checked in microseconds.

A PIN has at most a million values, so a slow hash buys little against someone holding the
users table: they would try them all. What protects a PIN is the attempt limit (checked under
the user's row lock in the transaction that moves the money) and a key kept outside the
database: without the key a stolen table gives nothing to try PINs against. Stored form:

    pin$<key id>$<hex HMAC-SHA256(key, "<user id>:<pin>")>

The user id in the message makes equal PINs of two users differ and a hash copied onto another
user useless. Keys rotate: the first key of the keyring signs new hashes, the others still
verify, and a hash under an older key (or a first-round argon2 hash) is re-keyed on the next
right PIN.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ledgerbank import errors
from ledgerbank.identity import passwords
from ledgerbank.kit import context
from ledgerbank.kit.keys import Keyring

PREFIX = "pin$"


def digest(keyring: Keyring, key_id: str, user_id: int, pin: str) -> str:
    return hmac.new(keyring.keys[key_id], f"{user_id}:{pin}".encode(), hashlib.sha256).hexdigest()


def hash_pin(keyring: Keyring, user_id: int, pin: str) -> str:
    return f"{PREFIX}{keyring.current}${digest(keyring, keyring.current, user_id, pin)}"


def check_format(pin: str) -> None:
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 6):
        raise errors.ValidationFailed("the PIN must be 4 to 6 digits")


def is_legacy(stored: str) -> bool:
    """A first-round argon2 hash: checked (slowly) once more, then re-keyed."""
    return not stored.startswith(PREFIX)


def verify(keyring: Keyring, stored: str, user_id: int, pin: str) -> bool:
    """Check a keyed PIN hash (microseconds); False for a hash under a retired key."""
    _, key_id, found = stored.split("$", 2)
    if key_id not in keyring.keys:
        return False
    return hmac.compare_digest(digest(keyring, key_id, user_id, pin), found)


def needs_rekey(keyring: Keyring, stored: str) -> bool:
    return is_legacy(stored) or stored.split("$", 2)[1] != keyring.current


def verify_legacy(stored: str, pin: str) -> bool:
    """A first-round argon2id PIN hash: slow by design, so never run inside a transaction."""
    return passwords.verify_secret(stored, pin)


class LegacyPin(Exception):
    """The stored PIN hash is a first-round argon2 hash: check it outside the transaction."""


@dataclass
class PinState:
    """The PIN columns of a user row the caller holds locked, changed in memory, with the audit
    events of the attempts (written by the caller in the same transaction)."""

    user_id: int
    pin_hash: str | None
    failures: int
    locked_until: datetime | None
    dirty: bool = False
    events: list[tuple[str, dict[str, Any], str | None]] = field(default_factory=list)

    def record(self, action: str, after: dict[str, Any]) -> None:
        """An audit event of this attempt, with the id of the request that made it."""
        self.events.append((action, after, context.request_id.get()))

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


def lock_extra(locked_until: datetime, now: datetime) -> dict[str, Any]:
    return {
        "locked_until": locked_until.isoformat(),
        "retry_after": max(1, int((locked_until - now).total_seconds()) + 1),
    }


def attempt(
    state: PinState,
    pin: str | None,
    *,
    keyring: Keyring,
    now: datetime,
    max_failures: int,
    lock_minutes: int,
) -> None:
    """One PIN attempt against a locked user row; returns when the PIN is right.

    - no PIN set: PinRequired (set one first); PIN set but not given: PinRequired; neither counts;
    - locked: PinLocked, even for the right PIN, and the PIN is not evaluated;
    - wrong: the failure is counted (the caller commits it with the refusal), InvalidPin with the
      attempts left, or PinLocked when this failure reaches the limit;
    - a first-round argon2 hash: LegacyPin (the caller checks it outside any transaction);
    - right: clears the failures and re-keys a hash made under an older key.
    """
    if state.pin_hash is None:
        raise errors.PinRequired(
            "set a transaction PIN in your profile before your first payment", pin_set=False
        )
    if state.locked_at(now):
        assert state.locked_until is not None
        raise errors.PinLocked(
            "too many wrong PINs; try again later", **lock_extra(state.locked_until, now)
        )
    if not pin:
        raise errors.PinRequired("this payment needs your PIN", pin_set=True)
    if is_legacy(state.pin_hash):
        raise LegacyPin
    if verify(keyring, state.pin_hash, state.user_id, pin):
        if state.failures or state.locked_until is not None:
            state.failures, state.locked_until, state.dirty = 0, None, True
        if needs_rekey(keyring, state.pin_hash):
            state.pin_hash, state.dirty = hash_pin(keyring, state.user_id, pin), True
        return
    state.failures += 1
    state.dirty = True
    state.record("auth.pin_failed", {"reason": "wrong_pin", "failures": state.failures})
    if state.failures < max_failures:
        left = max_failures - state.failures
        raise errors.InvalidPin(
            "that PIN is not correct"
            + ("; one try is left before the PIN locks" if left == 1 else ""),
            attempts_left=left,
        )
    until = now + timedelta(minutes=lock_minutes)
    state.record(
        "auth.pin_locked", {"locked_until": until.isoformat(), "after_failures": state.failures}
    )
    state.failures, state.locked_until = 0, until
    raise errors.PinLocked("too many wrong PINs; try again later", **lock_extra(until, now))
