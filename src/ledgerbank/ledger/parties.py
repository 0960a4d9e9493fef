"""Who is on each side of a transaction, in words its reader may see.

A customer reads the other side as the bank holds it, the holder's first name and last initial
(what confirmation of payee shows), with a masked account number; their own accounts by type.
Staff read full names and numbers. Never an internal account id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, select

from ledgerbank.identity.tables import users
from ledgerbank.ledger.tables import accounts

BANK = "ledgerbank"


class Party(BaseModel):
    """One side of a transaction (null for cash)."""

    name: str
    account_number: str
    own: bool = False


def holder_name(full_name: str) -> str:
    """ "Bob Smith" -> "Bob S.": enough to confirm a payee, not a full name to collect."""
    first, _, rest = str(full_name).strip().partition(" ")
    return f"{first} {rest.strip()[:1]}." if rest.strip() else first


def masked(account_number: str) -> str:
    return "··" + str(account_number)[-4:]


def parties_of(
    conn: Connection, account_ids: Iterable[int | None], *, viewer_id: int | None
) -> dict[int, Party]:
    """The named side of each account; `viewer_id` None: a staff reader."""
    wanted = sorted({int(i) for i in account_ids if i is not None})
    if not wanted:
        return {}
    rows = conn.execute(
        select(
            accounts.c.id,
            accounts.c.account_number,
            accounts.c.account_type,
            accounts.c.owner_id,
            accounts.c.is_internal,
            users.c.full_name,
        )
        .outerjoin(users, users.c.id == accounts.c.owner_id)
        .where(accounts.c.id.in_(wanted))
    )
    found: dict[int, Party] = {}
    for row in rows:
        own = viewer_id is not None and row.owner_id == viewer_id
        if row.is_internal or row.owner_id is None:
            name = BANK
        elif own:
            name = f"Your {str(row.account_type).replace('_', ' ')}"
        elif viewer_id is None:
            name = str(row.full_name)
        else:
            name = holder_name(str(row.full_name))
        number = str(row.account_number)
        found[int(row.id)] = Party(
            name=name, account_number=number if viewer_id is None else masked(number), own=own
        )
    return found


def sides(found: dict[int, Party], row: Mapping[Any, Any]) -> dict[str, Party | None]:
    """`from_party` and `to_party` of one transaction (row or model), for `model_copy`."""
    source, target = row["from_account_id"], row["to_account_id"]
    return {
        "from_party": found.get(int(source)) if source is not None else None,
        "to_party": found.get(int(target)) if target is not None else None,
    }
