"""Reading the outbox as a live feed that never skips an event committed late.

Ids are drawn when a row is inserted, but rows become visible when their transaction commits:
a reader that remembered only "the highest id I sent" would pass over a smaller id still in
flight. A `Cursor` remembers, besides its head, the ids below it it has not seen yet (gaps) and
looks for them again on every read, for `GAP_SECONDS`: an id that was rolled back never comes
and is forgotten then; one that commits late is read then. The cursor travels in the stream's
`Last-Event-ID`, so a resumed stream keeps watching its gaps.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, or_, select

from ledgerbank.events.tables import events

GAP_SECONDS = 60.0  # a transaction holding an id uncommitted longer than this is not waited for
MAX_GAPS = 2000
SCAN = 1000  # ids looked at per read
TOKEN_GAPS = 20  # gaps carried in a Last-Event-ID (more: resume from the oldest one)


@dataclass
class Cursor:
    head: int = 0
    gaps: dict[int, float] = field(default_factory=dict)  # id -> when first missed

    def token(self, head: int | None = None) -> str:
        """The cursor as text (a stream's event id); with `head`, as it stood right after the
        event of that id was read."""
        head = self.head if head is None else head
        gaps = sorted(g for g in self.gaps if g < head)
        if not gaps:
            return str(head)
        if len(gaps) > TOKEN_GAPS:  # resume from below the oldest gap (may repeat some)
            return str(gaps[0] - 1)
        return f"{head}~{'.'.join(str(g) for g in gaps)}"

    @classmethod
    def parse(cls, token: str | None) -> Cursor | None:
        if not token:
            return None
        head, _, gaps = token.partition("~")
        if not head.isdigit() or len(head) > 19:
            return None
        now = time.monotonic()
        found = [int(g) for g in gaps.split(".")[:TOKEN_GAPS] if g.isdigit() and len(g) <= 19]
        return cls(int(head), {g: now for g in found if g < int(head)})

    def _missed(self, low: int, high: int, seen: set[int], now: float) -> None:
        for missing in range(low + 1, high):
            if missing not in seen and len(self.gaps) < MAX_GAPS:
                self.gaps.setdefault(missing, now)


def newest_id(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(events.c.id), 0))).scalar_one())


def start(conn: Connection, look_back: int = 200) -> Cursor:
    """A cursor at now that still waits for the ids just below it that are not visible yet."""
    head = newest_id(conn)
    cursor = Cursor(head)
    recent = set(conn.execute(select(events.c.id).where(events.c.id > head - look_back)).scalars())
    cursor._missed(max(head - look_back, 0), head + 1, recent | {head}, time.monotonic())
    return cursor


def read(
    conn: Connection, cursor: Cursor, visible: ColumnElement[bool] | None, limit: int
) -> list[dict[str, Any]]:
    """The rows (that `visible` admits) committed since the cursor last read, in id order,
    each with `cursor`: the cursor's token right after it; advances the cursor."""
    now = time.monotonic()
    before = cursor.head
    cursor.gaps = {g: at for g, at in cursor.gaps.items() if now - at < GAP_SECONDS}
    ids = list(
        conn.execute(
            select(events.c.id).where(events.c.id > cursor.head).order_by(events.c.id).limit(SCAN)
        ).scalars()
    )
    filled: list[int] = []
    if cursor.gaps:
        waiting = list(cursor.gaps)
        filled = list(conn.execute(select(events.c.id).where(events.c.id.in_(waiting))).scalars())
    wanted = sorted({*filled, *ids})
    if not wanted:
        return []
    query = select(events).where(events.c.id.in_(wanted))
    if visible is not None:
        query = query.where(visible)
    rows = [dict(r) for r in conn.execute(query.order_by(events.c.id)).mappings()]
    if len(rows) > limit:  # take the first `limit`; what follows is read next time
        rows = rows[:limit]
        last = int(rows[-1]["id"])
        ids = [i for i in ids if i <= last]
        filled = [i for i in filled if i <= last]
    for i in filled:
        cursor.gaps.pop(i, None)
    if ids:
        cursor._missed(cursor.head, ids[-1] + 1, set(ids), now)
        cursor.head = ids[-1]
    for row in rows:
        row["cursor"] = cursor.token(max(int(row["id"]), before))
    return rows


def of_types(*prefixes: str) -> ColumnElement[bool]:
    return or_(*(events.c.type.like(f"{p}%") for p in prefixes))
