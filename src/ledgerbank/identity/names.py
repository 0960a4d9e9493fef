"""People's names for staff screens: who acted, who owns, who is assigned (never "user #13")."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, Connection, or_, select

from ledgerbank.identity.tables import users
from ledgerbank.kit.text import contains

MAX_NAMES = 500


def full_names(conn: Connection, ids: Iterable[int | None]) -> dict[int, str]:
    """user id -> full name (the username where no name is held), for the ids given."""
    wanted = sorted({int(i) for i in ids if i is not None})[:MAX_NAMES]
    if not wanted:
        return {}
    rows = conn.execute(
        select(users.c.id, users.c.full_name, users.c.username).where(users.c.id.in_(wanted))
    )
    return {int(r.id): (r.full_name or r.username) for r in rows}


def matching(text: str) -> ColumnElement[bool]:
    """Users whose name, username or email holds `text` (any case)."""
    return or_(
        contains(users.c.full_name, text),
        contains(users.c.username, text),
        contains(users.c.email, text),
    )
