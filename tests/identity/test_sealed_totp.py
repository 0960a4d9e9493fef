"""TOTP secrets sealed at rest: the users table never holds one in clear, sign-in still works,
plain secrets from before are sealed when next checked, and secret keys rotate (an older key
still opens what it sealed; `ledgerbank keys reseal` moves everything to the current one)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from identity_bank import Bank
from pydantic import ValidationError
from sqlalchemy import update
from test_trust_signin import enrol, login, next_code

from ledgerbank.config import Settings
from ledgerbank.errors import SealedSecretUnreadable
from ledgerbank.identity import second_factor
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.keys import Keyring
from ledgerbank.kit.sealed import Sealer

LEDGERBANK = str(Path(sys.executable).with_name("ledgerbank"))
OLD_KEY = "k1:" + "an-old-secret-key-of-the-bank-" * 2
NEW_KEY = "k2:" + "the-new-secret-key-of-the-bank-" * 2


def _stored(bank: Bank, name: str) -> str:
    return str(bank.user(name)["totp_secret"])


def _use_keys(bank: Bank, secret_keys: str) -> None:
    """The running app now seals and opens with these keys (as after a restart)."""
    bank.app.state.settings = bank.settings.model_copy(update={"secret_keys": secret_keys})


def _plain_enrolment(bank: Bank, name: str, secret: str) -> None:
    """A second factor as it was stored before sealing: the base32 secret in clear."""
    bank.database.write(
        lambda conn: conn.execute(
            update(users)
            .where(users.c.id == bank.users[name])
            .values(totp_secret=secret, totp_enabled_at=utcnow() - timedelta(days=1))
        )
    )


def _forget_used_codes(bank: Bank, name: str) -> None:
    """Let this step's code sign in again (the replay guard is not under test here)."""
    bank.database.write(
        lambda conn: conn.execute(
            update(users).where(users.c.id == bank.users[name]).values(totp_last_step=None)
        )
    )


def test_the_stored_totp_secret_is_sealed_and_sign_in_verifies(bank: Bank) -> None:
    secret, _, _ = enrol(bank, "customer")
    stored = _stored(bank, "customer")
    assert secret not in stored
    assert stored.startswith("sealed:k1:")  # the generated development key
    assert (bank.settings.data_dir / "secret-key").stat().st_mode & 0o077 == 0
    assert login(bank.client, "customer", totp=next_code(secret)).status_code == 200
    assert login(bank.client, "customer", totp="000000").json()["code"] == "invalid_second_factor"


def test_a_plain_text_secret_from_before_signs_in_and_is_sealed_on_use(bank: Bank) -> None:
    secret = pyotp.random_base32(32)
    _plain_enrolment(bank, "admin", secret)
    assert _stored(bank, "admin") == secret
    assert login(bank.client, "admin", totp=pyotp.TOTP(secret).now()).status_code == 200
    stored = _stored(bank, "admin")
    assert secret not in stored
    assert stored.startswith("sealed:")
    assert login(bank.client, "admin", totp=next_code(secret)).status_code == 200


def test_a_wrong_code_against_a_plain_secret_still_seals_it(bank: Bank) -> None:
    secret = pyotp.random_base32(32)
    _plain_enrolment(bank, "auditor", secret)
    wrong = login(bank.client, "auditor", totp="000000")
    assert wrong.json()["code"] == "invalid_second_factor"
    assert _stored(bank, "auditor").startswith("sealed:")  # committed with the counted failure


