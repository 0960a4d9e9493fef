"""`db backup` and `db restore`: the bank comes back as it was, and a restore is always verified."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ledger_helpers import create_funded_account, create_user
from sqlalchemy import func, select
from test_ledger_tampering import cli

from ledgerbank.kit.db import Database
from ledgerbank.ledger import posting
from ledgerbank.ledger.tables import transactions


def count(database: Database) -> int:
    with database.read() as conn:
        return int(conn.execute(select(func.count()).select_from(transactions)).scalar_one())


def test_a_restore_brings_the_backup_back_and_verifies_it(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    owner = database.write(create_user)
    account = create_funded_account(database, owner, "250.00")
    for amount in ("10.00", "20.00"):
        database.write(
            lambda c, a=amount: posting.withdraw(c, account_id=account, amount=a, actor_id=owner)
        )
    exported = tmp_path / "checkpoint.json"
    signed = cli(database_url, "audit", "checkpoint", "--out", str(exported))
    assert signed.exit_code == 0, signed.output
    saved = tmp_path / "backups" / "bank.backup"
    made = cli(database_url, "db", "backup", str(saved))
    assert made.exit_code == 0, made.output
    assert saved.stat().st_size > 0
    kept = count(database)
    database.write(lambda c: posting.withdraw(c, account_id=account, amount="5.00", actor_id=owner))
    assert count(database) == kept + 1
    database.dispose()  # nothing of ours holds the database while it is replaced

    restored = cli(
        database_url, "db", "restore", str(saved), "--yes", "--checkpoint", str(exported)
    )
    assert restored.exit_code == 0, restored.output
    assert "ledger sound" in restored.output
    assert "audit chain intact" in restored.output
    assert "the restored bank is sound" in restored.output
    assert count(database) == kept  # the withdrawal after the backup is gone


def test_a_restore_of_a_doctored_backup_fails_its_verification(tmp_path: Path) -> None:
    """The backup file edited on its way (SQLite here: one amount), restored: both verify
    commands run, and the restore exits non-zero."""
    from ledgerbank.migrations import upgrade

    url = f"sqlite:///{tmp_path / 'bank.db'}"
    database = Database.from_url(url)
    upgrade(database.engine)
    owner = database.write(create_user)
    account = create_funded_account(database, owner, "250.00")
    database.write(lambda c: posting.withdraw(c, account_id=account, amount="9.00", actor_id=owner))
    saved = tmp_path / "bank.backup"
    assert cli(url, "db", "backup", str(saved)).exit_code == 0
    database.dispose()
    doctored = sqlite3.connect(saved)
    doctored.execute("DROP TRIGGER transactions_guard_update")
    doctored.execute("UPDATE transactions SET amount = 1 WHERE type = 'withdrawal'")
    doctored.commit()
    doctored.close()
    restored = cli(url, "db", "restore", str(saved), "--yes")
    assert restored.exit_code == 1, restored.output
    assert "NOT sound" in restored.output
    assert "evidence_mismatch" in restored.output
