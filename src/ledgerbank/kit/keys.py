"""Keyrings: named secrets where the first signs and the others still verify, so keys rotate.

Written `id:secret,id2:secret2` in a setting (for example LEDGERBANK_PIN_KEYS); without one, a
secret is generated once into the data folder (development only: a production bank keeps its
keys in a secret store, away from the database and its backups).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Keyring:
    """Key id -> secret; `current` signs."""

    current: str
    keys: dict[str, bytes]

    @classmethod
    def parse(cls, text: str, *, setting: str) -> Keyring:
        keys: dict[str, bytes] = {}
        order: list[str] = []
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            key_id, sep, secret = part.partition(":")
            if not sep or not key_id.isalnum() or len(secret) < 32:
                raise ValueError(
                    f"{setting} is `id:secret,...` with alphanumeric ids and secrets of at least "
                    "32 characters"
                )
            keys[key_id] = secret.encode()
            order.append(key_id)
        if not order:
            raise ValueError(f"{setting} names no key")
        return cls(order[0], keys)

    @classmethod
    def generated(cls, data_dir: Path, name: str) -> Keyring:
        """One key made once into `data_dir/name` (readable by its owner only)."""
        path = data_dir / name
        if not path.exists():
            data_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return cls("k1", {"k1": path.read_text().strip().encode()})