def test_secret_keys_rotate_and_old_ones_still_open(bank: Bank) -> None:
    _use_keys(bank, OLD_KEY)
    secret, _, _ = enrol(bank, "customer")
    assert _stored(bank, "customer").startswith("sealed:k1:")
    _use_keys(bank, f"{NEW_KEY},{OLD_KEY}")  # k2 seals now; k1 still opens
    assert login(bank.client, "customer", totp=next_code(secret)).status_code == 200
    assert _stored(bank, "customer").startswith("sealed:k2:")  # sealed again on use
    _use_keys(bank, NEW_KEY)  # k1 retired: what k2 sealed still signs in
    _forget_used_codes(bank, "customer")
    assert login(bank.client, "customer", totp=pyotp.TOTP(secret).now()).status_code == 200
    # A secret still sealed under the retired key: sign-in answers 503, not a 500
    other = pyotp.random_base32(32)
    _use_keys(bank, OLD_KEY)
    _plain_enrolment(bank, "auditor", other)
    assert login(bank.client, "auditor", totp=pyotp.TOTP(other).now()).status_code == 200
    assert _stored(bank, "auditor").startswith("sealed:k1:")
    _use_keys(bank, NEW_KEY)
    unreadable = login(bank.client, "auditor", totp=next_code(other))
    assert (unreadable.status_code, unreadable.json()["code"]) == (503, "sealed_secret_unreadable")
    assert unreadable.headers["content-type"].startswith("application/problem+json")


def test_a_sealed_secret_opens_only_for_its_own_user_and_key() -> None:
    sealer = Sealer(Keyring.parse(OLD_KEY, setting="LEDGERBANK_SECRET_KEYS"))
    sealed = sealer.seal("JBSWY3DPEHPK3PXP", purpose=second_factor.purpose(7))
    assert sealer.open(sealed, purpose=second_factor.purpose(7)) == "JBSWY3DPEHPK3PXP"
    with pytest.raises(SealedSecretUnreadable):  # copied onto another user's row
        sealer.open(sealed, purpose=second_factor.purpose(8))
    middle = len(sealed) // 2
    altered = sealed[:middle] + ("A" if sealed[middle] != "A" else "B") + sealed[middle + 1 :]
    with pytest.raises(SealedSecretUnreadable):
        sealer.open(altered, purpose=second_factor.purpose(7))
    other = Sealer(Keyring.parse(NEW_KEY, setting="LEDGERBANK_SECRET_KEYS"))
    with pytest.raises(SealedSecretUnreadable, match="k1"):  # its key is not configured
        other.open(sealed, purpose=second_factor.purpose(7))


def test_keys_reseal_moves_every_secret_to_the_current_key(
    bank: Bank, database_url: str, tmp_path: Path
) -> None:
    _use_keys(bank, OLD_KEY)
    secret, _, _ = enrol(bank, "customer")
    plain = pyotp.random_base32(32)
    _plain_enrolment(bank, "admin", plain)
    env = {
        **os.environ,
        "LEDGERBANK_DATABASE_URL": database_url,
        "LEDGERBANK_DATA_DIR": str(tmp_path / "cli"),
        "LEDGERBANK_SECRET_KEYS": f"{NEW_KEY},{OLD_KEY}",
    }
    done = subprocess.run(
        [LEDGERBANK, "keys", "reseal"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "2 TOTP secret(s)" in done.stdout
    for name, clear in (("customer", secret), ("admin", plain)):
        stored = _stored(bank, name)
        assert stored.startswith("sealed:k2:")
        assert clear not in stored
    _use_keys(bank, NEW_KEY)  # the old key is gone: both still sign in
    assert login(bank.client, "customer", totp=next_code(secret)).status_code == 200
    assert login(bank.client, "admin", totp=pyotp.TOTP(plain).now()).status_code == 200


def test_the_secret_keys_setting_is_checked_like_the_pin_keys(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="LEDGERBANK_SECRET_KEYS"):
        Settings(secret_keys="k1:too-short", data_dir=tmp_path)
    rotated = Settings(secret_keys=f"{NEW_KEY},{OLD_KEY}", data_dir=tmp_path).sealer()
    assert rotated.keyring.current == "k2"
    assert sorted(rotated.keyring.keys) == ["k1", "k2"]
    assert not (tmp_path / "secret-key").exists()  # configured keys: nothing generated
