"""The audit trail of the ledger: one record per posting, sealed into a chain that detects edits."""

from __future__ import annotations

import json
import threading
import time
from functools import partial

from ledger_helpers import (
    append_only_lifted,
    create_account,
    create_funded_account,
    create_user,
    race,
    run_cli,
)
from sqlalchemy import Connection, delete, func, select, update

from ledgerbank.audit import service as audit
from ledgerbank.audit.tables import audit_chain, audit_log
from ledgerbank.kit.db import Database
from ledgerbank.ledger import accounts as account_service
from ledgerbank.ledger import posting
from ledgerbank.ledger.posting import TransferOrder


def book_a_day(database: Database) -> list[dict[str, object]]:
    """Every kind of posting once; returns the transactions written."""
    owner = database.write(create_user)
    alice = create_funded_account(database, owner, "500.00")
    bob = create_funded_account(database, owner, "20.00")

    def day(conn: Connection) -> list[dict[str, object]]:
        written = []
        written += posting.deposit(conn, account_id=bob, amount="5.00", actor_id=owner).transactions
        written += posting.withdraw(
            conn, account_id=alice, amount="10.00", actor_id=owner
        ).transactions
        moved = posting.transfer(
            conn, from_account_id=alice, to_account_id=bob, amount="7.77", actor_id=owner
        )
        written += moved.transactions
        written += posting.transfer_batch(
            conn,
            [TransferOrder(alice, bob, "1.00"), TransferOrder(bob, alice, "2.00")],
            actor_id=owner,
        ).transactions
        written += posting.post_fee(
            conn, account_id=alice, amount="0.50", actor_id=None
        ).transactions
        written += posting.post_journal(
            conn, [(alice, "-3.00"), (bob, "3.00")], actor_id=None
        ).transactions
        written += posting.reverse(
            conn, int(moved.transaction["id"]), reason="customer dispute", actor_id=None
        ).transactions
        return written

    return database.write(day)


def test_every_posting_writes_one_audit_record(database: Database) -> None:
    written = book_a_day(database)
    assert [t["type"] for t in written] == [
        "deposit",
        "withdrawal",
        "transfer",
        "transfer",
        "transfer",
        "fee",
        "journal",
        "reversal",
    ]
    with database.read() as conn:
        for transaction in written:
            records = (
                conn.execute(
                    select(audit_log).where(
                        audit_log.c.entity_type == "transaction",
                        audit_log.c.entity_id == str(transaction["id"]),
                    )
                )
                .mappings()
                .all()
            )
            assert len(records) == 1, transaction
            record = records[0]
            assert record["action"] == f"transaction.{transaction['type']}"
            assert record["actor_id"] == transaction["initiated_by"]
            after = json.loads(record["after"])
            assert after["amount"] == transaction["amount"]
            assert after["status"] == "posted"
            assert sum(amount for _, amount in after["legs"]) == 0
        opened = conn.execute(
            select(func.count())
            .select_from(audit_log)
            .where(audit_log.c.action == "account.opened")
        ).scalar_one()
        assert opened == 2
        # The two funding deposits plus the day's postings: nothing else, nothing missing.
        postings = conn.execute(
            select(func.count())
            .select_from(audit_log)
            .where(audit_log.c.entity_type == "transaction")
        ).scalar_one()
        assert postings == len(written) + 2


def test_status_changes_are_audited_with_before_and_after(database: Database) -> None:
    owner = database.write(create_user)
    account = database.write(lambda c: create_account(c, owner))
    database.write(
        lambda c: account_service.set_status(
            c, account, status="frozen", reason="card stolen", actor_id=owner
        )
    )
    with database.read() as conn:
        record = (
            conn.execute(select(audit_log).where(audit_log.c.action == "account.frozen"))
            .mappings()
            .one()
        )
    assert record["entity_id"] == str(account)
    before, after = json.loads(record["before"]), json.loads(record["after"])
    assert (before["status"], after["status"], after["reason"]) == (
        "active",
        "frozen",
        "card stolen",
    )
    assert record["actor_id"] == owner


def test_sealed_chain_verifies_and_grows(database: Database) -> None:
    book_a_day(database)
    with database.read() as conn:
        total = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
        unsealed = audit.verify(conn)
    assert unsealed.ok
    assert (unsealed.checked, unsealed.unsealed) == (0, total)

    assert database.write(audit.seal) == total
    assert database.write(audit.seal) == 0
    with database.read() as conn:
        report = audit.verify(conn)
    assert (report.ok, report.checked, report.first_broken_id) == (True, total, None)

    book_a_day(database)
    assert database.write(audit.seal) > 0
    with database.read() as conn:
        grown = audit.verify(conn)
        now_total = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
    assert (grown.ok, grown.checked, grown.unsealed) == (True, now_total, 0)


