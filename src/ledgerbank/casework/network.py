"""Who paid whom around an account: a small graph (two hops, bounded) to see fan-in and mules.

One grouped query per hop over the indexed (account, created_at) columns of `transactions`,
each limited: the centre's counterparties in the window, then theirs. Nothing scans history.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, or_, select

from ledgerbank.identity.tables import users
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.ledger.tables import accounts, transactions

WINDOW_DAYS = 90
MAX_EDGES = 40  # per hop
MOVED = ("posted", "reversed")


def _edges(conn: Connection, ids: list[int], since: datetime, limit: int) -> list[Any]:
    """Transfers between customer accounts touching `ids`, grouped by payer, payee, currency."""
    return list(
        conn.execute(
            select(
                transactions.c.from_account_id,
                transactions.c.to_account_id,
                transactions.c.currency,
                func.count().label("n"),
                func.sum(transactions.c.amount).label("total"),
                func.max(transactions.c.created_at).label("last"),
            )
            .where(
                transactions.c.type == "transfer",
                transactions.c.status.in_(MOVED),
                transactions.c.created_at >= since,
                transactions.c.from_account_id.is_not(None),
                transactions.c.to_account_id.is_not(None),
                or_(
                    transactions.c.from_account_id.in_(ids),
                    transactions.c.to_account_id.in_(ids),
                ),
            )
            .group_by(
                transactions.c.from_account_id,
                transactions.c.to_account_id,
                transactions.c.currency,
            )
            .order_by(func.count().desc(), transactions.c.from_account_id)
            .limit(limit)
        )
    )


def network(conn: Connection, account_id: int, *, now: datetime) -> dict[str, Any]:
    """The payment graph around `account_id` over the last WINDOW_DAYS days."""
    since = now - timedelta(days=WINDOW_DAYS)
    first = _edges(conn, [account_id], since, MAX_EDGES)
    neighbours = sorted(
        {int(e.from_account_id) for e in first} | {int(e.to_account_id) for e in first}
    )
    neighbours = [i for i in neighbours if i != account_id][:12]
    second = _edges(conn, neighbours, since, MAX_EDGES) if neighbours else []
    seen: dict[tuple[int, int, str], Any] = {}
    for e in [*first, *second]:
        seen.setdefault((int(e.from_account_id), int(e.to_account_id), e.currency), e)
    node_ids = sorted({i for key in seen for i in key[:2]} | {account_id})
    rows = conn.execute(
        select(
            accounts.c.id,
            accounts.c.account_number,
            accounts.c.status,
            accounts.c.owner_id,
            users.c.full_name,
        )
        .select_from(accounts)
        .outerjoin(users, users.c.id == accounts.c.owner_id)
        .where(accounts.c.id.in_(node_ids), accounts.c.is_internal == 0)
    )
    nodes = {
        int(r.id): {
            "account_id": int(r.id),
            "label": f"{r.full_name or 'the bank'} ·{str(r.account_number)[-4:]}",
            "owner_id": r.owner_id,
            "status": r.status,
            "centre": int(r.id) == account_id,
            "senders": 0,
            "receivers": 0,
        }
        for r in rows
    }
    edges = []
    for (payer, payee, currency), e in seen.items():
        if payer not in nodes or payee not in nodes:
            continue
        nodes[payee]["senders"] += 1
        nodes[payer]["receivers"] += 1
        edges.append(
            {
                "from_account_id": payer,
                "to_account_id": payee,
                "currency": currency,
                "count": int(e.n),
                "total": to_decimal_string(int(e.total or 0), currency),
                "last_at": e.last,
            }
        )
    centre = nodes.get(account_id, {"senders": 0, "receivers": 0})
    return {
        "account_id": account_id,
        "window_days": WINDOW_DAYS,
        "since": since,
        "nodes": list(nodes.values()),
        "edges": edges,
        "fan_in": centre["senders"],
        "fan_out": centre["receivers"],
        # Many payers and as many payees: money that arrives and leaves (a possible mule).
        "pass_through": centre["senders"] >= 3 and centre["receivers"] >= 1,
    }
