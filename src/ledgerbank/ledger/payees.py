"""Telling a customer when money goes to a payee for the first time (a security notice).

A group of money requests collects its posted transfers to other customers' accounts and, once
they are written, settles them in four statements however many there are: which of the pairs
(customer, payee account) `known_payees` holds already, the new ones inserted, their account
numbers, and one notice each. The group holds its callers' user rows locked, so no other
transaction adds a pair for these customers meanwhile; nothing scans past payments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from ledgerbank.identity import notices
from ledgerbank.kit.bulk import insert_rows
from ledgerbank.ledger.posting import Movement
from ledgerbank.ledger.screening import AccountState
from ledgerbank.ledger.tables import accounts, known_payees

K = known_payees.c


@dataclass
class FirstPayments:
    """The group's transfers that may be a customer's first to their payee."""

    transfers: list[tuple[int, Movement]] = field(default_factory=list)

    def add(self, customer_id: int, transfer: Movement, payee: AccountState) -> None:
        """A transfer `customer_id` made (its row is written with the group)."""
        if payee.owner_id not in (None, customer_id):  # one's own accounts are never new
            self.transfers.append((customer_id, transfer))

    def write(self, conn: Connection) -> None:
        """Remember the new payees and tell their customers (after the postings are written;
        an earlier transfer of the same group counts as paying before)."""
        first: dict[tuple[int, int], Mapping[str, Any]] = {}
        for customer_id, transfer in self.transfers:
            row = transfer.row
            if row["status"] == "posted":
                first.setdefault((customer_id, int(row["to_account_id"])), row)
        self.transfers.clear()
        if not first:
            return
        known = conn.execute(
            select(K.customer_id, K.account_id).where(
                K.customer_id.in_({c for c, _ in first}), K.account_id.in_({a for _, a in first})
            )
        )
        for pair in known:
            first.pop((int(pair.customer_id), int(pair.account_id)), None)
        if not first:
            return
        insert_rows(
            conn,
            known_payees,
            [
                {
                    "customer_id": customer_id,
                    "account_id": account_id,
                    "first_transaction_id": row["id"],
                    "first_paid_at": row["created_at"],
                }
                for (customer_id, account_id), row in first.items()
            ],
        )
        numbers = {
            int(row.id): str(row.account_number)
            for row in conn.execute(
                select(accounts.c.id, accounts.c.account_number).where(
                    accounts.c.id.in_({a for _, a in first})
                )
            )
        }
        notices.notify_many(
            conn,
            [
                (
                    customer_id,
                    "new_payee",
                    {
                        "account_number": "··" + str(numbers[account_id])[-4:],
                        "transaction_id": row["id"],
                    },
                )
                for (customer_id, account_id), row in first.items()
            ],
        )
