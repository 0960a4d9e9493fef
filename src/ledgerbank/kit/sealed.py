"""Secrets kept at rest (TOTP and webhook signing secrets) sealed with AES-256-GCM.

A sealed value reads `sealed:<key id>:<base64url of nonce + ciphertext + tag>`; the key id names
the keyring key (LEDGERBANK_SECRET_KEYS, `id:secret,...`, or one generated into the data folder)
whose HKDF-SHA256 derivative sealed it, so an older key still opens what it sealed after a newer
one took over. The associated data names what the value is for (and whose it is), so a sealed
value copied into another row or column does not open there. A value without the prefix is
plain text written before sealing existed: it still opens, and `needs_sealing` says so, for the
caller to seal it again on next use (as it also does for a value sealed under an older key).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, Table, select, update

from ledgerbank.errors import SealedSecretUnreadable
from ledgerbank.kit.keys import Keyring

PREFIX = "sealed:"
NONCE_BYTES = 12
_INFO = b"ledgerbank secrets at rest v1"


def _derive(secret: bytes) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
    return AESGCM(key)


@dataclass(frozen=True)
class Sealer:
    """Seals with the keyring's current key; opens with any of its keys."""

    keyring: Keyring
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, compare=False, repr=False)

    def _cipher(self, key_id: str) -> AESGCM:
        found = self._ciphers.get(key_id)
        if found is None:
            secret = self.keyring.keys.get(key_id)
            if secret is None:
                raise SealedSecretUnreadable(
                    f"a secret is sealed under key {key_id!r}, which LEDGERBANK_SECRET_KEYS "
                    "does not name: add it back (after the current key) to read it"
                )
            found = self._ciphers[key_id] = _derive(secret)
        return found

    def seal(self, plain: str, *, purpose: str) -> str:
        key_id = self.keyring.current
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._cipher(key_id).encrypt(nonce, plain.encode(), purpose.encode())
        return f"{PREFIX}{key_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, stored: str, *, purpose: str) -> str:
        if not stored.startswith(PREFIX):
            return stored  # plain text from before sealing; needs_sealing() is True
        key_id, _, data = stored[len(PREFIX) :].partition(":")
        try:
            raw = base64.urlsafe_b64decode(data.encode())
            nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
            return self._cipher(key_id).decrypt(nonce, sealed, purpose.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError):
            raise SealedSecretUnreadable(
                f"a secret sealed under key {key_id!r} does not open for {purpose}"
            ) from None

    def needs_sealing(self, stored: str) -> bool:
        """Plain text, or sealed under a key other than the current one."""
        return not stored.startswith(f"{PREFIX}{self.keyring.current}:")


def reseal_column(
    conn: Connection, sealer: Sealer, table: Table, column: str, purpose: Callable[[int], str]
) -> int:
    """Seal every plain or old-key value of `table.column` under the current key (row locks
    held); how many changed. After it, older keys can leave LEDGERBANK_SECRET_KEYS."""
    stored = table.c[column]
    rows = conn.execute(
        select(table.c.id, stored).where(stored.is_not(None)).order_by(table.c.id).with_for_update()
    ).all()
    changed = 0
    for row_id, value in rows:
        if not sealer.needs_sealing(value):
            continue
        plain = sealer.open(value, purpose=purpose(int(row_id)))
        sealed = sealer.seal(plain, purpose=purpose(int(row_id)))
        conn.execute(update(table).where(table.c.id == row_id).values({column: sealed}))
        changed += 1
    return changed
