"""Ed25519 keys that sign audit checkpoints: where they may live, and which ones verify.

The private key is never in a table nor beside the database: it comes from the environment
(`LEDGERBANK_AUDIT_SIGNING_KEY`) or from a file outside the data folder
(`LEDGERBANK_AUDIT_SIGNING_KEY_FILE`, readable by its owner only). A key is named by its id,
the first 16 hex digits of the SHA-256 of its public key. After a rotation the retired public
keys stay in `LEDGERBANK_AUDIT_TRUSTED_KEYS`, so the checkpoints they signed still verify.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ledgerbank.config import Settings
from ledgerbank.errors import SigningKeyProblem


def _raw(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    return hashlib.sha256(_raw(public)).hexdigest()[:16]


def public_text(public: Ed25519PublicKey) -> str:
    return base64.b64encode(_raw(public)).decode()


@dataclass(frozen=True)
class Signer:
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private.sign(message)).decode()


@dataclass(frozen=True)
class Verifier:
    """The public keys a checkpoint may be signed with, by key id."""

    keys: dict[str, Ed25519PublicKey]

    def check(self, key: str, message: bytes, signature: str) -> str | None:
        """None when `signature` is a valid signature by the trusted key `key`, else why not."""
        public = self.keys.get(key)
        if public is None:
            return f"signed by key {key}, which is not a trusted key"
        try:
            public.verify(base64.b64decode(signature, validate=True), message)
        except (InvalidSignature, binascii.Error, ValueError):
            return f"its signature does not verify with key {key}"
        return None


def generate() -> tuple[str, str]:
    """A new key pair: the private key and the public key, each as base64 of its raw bytes."""
    private = Ed25519PrivateKey.generate()
    raw = private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return base64.b64encode(raw).decode(), public_text(private.public_key())


def parse_private(text: str) -> Ed25519PrivateKey:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise SigningKeyProblem("the audit signing key is not an Ed25519 key")
            return key
        raw = base64.b64decode(text, validate=True)
        return Ed25519PrivateKey.from_private_bytes(raw)
    except (ValueError, binascii.Error, TypeError):
        raise SigningKeyProblem(
            "the audit signing key is neither base64 of 32 raw bytes nor an Ed25519 PEM key"
        ) from None


def parse_public(text: str) -> Ed25519PublicKey:
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
            if not isinstance(key, Ed25519PublicKey):
                raise SigningKeyProblem(f"trusted key {text[:20]}... is not an Ed25519 key")
            return key
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error, TypeError):
        raise SigningKeyProblem(f"trusted key {text[:12]}... is not a base64 Ed25519 key") from None


def forbidden_places(settings: Settings) -> list[Path]:
    """Folders a key file may not be in: the data folder and the SQLite database's folder."""
    places = [settings.data_dir.resolve()]
    url = settings.resolved_database_url
    if url.startswith("sqlite:///"):
        database = url.removeprefix("sqlite:///").split("?", 1)[0]
        if database and database != ":memory:":
            places.append(Path(database).resolve().parent)
    return places


def check_key_file(path: Path, settings: Settings) -> Path:
    """The key file's resolved path, after refusing one kept where it may not be."""
    resolved = path.expanduser().resolve()
    for place in forbidden_places(settings):
        if resolved.is_relative_to(place):
            raise SigningKeyProblem(
                f"the audit signing key file {resolved} is inside {place}: keep it outside the "
                "data folder and away from the database, or whoever copies the database has it"
            )
    return resolved


def signer(settings: Settings) -> Signer | None:
    """The configured signing key, or None when there is none. Misplaced keys are refused."""
    if settings.audit_signing_key and settings.audit_signing_key_file:
        raise SigningKeyProblem(
            "set LEDGERBANK_AUDIT_SIGNING_KEY or LEDGERBANK_AUDIT_SIGNING_KEY_FILE, not both"
        )
    if settings.audit_signing_key:
        return Signer(parse_private(settings.audit_signing_key))
    if settings.audit_signing_key_file is None:
        return None
    path = check_key_file(settings.audit_signing_key_file, settings)
    try:
        mode = path.stat().st_mode
        text = path.read_text()
    except OSError as exc:
        raise SigningKeyProblem(f"cannot read the audit signing key file {path}: {exc}") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SigningKeyProblem(
            f"the audit signing key file {path} is readable by others: chmod 600 it"
        )
    return Signer(parse_private(text))


def require_signer(settings: Settings) -> Signer:
    found = signer(settings)
    if found is None:
        raise SigningKeyProblem(
            "no audit signing key: set LEDGERBANK_AUDIT_SIGNING_KEY or "
            "LEDGERBANK_AUDIT_SIGNING_KEY_FILE (`ledgerbank audit keygen` makes one)"
        )
    return found


def verifier(settings: Settings, extra: list[str] | None = None) -> Verifier:
    """The signing key's public half, the retired keys still trusted, and any given ones."""
    keys: dict[str, Ed25519PublicKey] = {}
    own = signer(settings)
    if own is not None:
        keys[own.key_id] = own.public
    texts = [t for t in settings.audit_trusted_keys.split(",") if t.strip()] + (extra or [])
    for text in texts:
        public = parse_public(text)
        keys[key_id(public)] = public
    return Verifier(keys)
