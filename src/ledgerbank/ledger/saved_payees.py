"""A customer's saved payees: other customers' accounts they pay often, under a nickname.

The holder's name is read from the account's owner whenever a payee is shown (first name and
last initial, as confirmation of payee shows it), so a renamed holder or a closed account is
seen at once; the customer pays a saved payee through the review step like any other.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow
from ledgerbank.ledger import accounts as ledger_accounts
from ledgerbank.ledger.parties import holder_name, masked
from ledgerbank.ledger.tables import accounts, saved_payees

P = saved_payees.c


def list_payees(conn: Connection, owner_id: int) -> list[dict[str, Any]]:
    """The customer's payees, by nickname."""
    query = (
        select(
            P.id,
            P.nickname,
            P.account_id,
            P.created_at,
            accounts.c.account_number,
            accounts.c.currency,
            accounts.c.status,
            users.c.full_name,
        )
        .join(accounts, accounts.c.id == P.account_id)
        .join(users, users.c.id == accounts.c.owner_id)
        .where(P.owner_id == owner_id)
        .order_by(P.nickname, P.id)
    )
    return [_view(row) for row in conn.execute(query).mappings()]


def _view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "nickname": row["nickname"],
        "account_id": row["account_id"],
        "account_number": masked(row["account_number"]),
        "holder": holder_name(row["full_name"]),
        "currency": row["currency"],
        "payable": row["status"] == "active",
        "created_at": row["created_at"],
    }


def add_payee(
    conn: Connection, owner_id: int, *, account_number: str, nickname: str | None
) -> tuple[dict[str, Any], str]:
    """Save another customer's active account; the payee and its holder's full name (for the
    sanctions screen the caller runs in the same transaction)."""
    account = ledger_accounts.find_by_number(conn, account_number)
    if account is None or account["is_internal"] or account["status"] != "active":
        raise errors.NotFound(f"no active account has the number {account_number}")
    if account["owner_id"] == owner_id:
        raise errors.ValidationFailed("that is one of your own accounts: it needs no payee")
    taken = conn.execute(
        select(P.id).where(P.owner_id == owner_id, P.account_id == account["id"])
    ).first()
    if taken is not None:
        raise errors.Conflict("this account is already one of your payees")
    full_name = str(
        conn.execute(select(users.c.full_name).where(users.c.id == account["owner_id"])).scalar()
    )
    name = (nickname or "").strip() or holder_name(full_name)
    payee_id = conn.execute(
        insert(saved_payees).values(
            owner_id=owner_id, account_id=account["id"], nickname=name, created_at=utcnow()
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    audit.record(
        conn,
        actor_id=owner_id,
        action="payee.saved",
        entity_type="user",
        entity_id=owner_id,
        after={"payee_id": payee_id, "account": masked(account_number), "nickname": name},
    )
    found = next(p for p in list_payees(conn, owner_id) if p["id"] == payee_id)
    return found, full_name


def remove_payee(conn: Connection, owner_id: int, payee_id: int) -> None:
    """Forget a payee; another customer's payee is not found."""
    gone = conn.execute(delete(saved_payees).where(P.id == payee_id, P.owner_id == owner_id))
    if gone.rowcount == 0:
        raise errors.NotFound(f"payee {payee_id} not found")
    audit.record(
        conn,
        actor_id=owner_id,
        action="payee.removed",
        entity_type="user",
        entity_id=owner_id,
        before={"payee_id": payee_id},
    )
