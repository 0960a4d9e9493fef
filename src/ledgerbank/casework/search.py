"""Finding customers and accounts by name, account number, username or email (staff)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, or_, select

from ledgerbank.identity.names import matching
from ledgerbank.identity.tables import users
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.kit.text import contains
from ledgerbank.ledger.tables import accounts

MAX_RESULTS = 20


def search(conn: Connection, text: str, *, limit: int = MAX_RESULTS) -> dict[str, Any]:
    """Customers whose name, username or email holds `text`, and accounts whose number holds
    it or whose owner is one of those customers."""
    people = matching(text)
    customers = conn.execute(
        select(
            users.c.id,
            users.c.username,
            users.c.full_name,
            users.c.email,
            users.c.kyc_status,
            users.c.is_active,
        )
        .where(users.c.role == "customer", people)
        .order_by(users.c.full_name, users.c.id)
        .limit(limit)
    ).mappings()
    found = conn.execute(
        select(accounts, users.c.full_name.label("owner_name"))
        .select_from(accounts)
        .join(users, users.c.id == accounts.c.owner_id)
        .where(
            accounts.c.is_internal == 0,
            or_(contains(accounts.c.account_number, text), people),
        )
        .order_by(users.c.full_name, accounts.c.id)
        .limit(limit)
    ).mappings()
    return {
        "customers": [dict(c) for c in customers],
        "accounts": [
            {
                "id": a["id"],
                "account_number": a["account_number"],
                "owner_id": a["owner_id"],
                "owner_name": a["owner_name"],
                "account_type": a["account_type"],
                "currency": a["currency"],
                "balance": to_decimal_string(int(a["balance"]), a["currency"]),
                "status": a["status"],
            }
            for a in found
        ],
    }
