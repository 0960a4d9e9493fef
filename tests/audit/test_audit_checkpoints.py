"""Signed audit checkpoints: where the key may live, rotation, and the server's schedule."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from identity_bank import Bank, make_bank
from sqlalchemy import select, text
from typer.testing import CliRunner

from ledgerbank import errors
from ledgerbank.audit import checkpoints, keys
from ledgerbank.audit import service as audit
from ledgerbank.audit.tables import audit_checkpoints
from ledgerbank.config import Settings, get_settings
from ledgerbank.kit.db import Database
from ledgerbank.proof import audit_trail

OLD_KEY, OLD_PUBLIC = keys.generate()
NEW_KEY, NEW_PUBLIC = keys.generate()


def settings_for(database: Database, data_dir: Path, **values: object) -> Settings:
    url = database.engine.url.render_as_string(hide_password=False)
    return Settings(environment="test", database_url=url, data_dir=data_dir, **values)  # type: ignore[arg-type]


def some_records(database: Database, count: int = 3) -> None:
    for i in range(count):
        database.write(
            lambda c, i=i: audit.record(
                c, actor_id=None, action="test.event", entity_type="x", after={"i": i}
            )
        )


def test_a_key_file_in_the_data_folder_or_readable_by_others_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    inside = data / "audit.key"
    inside.write_text(OLD_KEY)
    inside.chmod(0o600)
    with pytest.raises(errors.SigningKeyProblem, match="inside"):
        keys.signer(Settings(environment="test", data_dir=data, audit_signing_key_file=inside))
    beside_db = tmp_path / "db" / "audit.key"
    beside_db.parent.mkdir()
    beside_db.write_text(OLD_KEY)
    beside_db.chmod(0o600)
    with pytest.raises(errors.SigningKeyProblem, match="inside"):
        keys.signer(
            Settings(
                environment="test",
                data_dir=data,
                database_url=f"sqlite:///{beside_db.parent / 'bank.db'}",
                audit_signing_key_file=beside_db,
            )
        )
    outside = tmp_path / "keys" / "audit.key"
    outside.parent.mkdir()
    outside.write_text(OLD_KEY)
    outside.chmod(0o644)
    settings = Settings(environment="test", data_dir=data, audit_signing_key_file=outside)
    with pytest.raises(errors.SigningKeyProblem, match="readable by others"):
        keys.signer(settings)
    outside.chmod(0o600)
    signer = keys.signer(settings)
    assert signer is not None
    assert keys.public_text(signer.public) == OLD_PUBLIC
    with pytest.raises(errors.SigningKeyProblem):
        keys.signer(Settings(environment="test", data_dir=data, audit_signing_key="not a key"))


def test_keygen_writes_a_private_key_only_its_owner_reads(tmp_path: Path) -> None:
    from ledgerbank.cli import app as cli_app

    env = {"LEDGERBANK_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200"}
    get_settings.cache_clear()
    try:
        refused = CliRunner().invoke(
            cli_app, ["audit", "keygen", "--out", str(tmp_path / "data" / "k")], env=env
        )
        made = CliRunner().invoke(
            cli_app, ["audit", "keygen", "--out", str(tmp_path / "k")], env=env
        )
    finally:
        get_settings.cache_clear()
    assert refused.exit_code != 0
    assert not (tmp_path / "data" / "k").exists()
    assert made.exit_code == 0, made.output
    assert os.stat(tmp_path / "k").st_mode & 0o777 == 0o600
    signer = keys.Signer(keys.parse_private((tmp_path / "k").read_text()))
    assert keys.public_text(signer.public) in made.output


def test_rotated_keys_still_verify_old_checkpoints(database: Database, tmp_path: Path) -> None:
    some_records(database)
    old = keys.Signer(keys.parse_private(OLD_KEY))
    first = checkpoints.checkpoint(database, old)
    some_records(database)
    rotated = settings_for(database, tmp_path, audit_signing_key=NEW_KEY)
    second = checkpoints.checkpoint(database, keys.require_signer(rotated))
    assert first is not None
    assert second is not None
    assert first["key_id"] != second["key_id"]
    # Without the retired public key the old checkpoint cannot be trusted...
    result = audit_trail.verify(database, rotated)
    assert not result.ok
    assert any("not a trusted key" in p for p in result.checkpoints.problems)
    # ...with it, both verify, and the newest covers the head.
    trusted = settings_for(
        database, tmp_path, audit_signing_key=NEW_KEY, audit_trusted_keys=OLD_PUBLIC
    )
    result = audit_trail.verify(database, trusted)
    assert result.ok, (result.checkpoints.problems, result.ledger.findings)
    assert (result.checkpoints.checked, result.checkpoints.newest_position) == (
        2,
        second["position"],
    )
    # A forged signature, even under a trusted key id, is caught.
    forged = {**second, "chain_hash": "f" * 64}
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    result = audit_trail.verify(database, trusted, files=[tmp_path / "forged.json"])
    assert any("signature does not verify" in p for p in result.checkpoints.problems)


def test_checkpoints_are_append_only(database: Database) -> None:
    some_records(database)
    assert checkpoints.checkpoint(database, keys.Signer(keys.parse_private(OLD_KEY)))
    for statement in ("UPDATE audit_checkpoints SET position = 1", "DELETE FROM audit_checkpoints"):
        with pytest.raises(Exception, match="append-only"):
            database.write(lambda c, s=statement: c.execute(text(s)))


@pytest.fixture
def signing_bank(database_url: str, tmp_path: Path) -> Iterator[Bank]:
    yield from make_bank(
        database_url,
        tmp_path,
        audit_signing_key=NEW_KEY,
        audit_checkpoint_seconds=0.2,
        audit_checkpoint_records=1,
    )


def test_the_server_signs_checkpoints_and_verify_reports_them(signing_bank: Bank) -> None:
    bank = signing_bank
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with bank.database.read() as conn:
            if conn.execute(select(audit_checkpoints.c.id)).first() is not None:
                break
        time.sleep(0.1)
    else:
        pytest.fail("the server signed no checkpoint")
    answer = bank.call("auditor", "GET", "/audit/verify")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["ok"] is True, body
    assert body["checkpoints_checked"] >= 1
    assert body["newest_checkpoint_position"] >= 1
    assert body["findings"] == []
    # A stored checkpoint whose signature no longer verifies makes the answer not ok.
    with bank.database.read() as conn:
        stored = conn.execute(select(audit_checkpoints.c.document)).scalars().first()
    assert stored is not None
    forged = {**json.loads(stored), "signature": keys.generate()[1] * 2}
    bank.database.write(
        lambda c: c.execute(
            audit_checkpoints.insert().values(
                position=forged["position"],
                audit_id=forged["audit_id"],
                chain_hash=forged["chain_hash"],
                key_id=forged["key_id"],
                document=json.dumps(forged),
                created_at=checkpoints.utcnow(),
            )
        )
    )
    body = bank.call("auditor", "GET", "/audit/verify").json()
    assert body["ok"] is False
    assert any("signature does not verify" in p for p in body["checkpoint_problems"])
