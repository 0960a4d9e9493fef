"""Signing keys of access tokens: the newest signs, older ones verify until they are retired.

Keys come from settings (`LEDGERBANK_JWT_SECRET`, the current one, and
`LEDGERBANK_JWT_PREVIOUS_SECRETS`, still verifying) or, when no secret is configured, from the
data folder (`jwt-secret` and `jwt-secret.previous`), where `ledgerbank keys rotate` and
`ledgerbank keys retire` manage them. A key's id (`kid`) is derived from the key itself, so no
configuration names it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from ledgerbank.kit.files import private_dir, write_private

CURRENT_FILE = "jwt-secret"
PREVIOUS_FILE = "jwt-secret.previous"


def key_id(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class SigningKeys:
    """The key that signs new tokens and every key that still verifies them, by id."""

    current: str
    previous: tuple[str, ...] = ()

    @property
    def current_kid(self) -> str:
        return key_id(self.current)

    @property
    def by_kid(self) -> dict[str, str]:
        keys = {key_id(secret): secret for secret in self.previous if secret}
        keys[self.current_kid] = self.current
        return keys


def read_folder_keys(data_dir: Path) -> SigningKeys:
    """The data folder's keys, generating the first one (0600) when there is none."""
    current = data_dir / CURRENT_FILE
    if not current.exists():
        private_dir(data_dir, tighten=True)
        write_private(current, secrets.token_urlsafe(48))
    previous = data_dir / PREVIOUS_FILE
    older = previous.read_text().split() if previous.exists() else []
    return SigningKeys(current.read_text().strip(), tuple(older))


def rotate_folder_keys(data_dir: Path) -> SigningKeys:
    """A new current key; the old one keeps verifying (until retired) so no one is signed out."""
    keys = read_folder_keys(data_dir)
    fresh = secrets.token_urlsafe(48)
    write_private(data_dir / PREVIOUS_FILE, "\n".join([keys.current, *keys.previous]) + "\n")
    write_private(data_dir / CURRENT_FILE, fresh)
    return SigningKeys(fresh, (keys.current, *keys.previous))


def retire_folder_keys(data_dir: Path, kid: str | None = None) -> list[str]:
    """Stop verifying tokens of an older key (all older keys without `kid`); the retired ids."""
    keys = read_folder_keys(data_dir)
    kept = [s for s in keys.previous if kid is not None and key_id(s) != kid]
    retired = [key_id(s) for s in keys.previous if s not in kept]
    write_private(data_dir / PREVIOUS_FILE, "".join(f"{s}\n" for s in kept))
    return retired