def test_an_edited_record_is_found(database: Database, database_url: str) -> None:
    book_a_day(database)
    database.write(audit.seal)
    with database.read() as conn:
        victim, after = conn.execute(
            select(audit_log.c.id, audit_log.c.after)
            .where(audit_log.c.action == "transaction.transfer")
            .order_by(audit_log.c.id)
            .limit(1)
        ).one()
    record = json.loads(after)
    forged = audit.canonical_json({**record, "amount": record["amount"] + 100})
    with append_only_lifted(database, "audit_log"):
        database.write(
            lambda c: c.execute(
                update(audit_log).where(audit_log.c.id == victim).values(after=forged)
            )
        )
    with database.read() as conn:
        report = audit.verify(conn)
        position = conn.execute(
            select(audit_chain.c.position).where(audit_chain.c.audit_id == victim)
        ).scalar_one()
    assert not report.ok
    assert report.first_broken_id == victim
    assert report.checked == position - 1
    assert "altered" in report.detail

    result = run_cli(database_url, "audit", "verify")
    assert result.exit_code == 1, result.output
    assert f"BROKEN at record {victim}" in result.output


def test_an_edited_unsealed_record_is_found(database: Database) -> None:
    book_a_day(database)
    database.write(audit.seal)
    owner = database.write(create_user)
    database.write(lambda c: create_account(c, owner))  # one more record, not sealed yet
    with database.read() as conn:
        newest = conn.execute(select(func.max(audit_log.c.id))).scalar_one()
    with append_only_lifted(database, "audit_log"):
        database.write(
            lambda c: c.execute(
                update(audit_log).where(audit_log.c.id == newest).values(actor_id=None)
            )
        )
    with database.read() as conn:
        report = audit.verify(conn)
    assert (report.ok, report.first_broken_id) == (False, newest)


def test_a_removed_or_rewritten_chain_link_is_found(database: Database) -> None:
    book_a_day(database)
    database.write(audit.seal)
    with database.read() as conn:
        links = conn.execute(select(audit_chain).order_by(audit_chain.c.position)).mappings().all()
    third, fourth, fifth = links[2], links[3], links[4]

    with append_only_lifted(database, "audit_chain"):
        database.write(
            lambda c: c.execute(
                update(audit_chain)
                .where(audit_chain.c.position == fifth["position"])
                .values(chain_hash="f" * 64)
            )
        )
        with database.read() as conn:
            report = audit.verify(conn)
        assert (report.ok, report.first_broken_id) == (False, fifth["audit_id"])

        database.write(
            lambda c: c.execute(
                delete(audit_chain).where(audit_chain.c.position == third["position"])
            )
        )
        with database.read() as conn:
            report = audit.verify(conn)
        assert (report.ok, report.first_broken_id, report.checked) == (
            False,
            fourth["audit_id"],
            2,
        )
        assert "missing" in report.detail


def test_sealing_while_posting_keeps_the_chain_intact(database: Database) -> None:
    owner = database.write(create_user)
    alice = create_funded_account(database, owner, "100.00")
    bob = create_funded_account(database, owner, "100.00")
    posting_done = threading.Event()

    def customer(source: int, destination: int) -> None:
        for _ in range(12):
            database.write(
                lambda c: posting.transfer(
                    c,
                    from_account_id=source,
                    to_account_id=destination,
                    amount="0.25",
                    actor_id=None,
                )
            )

    def sealer() -> None:
        while not posting_done.is_set():
            audit.try_seal(database.write)  # losing a race to the other sealer is fine
            time.sleep(0.002)

    sealers = [threading.Thread(target=sealer) for _ in range(2)]
    for thread in sealers:
        thread.start()
    try:
        failures = race([partial(customer, alice, bob), partial(customer, bob, alice)] * 2)
    finally:
        posting_done.set()
        for thread in sealers:
            thread.join(timeout=300)
    assert failures == []
    database.write(audit.seal)
    with database.read() as conn:
        report = audit.verify(conn)
        total = conn.execute(select(func.count()).select_from(audit_log)).scalar_one()
        links = conn.execute(select(func.count()).select_from(audit_chain)).scalar_one()
    assert (report.ok, report.checked, report.unsealed) == (True, total, 0)
    assert links == total == 2 + 2 + 4 * 12  # two openings, two deposits, the transfers
