"""Opening, finding, freezing and closing accounts; the bank's internal accounts."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import connection_cache
from ledgerbank.kit.money import normalize_currency
from ledgerbank.ledger.tables import CUSTOMER_ACCOUNT_TYPES, accounts, entries

ACCOUNT_NUMBER_PREFIX = "40"


def luhn_check_digit(digits: str) -> str:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_valid_account_number(number: str) -> bool:
    return number.isdigit() and len(number) == 12 and luhn_check_digit(number[:-1]) == number[-1]


def new_account_number() -> str:
    """Twelve digits: the bank prefix, nine random digits and a Luhn check digit."""
    body = ACCOUNT_NUMBER_PREFIX + "".join(secrets.choice("0123456789") for _ in range(9))
    return body + luhn_check_digit(body)


def _insert_account(conn: Connection, values: dict[str, Any]) -> int:
    for _ in range(5):
        number = new_account_number()
        try:
            with conn.begin_nested():
                result = conn.execute(insert(accounts), {**values, "account_number": number})
            return int(result.inserted_primary_key[0])  # type: ignore[index]
        except IntegrityError:
            if find_by_number(conn, number) is None:
                raise  # not a number collision: the caller knows what else can clash
    raise errors.Conflict("could not allocate a unique account number")


def open_account(
    conn: Connection,
    *,
    owner_id: int,
    account_type: str,
    currency: str,
    actor_id: int | None = None,
    overdraft_limit: int = 0,
) -> RowMapping:
    if account_type not in CUSTOMER_ACCOUNT_TYPES:
        raise errors.ValidationFailed(
            f"account_type must be one of {', '.join(CUSTOMER_ACCOUNT_TYPES)}"
        )
    currency = normalize_currency(currency)
    now = utcnow()
    if conn.execute(select(users.c.id).where(users.c.id == owner_id)).first() is None:
        raise errors.NotFound(f"user {owner_id} not found")
    account_id = _insert_account(
        conn,
        {
            "owner_id": owner_id,
            "account_type": account_type,
            "is_internal": 0,
            "currency": currency,
            "balance": 0,
            "overdraft_limit": overdraft_limit,
            "status": "active",
            "created_at": now,
            "updated_at": now,
        },
    )
    account = get_account(conn, account_id)
    audit.record(
        conn,
        actor_id=actor_id if actor_id is not None else owner_id,
        action="account.opened",
        entity_type="account",
        entity_id=account_id,
        after=account_snapshot(account),
        at=now,
    )
    return account


# Internal kinds kept under an existing account type, told apart by their internal_key: the
# FX position and interest expense are the bank's own positions, so they count as equity.
LEDGER_TYPE_OF = {"fx_position": "equity", "interest_expense": "equity"}


def internal_account_id(conn: Connection, currency: str, account_type: str) -> int:
    """The bank's cash vault / fee income / equity / FX position / interest expense account
    for a currency, opened on first use."""
    key = f"{account_type}:{currency}"
    known = connection_cache(conn, "internal_accounts")
    if key in known:
        return int(known[key])
    query = select(accounts.c.id).where(accounts.c.internal_key == key)
    found = conn.execute(query).scalar()
    if found is not None:
        known[key] = int(found)
        return int(found)
    now = utcnow()
    try:
        with conn.begin_nested():
            return _insert_account(
                conn,
                {
                    "owner_id": None,
                    "account_type": LEDGER_TYPE_OF.get(account_type, account_type),
                    "is_internal": 1,
                    "internal_key": key,
                    "currency": currency,
                    "balance": 0,
                    "overdraft_limit": 0,
                    "status": "active",
                    "created_at": now,
                    "updated_at": now,
                },
            )
    except IntegrityError:  # another transaction opened it first
        return int(conn.execute(query).scalar_one())


def get_account(conn: Connection, account_id: int) -> RowMapping:
    row = conn.execute(select(accounts).where(accounts.c.id == account_id)).mappings().first()
    if row is None:
        raise errors.NotFound(f"account {account_id} not found")
    if row["is_internal"]:
        return _with_derived_balance(conn, row)
    return row


def find_by_number(conn: Connection, account_number: str) -> RowMapping | None:
    query = select(accounts).where(accounts.c.account_number == account_number)
    return conn.execute(query).mappings().first()


def list_accounts(conn: Connection, *, owner_id: int | None = None) -> list[RowMapping]:
    query = select(accounts).where(accounts.c.is_internal == 0).order_by(accounts.c.id)
    if owner_id is not None:
        query = query.where(accounts.c.owner_id == owner_id)
    return list(conn.execute(query).mappings())


def _with_derived_balance(conn: Connection, row: RowMapping) -> RowMapping:
    total = conn.execute(
        select(func.coalesce(func.sum(entries.c.amount), 0)).where(
            entries.c.account_id == row["id"]
        )
    ).scalar_one()
    # Asset accounts carry debit balances; show them as positive holdings.
    sign = -1 if row["account_type"] == "cash_vault" else 1
    return {**row, "balance": sign * int(total)}  # type: ignore[return-value]


def account_snapshot(row: RowMapping) -> dict[str, Any]:
    return {
        "account_number": row["account_number"],
        "owner_id": row["owner_id"],
        "account_type": row["account_type"],
        "currency": row["currency"],
        "status": row["status"],
        "balance": int(row["balance"]),
    }


def set_status(
    conn: Connection, account_id: int, *, status: str, reason: str, actor_id: int | None
) -> RowMapping:
    """Freeze, unfreeze (status `active`) or close a customer account."""
    before = (
        conn.execute(select(accounts).where(accounts.c.id == account_id).with_for_update())
        .mappings()
        .first()
    )
    if before is None or before["is_internal"]:
        raise errors.NotFound(f"account {account_id} not found")
    allowed = {
        "frozen": {"active"},
        "active": {"frozen"},
        "closed": {"active", "frozen"},
    }[status]
    if before["status"] not in allowed:
        raise errors.InvalidTransition(f"account {account_id} is {before['status']}, not {status}")
    if status == "closed" and before["balance"] != 0:
        raise errors.InvalidTransition("only an account with a zero balance can be closed")
    now = utcnow()
    conn.execute(
        update(accounts)
        .where(accounts.c.id == account_id)
        .values(
            status=status,
            status_reason=reason,
            # ledger.freezes is the way staff and customers freeze; this low-level change
            # records a freeze as the bank's (fraud) with the neutral customer-facing reason
            frozen_by="fraud" if status == "frozen" else None,
            freeze_reason="account_review" if status == "frozen" else None,
            updated_at=now,
        )
    )
    after = get_account(conn, account_id)
    action = {"frozen": "account.frozen", "active": "account.unfrozen", "closed": "account.closed"}
    audit.record(
        conn,
        actor_id=actor_id,
        action=action[status],
        entity_type="account",
        entity_id=account_id,
        before={**account_snapshot(before), "reason": before["status_reason"]},
        after={**account_snapshot(after), "reason": reason},
        at=now,
    )
    return after
