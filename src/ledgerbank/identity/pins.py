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
import secrets
from dataclasses import dataclass
from pathlib import Path

from ledgerbank import errors
from ledgerbank.identity import passwords

PREFIX = "pin$"


@dataclass(frozen=True)
class PinKeyring:
    """Key id -> key; `current` signs new hashes."""

    current: str
    keys: dict[str, bytes]

    @classmethod
    def parse(cls, text: str) -> PinKeyring:
        """`id:secret,id2:secret2` (the first one signs)."""
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            key_id, sep, secret = part.partition(":")
            if not sep or not key_id.isalnum() or len(secret) < 32:
                raise ValueError(
                    "LEDGERBANK_PIN_KEYS is `id:secret,...` with alphanumeric ids and secrets of "
                    "at least 32 characters"
                )
            keys[key_id] = secret.encode()
            order.append(key_id)
        if not order:
            raise ValueError("LEDGERBANK_PIN_KEYS names no key")
        return cls(order[0], keys)

    def digest(self, key_id: str, user_id: int, pin: str) -> str:
        return hmac.new(self.keys[key_id], f"{user_id}:{pin}".encode(), hashlib.sha256).hexdigest()

    def hash(self, user_id: int, pin: str) -> str:
        return f"{PREFIX}{self.current}${self.digest(self.current, user_id, pin)}"


def generated_keyring(data_dir: Path) -> PinKeyring:
    """A key made once into the data folder (development); production sets LEDGERBANK_PIN_KEYS."""
    path = data_dir / "pin-key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(48))
    return PinKeyring("k1", {"k1": path.read_text().strip().encode()})


def check_format(pin: str) -> None:
    if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 6):
        raise errors.ValidationFailed("the PIN must be 4 to 6 digits")


def is_legacy(stored: str) -> bool:
    """A first-round argon2 hash: checked (slowly) once more, then re-keyed."""
    return not stored.startswith(PREFIX)


def verify(keyring: PinKeyring, stored: str, user_id: int, pin: str) -> bool:
    """Check a keyed PIN hash (microseconds); False for a hash under a retired key."""
    _, key_id, digest = stored.split("$", 2)
    if key_id not in keyring.keys:
        return False
    return hmac.compare_digest(keyring.digest(key_id, user_id, pin), digest)


def needs_rekey(keyring: PinKeyring, stored: str) -> bool:
    return is_legacy(stored) or stored.split("$", 2)[1] != keyring.current


def verify_legacy(stored: str, pin: str) -> bool:
    """A first-round argon2id PIN hash: slow by design, so never run inside a transaction."""
    return passwords.verify_secret(stored, pin)
