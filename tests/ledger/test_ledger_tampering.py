"""Tampering with the database directly: both verify commands must notice, on every backend.

The attacker has write access to the database and switches off whatever trigger is in the way
(as a table owner can), then edits with plain SQL. These are the six cases found in the first
round, where `ledger verify` and `audit verify` both still said sound; each must now make both
commands exit non-zero and say what they found. The bank posts two days: the first is verified
by `ledger verify` (so its runs are incremental from there), the second is covered by a signed
audit checkpoint, also exported to a file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ledger_helpers import create_account, create_user
from sqlalchemy import Connection, select, text
from typer.testing import CliRunner

from ledgerbank.audit import checkpoints, keys
from ledgerbank.audit import service as audit
from ledgerbank.audit.tables import audit_chain, audit_log
from ledgerbank.config import Settings, get_settings
from ledgerbank.kit.db import Database
from ledgerbank.ledger import posting
from ledgerbank.ledger.tables import accounts, entries, transactions
from ledgerbank.risk.screen import RiskScreen
from ledgerbank.risk.tables import risk_scores

PRIVATE_KEY, PUBLIC_KEY = keys.generate()
MILLION = 100_000_000  # 1,000,000.00 in minor units


@contextmanager
def triggers_off(database: Database, *tables: str) -> Iterator[None]:
    """Switch off every trigger of the tables, as an owner of them can, and put them back.

    PostgreSQL disables them; SQLite and MariaDB drop them and recreate them from their own
    definitions afterwards (MariaDB's test database is reused, so they must come back).
    """
    dialect = database.dialect
    if dialect == "postgresql":
        with database.engine.begin() as conn:
            for table in tables:
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
        try:
            yield
        finally:
            with database.engine.begin() as conn:
                for table in tables:
                    conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))
        return
    saved: list[tuple[str, str]] = []
    with database.engine.begin() as conn:
        for table in tables:
            if dialect == "sqlite":
                rows = conn.execute(
                    text(
                        "SELECT name, sql FROM sqlite_master "
                        "WHERE type = 'trigger' AND tbl_name = :t"
                    ),
                    {"t": table},
                ).all()
                saved += [(row.name, row.sql) for row in rows]
                continue
            names = conn.execute(
                text(
                    "SELECT trigger_name FROM information_schema.triggers "
                    "WHERE trigger_schema = DATABASE() AND event_object_table = :t"
                ),
                {"t": table},
            ).scalars()
            for name in list(names):
                created = conn.execute(text(f"SHOW CREATE TRIGGER {name}")).mappings().one()
                saved.append((name, created["SQL Original Statement"]))
        for name, _sql in saved:
            conn.execute(text(f"DROP TRIGGER {name}"))
    try:
        yield
    finally:
        with database.engine.begin() as conn:
            for _name, sql in saved:
                conn.exec_driver_sql(sql)


def cli(database_url: str, *args: str, **env: str) -> Any:
    """A `ledgerbank` command in-process, with the audit signing key in its environment."""
    from ledgerbank.cli import app as cli_app

    get_settings.cache_clear()
    try:
        return CliRunner().invoke(
            cli_app,
            list(args),
            env={
                "LEDGERBANK_DATABASE_URL": database_url,
                "LEDGERBANK_AUDIT_SIGNING_KEY": PRIVATE_KEY,
                "COLUMNS": "300",
                **env,
            },
        )
    finally:
        get_settings.cache_clear()


@dataclass
class Bank:
    database: Database
    url: str
    exported: Path
    ids: dict[str, int] = field(default_factory=dict)

    def verify(self, *extra: str) -> tuple[Any, Any]:
        """`ledger verify` and `audit verify` (with the exported checkpoint), as run by hand."""
        ledger = cli(self.url, "ledger", "verify", *extra)
        audited = cli(self.url, "audit", "verify", "--checkpoint", str(self.exported))
        return ledger, audited

    def write(self, work: Callable[[Connection], Any]) -> Any:
        return self.database.write(work)


def open_bank(database: Database, database_url: str, tmp_path: Path) -> Bank:
    """Two days of postings: the first verified by `ledger verify`, the second covered by a
    signed checkpoint exported to a file. Blocked attempts come from the real risk screen."""
    settings = Settings(
        environment="test",
        data_dir=tmp_path / "data",
        risk_rule_scores={"large_cash": 0.95},  # cash of 10,000.00 or more is blocked
    )
    screen = RiskScreen(settings)
    bank = Bank(database, database_url, tmp_path / "checkpoint.json")
    owner = database.write(create_user)
    other = database.write(create_user)
    for name, who in (("alice", owner), ("bob", other), ("carol", other)):
        bank.ids[name] = database.write(lambda c, who=who: create_account(c, who))

    def day(conn: Connection, tag: str, transfers: int) -> None:
        ids = bank.ids
        for name in ("alice", "bob"):
            posting.deposit(
                conn, account_id=ids[name], amount="500.00", actor_id=owner, screen=screen
            )
        for i in range(transfers):  # volume, unscreened: a burst like this would look risky
            posting.transfer(
                conn,
                from_account_id=ids["alice"],
                to_account_id=ids["bob"] if i % 2 else ids["carol"],
                amount="1.25",
                actor_id=owner,
                description=f"{tag} lunch {i}",
            )
        kept = posting.transfer(
            conn, from_account_id=ids["bob"], to_account_id=ids["alice"], amount="20.00",
            actor_id=other, description=f"{tag} refund", screen=screen,
        )  # fmt: skip
        bank.ids[f"{tag}.transfer"] = int(kept.transaction["id"])
        undone = posting.transfer(
            conn, from_account_id=ids["alice"], to_account_id=ids["carol"], amount="3.00",
            actor_id=owner, description=f"{tag} mistake", screen=screen,
        )  # fmt: skip
        posting.reverse(conn, int(undone.transaction["id"]), reason="typo", actor_id=None)
        blocked = posting.deposit(
            conn, account_id=ids["carol"], amount="25000.00", actor_id=other, screen=screen
        )
        assert blocked.blocked
        assert blocked.transaction["risk"]["verdict"] == "CRITICAL"
        bank.ids[f"{tag}.blocked"] = int(blocked.transaction["id"])
        last = posting.deposit(
            conn, account_id=ids["bob"], amount="75.00", actor_id=other, description=f"{tag} cash",
            screen=screen,
        )  # fmt: skip
        bank.ids[f"{tag}.deposit"] = int(last.transaction["id"])

    database.write(lambda c: day(c, "day1", 40))
    first = cli(database_url, "ledger", "verify")
    assert first.exit_code == 0, first.output
    database.write(lambda c: day(c, "day2", 220))
    document = checkpoints.checkpoint(database, keys.Signer(keys.parse_private(PRIVATE_KEY)))
    assert document is not None
    bank.exported.write_text(json.dumps(document))
    # (`ledger verify` is not run again: the second day stays new to its next run.)
    audited = cli(database_url, "audit", "verify", "--checkpoint", str(bank.exported))
    assert audited.exit_code == 0, audited.output
    assert "every recorded posting matches the ledger" in audited.output
    assert "record(s) after it are covered by no checkpoint yet" in audited.output
    return bank


@pytest.fixture
def bank(database: Database, database_url: str, tmp_path: Path) -> Bank:
    return open_bank(database, database_url, tmp_path)


def both_refuse(bank: Bank, *expected: str, ledger_expected: tuple[str, ...] = ()) -> None:
    """Both commands exit 1; each output names what was found."""
    ledger, audited = bank.verify()
    assert ledger.exit_code == 1, ledger.output
    assert "NOT sound" in ledger.output
    assert audited.exit_code == 1, audited.output
    for word in expected:
        assert word in ledger.output or word in ledger_expected, (word, ledger.output)
        assert word in audited.output, (word, audited.output)
    for word in ledger_expected:
        assert word in ledger.output, (word, ledger.output)


def test_1_removing_the_newest_audit_records(bank: Bank) -> None:
    """Delete the newest 200 audit records and their chain links."""
    database = bank.database
    with database.read() as conn:
        newest = list(
            conn.execute(
                select(audit_log.c.id).order_by(audit_log.c.id.desc()).limit(200)
            ).scalars()
        )
    with triggers_off(database, "audit_log", "audit_chain"):
        database.write(
            lambda c: (
                c.execute(audit_chain.delete().where(audit_chain.c.audit_id.in_(newest))),
                c.execute(audit_log.delete().where(audit_log.c.id.in_(newest))),
            )
        )
    both_refuse(bank, "unrecorded_rows", "transactions")
    ledger, audited = bank.verify()
    assert "the audit trail accounts for" in ledger.output
    assert "records up to the checkpoint were removed" in audited.output
    # Removing the stored checkpoints too leaves the exported one, kept elsewhere.
    with triggers_off(database, "audit_checkpoints"):
        database.write(lambda c: c.execute(text("DELETE FROM audit_checkpoints")))
    _, audited = bank.verify()
    assert audited.exit_code == 1
    assert f"checkpoint file {bank.exported}" in audited.output


def test_2_rewriting_a_record_and_recomputing_the_chain(bank: Bank) -> None:
    """Rewrite one posting record's amount, recompute its hash and every later link."""
    database = bank.database
    victim = bank.ids["day1.transfer"]
    with database.read() as conn:
        record = (
            conn.execute(
                select(audit_log).where(
                    audit_log.c.entity_type == "transaction", audit_log.c.entity_id == str(victim)
                )
            )
            .mappings()
            .one()
        )
        position = conn.execute(
            select(audit_chain.c.position).where(audit_chain.c.audit_id == record["id"])
        ).scalar_one()
    after = json.loads(record["after"])
    forged = {
        **dict(record),
        "after": audit.canonical_json({**after, "amount": after["amount"] + 1}),
    }
    forged["row_hash"] = audit.row_hash(forged)

    def rehash(conn: Connection) -> None:
        conn.execute(
            audit_log.update()
            .where(audit_log.c.id == record["id"])
            .values(after=forged["after"], row_hash=forged["row_hash"])
        )
        links = conn.execute(
            select(audit_chain, audit_log.c.row_hash)
            .join(audit_log, audit_log.c.id == audit_chain.c.audit_id)
            .where(audit_chain.c.position >= position)
            .order_by(audit_chain.c.position)
        ).mappings()
        prev = None
        for link in list(links):
            prev = link["prev_hash"] if prev is None else prev
            new = audit.chain_hash(prev, link["audit_id"], link["row_hash"])
            conn.execute(
                audit_chain.update()
                .where(audit_chain.c.position == link["position"])
                .values(prev_hash=prev, chain_hash=new)
            )
            prev = new

    with triggers_off(database, "audit_log", "audit_chain"):
        database.write(rehash)
    with database.read() as conn:
        assert audit.verify(conn).ok  # the chain alone checks out: only the proof finds it
    both_refuse(
        bank,
        f"transaction {victim}",
        "evidence_mismatch",
        ledger_expected=("chain_rewritten",),
    )
    _, audited = bank.verify()
    assert "were rewritten and the chain recomputed" in audited.output
    full = cli(bank.url, "ledger", "verify", "--full")
    assert full.exit_code == 1
    assert "evidence_mismatch" in full.output
    assert "digest_changed" in full.output


def test_3_rewriting_a_transaction(bank: Bank) -> None:
    """UPDATE transactions SET amount=1, to_account_id=<another>, description='rewritten'."""
    database = bank.database
    victim, elsewhere = bank.ids["day2.transfer"], bank.ids["carol"]
    rewrite = text(
        "UPDATE transactions SET amount = 1, to_account_id = :to, description = 'rewritten' "
        "WHERE id = :id"
    )
    with pytest.raises(Exception, match="refused"):
        database.write(lambda c: c.execute(rewrite, {"to": elsewhere, "id": victim}))
    with triggers_off(database, "transactions"):
        database.write(lambda c: c.execute(rewrite, {"to": elsewhere, "id": victim}))
    both_refuse(bank, f"transaction {victim}", "evidence_mismatch", "description", "legs_mismatch")


def test_4_marking_a_transaction_reversed_without_a_reversal(bank: Bank) -> None:
    database = bank.database
    victim = bank.ids["day2.transfer"]
    mark = text("UPDATE transactions SET status = 'reversed' WHERE id = :id")
    with pytest.raises(Exception, match="refused"):
        database.write(lambda c: c.execute(mark, {"id": victim}))
    with triggers_off(database, "transactions"):
        database.write(lambda c: c.execute(mark, {"id": victim}))
    both_refuse(bank, f"transaction {victim}", "reversal_link", "no reversal points at it")


def test_5_a_consistent_million_on_a_deposit(bank: Bank) -> None:
    """Both legs' amounts, their balance_after and the balance: 1,000,000.00 more, consistently
    (the transaction's amount too), so every sum and chain inside the ledger still holds."""
    database = bank.database
    victim, account = bank.ids["day2.deposit"], bank.ids["bob"]

    def enrich(conn: Connection) -> None:
        conn.execute(
            text(
                "UPDATE entries SET amount = amount + CASE WHEN amount > 0 THEN :m ELSE -:m END, "
                "balance_after = CASE WHEN balance_after IS NULL THEN NULL "
                "ELSE balance_after + :m END WHERE transaction_id = :id"
            ),
            {"m": MILLION, "id": victim},
        )
        conn.execute(
            text("UPDATE accounts SET balance = balance + :m WHERE id = :id"),
            {"m": MILLION, "id": account},
        )
        conn.execute(
            text("UPDATE transactions SET amount = amount + :m WHERE id = :id"),
            {"m": MILLION, "id": victim},
        )

    with triggers_off(database, "entries", "transactions"):
        database.write(enrich)
    with database.read() as conn:  # the ledger's own invariants cannot see it
        last = conn.execute(
            select(entries.c.id)
            .where(entries.c.account_id == account)
            .order_by(entries.c.id.desc())
        ).first()
        own = conn.execute(select(entries.c.id).where(entries.c.transaction_id == victim)).scalars()
        assert last is not None
        assert last[0] in set(own)
        assert conn.execute(text("SELECT COUNT(*) FROM vw_ledger_integrity_check")).scalar() == 0
        assert (
            conn.execute(select(accounts.c.balance).where(accounts.c.id == account)).scalar_one()
            > MILLION
        )
    both_refuse(bank, f"transaction {victim}", "evidence_mismatch", "amount: recorded 7500")


def test_6_a_critical_verdict_made_safe(bank: Bank) -> None:
    database = bank.database
    victim = bank.ids["day2.blocked"]
    soften = text(
        "UPDATE risk_scores SET verdict = 'SAFE', score = 0.05 WHERE transaction_id = :id"
    )
    with pytest.raises(Exception, match="append-only"):
        database.write(lambda c: c.execute(soften, {"id": victim}))
    with triggers_off(database, "risk_scores"):
        database.write(lambda c: c.execute(soften, {"id": victim}))
    both_refuse(bank, f"transaction {victim}", "evidence_mismatch", "risk: recorded CRITICAL")


def test_a_newer_safe_score_appended_behind_the_screens_back(bank: Bank) -> None:
    """No trigger stands in the way of an INSERT: readers take the newest score, so a forged
    newer one would hide a CRITICAL verdict, but no audit record accounts for it."""
    database = bank.database
    victim = bank.ids["day2.blocked"]
    database.write(
        lambda c: c.execute(
            text(
                "INSERT INTO risk_scores (transaction_id, score, verdict, reasons, model_version, "
                "scored_at, origin) SELECT transaction_id, 0.01, 'SAFE', '[]', NULL, scored_at, "
                "'rescore' FROM risk_scores WHERE transaction_id = :id"
            ),
            {"id": victim},
        )
    )
    both_refuse(bank, "unrecorded_rows", "risk score rows")
    with database.read() as conn:
        forged = conn.execute(select(risk_scores.c.id).order_by(risk_scores.c.id.desc())).first()
    _, audited = bank.verify()
    assert forged is not None
    assert str(forged[0]) in audited.output


def test_an_older_transaction_rewritten_is_found_by_a_full_run(bank: Bank) -> None:
    """A nightly run reads what is new; rows it verified before are checked by `--full` (which
    also says the digest of an earlier run no longer matches) and by `audit verify`."""
    database = bank.database
    victim = bank.ids["day1.transfer"]
    with triggers_off(database, "transactions"):
        database.write(
            lambda c: c.execute(
                text("UPDATE transactions SET description = 'rewritten' WHERE id = :id"),
                {"id": victim},
            )
        )
    full = cli(bank.url, "ledger", "verify", "--full")
    assert full.exit_code == 1, full.output
    assert f"transaction {victim}" in full.output
    assert "description" in full.output
    assert "digest_changed" in full.output
    _, audited = bank.verify()
    assert audited.exit_code == 1
    assert f"transaction {victim}" in audited.output


def test_the_one_allowed_update_is_a_reversal(bank: Bank) -> None:
    """The status change a reversal makes passes only with its reversal written first."""
    database = bank.database
    victim = bank.ids["day2.transfer"]
    with pytest.raises(Exception, match="refused"):
        database.write(
            lambda c: c.execute(
                text("UPDATE transactions SET status = 'reversed', amount = 5 WHERE id = :id"),
                {"id": victim},
            )
        )
    database.write(lambda c: posting.reverse(c, victim, reason="dispute", actor_id=None))
    with database.read() as conn:
        assert (
            conn.execute(
                select(transactions.c.status).where(transactions.c.id == victim)
            ).scalar_one()
            == "reversed"
        )
    with pytest.raises(Exception, match="refused"):
        database.write(
            lambda c: c.execute(
                text("UPDATE transactions SET status = 'posted' WHERE id = :id"), {"id": victim}
            )
        )
    ledger, audited = bank.verify()
    assert ledger.exit_code == 0, ledger.output
    assert audited.exit_code == 0, audited.output
