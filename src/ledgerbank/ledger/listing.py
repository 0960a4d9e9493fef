"""Account lists for the API: the accounts a caller may see, filtered and keyset-paged by id."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Connection, RowMapping, select

from ledgerbank.identity.names import matching
from ledgerbank.identity.tables import users
from ledgerbank.kit.pagination import decode_cursor, encode_cursor
from ledgerbank.ledger.tables import accounts


def account_page(
    conn: Connection,
    visible: ColumnElement[bool],
    *,
    owner_id: int | None,
    status: str | None,
    limit: int,
    cursor: str | None,
    owner: str | None = None,
) -> tuple[list[RowMapping], str | None]:
    """Oldest first; the next page's cursor, or None on the last page. `owner`: part of the
    owner's name, username or email."""
    query = select(accounts).where(visible).order_by(accounts.c.id).limit(limit + 1)
    if owner_id is not None:
        query = query.where(accounts.c.owner_id == owner_id)
    if owner is not None:
        query = query.where(accounts.c.owner_id.in_(select(users.c.id).where(matching(owner))))
    if status is not None:
        query = query.where(accounts.c.status == status)
    if cursor is not None:
        (after_id,) = decode_cursor(cursor, int)
        query = query.where(accounts.c.id > after_id)
    rows = list(conn.execute(query).mappings())
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encode_cursor(int(rows[limit - 1]["id"]))
