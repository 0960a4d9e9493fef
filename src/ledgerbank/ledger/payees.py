"""Telling a customer when money goes to a payee for the first time (a security notice)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, select

from ledgerbank.identity import notices
from ledgerbank.ledger.tables import accounts, transactions

T = transactions.c


def tell_new_payee(conn: Connection, owner_id: int, transaction: Mapping[str, Any]) -> None:
    """A notice when this posted transfer is the customer's first to its payee's account
    (between one's own accounts, nothing), written in the transfer's own transaction."""
    if not _is_first(conn, owner_id, transaction):
        return
    target = conn.execute(
        select(accounts.c.account_number).where(accounts.c.id == transaction["to_account_id"])
    ).first()
    if target is None:
        return
    notices.notify(
        conn,
        owner_id,
        "new_payee",
        {
            "account_number": "··" + str(target.account_number)[-4:],
            "transaction_id": transaction["id"],
        },
    )


def _is_first(conn: Connection, owner_id: int, transaction: Mapping[str, Any]) -> bool:
    """A posted transfer to another customer's account none of the owner's paid before (one
    indexed probe: transactions by payee account; an earlier one of the same group counts)."""
    if transaction.get("status") != "posted" or transaction.get("type") != "transfer":
        return False
    own = select(accounts.c.id).where(accounts.c.owner_id == owner_id)
    payee = transaction["to_account_id"]
    if conn.execute(
        select(accounts.c.id).where(accounts.c.id == payee, accounts.c.owner_id == owner_id)
    ).first():
        return False
    earlier = conn.execute(
        select(T.id)
        .where(
            T.to_account_id == payee,
            T.from_account_id.in_(own),
            T.status.in_(("posted", "reversed")),
            T.id < transaction["id"],
        )
        .limit(1)
    ).first()
    return earlier is None
