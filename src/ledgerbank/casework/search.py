"""Finding customers and accounts by name, account number, username or email (staff)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, func, or_, select

from ledgerbank.identity.tables import users
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.ledger.tables import accounts

MAX_RESULTS = 20


def _like(text: str) -> str:
    """`text` as a case-insensitive LIKE pattern matching it anywhere, wildcards escaped."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _matches(column: Any, pattern: str) -> ColumnElement[bool]:
    return func.lower(column).like(pattern, escape="\\")


def search(conn: Connection, text: str, *, limit: int = MAX_RESULTS) -> dict[str, Any]:
    """Customers whose name, username or email holds `text`, and accounts whose number holds
    it or whose owner is one of those customers."""
    pattern = _like(text.strip())
    people = or_(
        _matches(users.c.full_name, pattern),
        _matches(users.c.username, pattern),
        _matches(users.c.email, pattern),
    )
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
            or_(_matches(accounts.c.account_number, pattern), people),
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
