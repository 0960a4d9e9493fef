"""Who may see and move what: a customer only their own accounts and transactions, staff all.

Each rule is one SQL condition, used alike for lists and single lookups, so a list never shows
what a lookup would refuse. Anything the caller may not see answers NotFound, exactly as a
missing object does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, Select, and_, false, or_, select, true

from ledgerbank import errors
from ledgerbank.identity.deps import Principal
from ledgerbank.identity.permissions import Permission
from ledgerbank.ledger.tables import accounts, transactions


def own_account_ids(principal: Principal) -> Select[tuple[int]]:
    """The ids of the caller's accounts, as a subquery."""
    return select(accounts.c.id).where(accounts.c.owner_id == principal.id)


def accounts_visible_to(principal: Principal) -> ColumnElement[bool]:
    """Customer accounts only: the bank's own books are read through its balance sheet."""
    if principal.can(Permission.ACCOUNTS_READ_ALL):
        return accounts.c.is_internal == 0
    if principal.can(Permission.ACCOUNTS_READ_OWN):
        return and_(accounts.c.owner_id == principal.id, accounts.c.is_internal == 0)
    return false()


def transactions_visible_to(principal: Principal) -> ColumnElement[bool]:
    """Staff with read access: all. A customer: those touching their accounts, except that a
    transaction blocked by risk is shown only to whoever tried it (nothing reached the payee)."""
    if principal.can(Permission.TRANSACTIONS_READ_ALL):
        return true()
    if not principal.can(Permission.TRANSACTIONS_READ_OWN):
        return false()
    mine = own_account_ids(principal)
    return or_(
        transactions.c.from_account_id.in_(mine),
        and_(
            transactions.c.to_account_id.in_(mine),
            or_(transactions.c.status != "blocked", transactions.c.initiated_by == principal.id),
        ),
    )


def visible_account(conn: Connection, principal: Principal, account_id: int) -> RowMapping:
    row = (
        conn.execute(
            select(accounts).where(accounts.c.id == account_id, accounts_visible_to(principal))
        )
        .mappings()
        .first()
    )
    if row is None:
        raise errors.NotFound(f"account {account_id} not found")
    return row


def visible_transaction(conn: Connection, principal: Principal, transaction_id: int) -> RowMapping:
    row = (
        conn.execute(
            select(transactions).where(
                transactions.c.id == transaction_id, transactions_visible_to(principal)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise errors.NotFound(f"transaction {transaction_id} not found")
    return row


def require_own_accounts(conn: Connection, principal: Principal, *account_ids: int) -> None:
    """Money moves only from (and deposits only into) the caller's own accounts."""
    wanted = set(account_ids)
    found = set(
        conn.execute(
            select(accounts.c.id).where(
                accounts.c.id.in_(wanted),
                accounts.c.owner_id == principal.id,
                accounts.c.is_internal == 0,
            )
        ).scalars()
    )
    for account_id in sorted(wanted - found):
        raise errors.NotFound(f"account {account_id} not found", account_id=account_id)


def sees_balance_of(principal: Principal, owner_id: int | None) -> bool:
    """Whether the caller may read the balances of an account with this owner."""
    return principal.can(Permission.ACCOUNTS_READ_ALL) or owner_id == principal.id


def sees_all_transactions(principal: Principal) -> bool:
    return principal.can(Permission.TRANSACTIONS_READ_ALL)


def own_accounts(conn: Connection, principal: Principal) -> set[int] | None:
    """The ids of a customer's accounts; None for staff, who read every risk reason."""
    if sees_all_transactions(principal):
        return None
    return {int(row.id) for row in conn.execute(own_account_ids(principal))}


def initiating_account(row: Mapping[Any, Any]) -> int | None:
    """The account a customer's own posting started from (the credited one for a deposit)."""
    account = row["to_account_id"] if row["type"] == "deposit" else row["from_account_id"]
    return None if account is None else int(account)


def risk_as_seen(
    risk: dict[str, Any] | None, row: Mapping[Any, Any], own: set[int] | None
) -> dict[str, Any] | None:
    """A transaction's risk assessment as the caller may see it: staff (`own` None) all of it,
    a customer none of it: no score, verdict, rule, threshold or model (tipping off)."""
    return risk if own is None else None


def as_seen(row: Mapping[Any, Any], *, staff: bool) -> dict[str, Any]:
    """A transaction row as the caller may see it: a customer reads a payment stopped by risk
    screening as `declined`, never as blocked."""
    found = dict(row)
    if not staff and found.get("status") == "blocked":
        found["status"] = "declined"
    return found
