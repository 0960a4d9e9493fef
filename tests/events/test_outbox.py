"""The outbox: an event row exists exactly when its change committed, and says only what its
audience may read."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from ledger_helpers import create_account, create_funded_account, create_user
from sqlalchemy import Connection, select

from ledgerbank.events.tables import events
from ledgerbank.identity import service as identity
from ledgerbank.kit.db import Database
from ledgerbank.ledger import freezes, posting


def _events(database: Database) -> list[dict[str, Any]]:
    with database.read() as conn:
        rows = conn.execute(select(events).order_by(events.c.id)).mappings().all()
    return [{**row, "body": orjson.loads(row["body"])} for row in rows]


def test_postings_write_one_event_per_customer_account_in_their_transaction(
    database: Database,
) -> None:
    alice, bob = (database.write(lambda conn: create_user(conn)) for _ in range(2))
    payer = create_funded_account(database, alice, "100.00")
    payee = database.write(lambda conn: create_account(conn, bob))
    paid = database.write(
        lambda conn: posting.transfer(
            conn, from_account_id=payer, to_account_id=payee, amount="30.00", actor_id=alice,
            description="rent",
        )
    ).transaction  # fmt: skip
    found = _events(database)
    assert [(e["type"], e["account_id"], e["owner_id"], bool(e["mirror"])) for e in found] == [
        ("transaction.posted", payer, alice, False),  # the deposit
        ("transaction.posted", payer, alice, False),  # the transfer, the payer's side
        ("transaction.posted", payee, bob, True),  # ... and the payee's copy
    ]
    transfer = found[1]["body"]
    assert transfer["transaction_id"] == paid["id"]
    assert (transfer["amount"], transfer["currency"], transfer["description"]) == (
        "30.00",
        "USD",
        "rent",
    )
    assert all(e["audience"] == "customer" and "risk" not in e["body"] for e in found)
    assert len({e["event_id"] for e in found}) == 3
    # An account's events all fall in its partition.
    assert found[0]["partition_no"] == found[1]["partition_no"]


def test_a_rolled_back_change_leaves_no_event(database: Database) -> None:
    owner = database.write(lambda conn: create_user(conn))
    account = create_funded_account(database, owner, "10.00")
    before = len(_events(database))

    def posted_then_failed(conn: Connection) -> None:
        posting.deposit(conn, account_id=account, amount="5.00", actor_id=None)
        raise RuntimeError("the request failed after posting")

    with pytest.raises(RuntimeError):
        database.write(posted_then_failed)
    assert len(_events(database)) == before


def test_freezes_and_kyc_changes_write_customer_events_without_staff_notes(
    database: Database,
) -> None:
    admin = database.write(lambda conn: create_user(conn, role="admin"))
    owner = database.write(lambda conn: create_user(conn))
    account = database.write(lambda conn: create_account(conn, owner))
    database.write(
        lambda conn: freezes.freeze(
            conn, account, frozen_by="fraud", customer_reason="account_review",
            note="suspected mule, do not tell", actor_id=admin,
        )
    )  # fmt: skip
    database.write(
        lambda conn: identity.change_kyc(
            conn, actor_id=admin, user_id=owner, kyc_status="rejected", reason="forged passport"
        )
    )
    frozen, kyc = _events(database)
    assert (frozen["type"], frozen["account_id"], frozen["owner_id"]) == (
        "account.frozen",
        account,
        owner,
    )
    assert (kyc["type"], kyc["owner_id"], kyc["body"]) == (
        "customer.kyc_changed",
        owner,
        {"user_id": owner, "kyc_status": "rejected"},
    )
    text = orjson.dumps([frozen["body"], kyc["body"]]).decode()
    assert "mule" not in text
    assert "forged" not in text
    assert "fraud" not in text
