"""Telling a customer when money goes to a payee for the first time (a security notice)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, bindparam, select

from ledgerbank.identity import notices
from ledgerbank.kit.bulk import insert_ignoring_duplicates
from ledgerbank.ledger.screening import AccountState
from ledgerbank.ledger.tables import accounts, known_payees

_ACCOUNT_NUMBER = select(accounts.c.account_number).where(accounts.c.id == bindparam("id"))


def tell_new_payee(
    conn: Connection, customer_id: int, transaction: Mapping[str, Any], payee: AccountState
) -> None:
    """A notice when this posted transfer is the customer's first to another customer's
    account (one keyed insert into `known_payees`; an earlier one of the same group counts),
    written in the transfer's own transaction."""
    if transaction["status"] != "posted" or payee.owner_id in (None, customer_id):
        return
    remembered = conn.execute(
        insert_ignoring_duplicates(conn.dialect.name, known_payees),
        {
            "customer_id": customer_id,
            "account_id": payee.id,
            "first_transaction_id": transaction["id"],
            "first_paid_at": transaction["created_at"],
        },
    )
    if remembered.rowcount != 1:
        return
    number = conn.execute(_ACCOUNT_NUMBER, {"id": payee.id}).scalar_one()
    notices.notify(
        conn,
        customer_id,
        "new_payee",
        {"account_number": "··" + str(number)[-4:], "transaction_id": transaction["id"]},
    )
