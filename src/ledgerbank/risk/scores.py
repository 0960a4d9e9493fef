"""Scores as staff and customers read them: the risk-scores list and one transaction's score."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, exists, or_, select

from ledgerbank.kit.money import to_decimal_string
from ledgerbank.kit.pagination import decode_cursor, encode_cursor
from ledgerbank.ledger.tables import accounts, transactions
from ledgerbank.risk.tables import risk_scores


def newest_only() -> ColumnElement[bool]:
    """True for the newest score row of its transaction: the current score (the table is
    append-only, so rescoring adds a row rather than changing one)."""
    newer = risk_scores.alias("newer_score")
    return ~exists().where(
        newer.c.transaction_id == risk_scores.c.transaction_id, newer.c.id > risk_scores.c.id
    )


def score_of(conn: Connection, transaction_id: int) -> dict[str, Any] | None:
    row = (
        conn.execute(
            select(risk_scores)
            .where(risk_scores.c.transaction_id == transaction_id)
            .order_by(risk_scores.c.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return None if row is None else score_view(row)


def stored_scores(conn: Connection, transaction_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """The risk engine's newest stored score of each transaction (rescoring appends one);
    the ledger reads them through `ledger.screening.StoredScores`."""
    if not transaction_ids:
        return {}
    rows = conn.execute(
        select(risk_scores)
        .where(risk_scores.c.transaction_id.in_(list(transaction_ids)))
        .order_by(risk_scores.c.id)  # in id order, so the newest of each is the one kept
    ).mappings()
    return {int(row["transaction_id"]): score_view(row) for row in rows}


def score_view(row: Mapping[Any, Any]) -> dict[str, Any]:
    return {
        "score": round(float(row["score"]), 4),
        "verdict": row["verdict"],
        "reasons": json.loads(row["reasons"]),
        "model_version": row["model_version"],
        "scored_at": row["scored_at"],
    }


def list_scores(
    conn: Connection,
    *,
    visible: ColumnElement[bool],
    verdict: str | None = None,
    min_score: float | None = None,
    account_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Scores with their transactions, newest transaction first, among the `visible` ones."""
    query: Select[Any] = (
        select(
            risk_scores,
            transactions.c.amount,
            transactions.c.currency,
            transactions.c.type,
            transactions.c.from_account_id,
            transactions.c.to_account_id,
            transactions.c.created_at,
        )
        .join(transactions, transactions.c.id == risk_scores.c.transaction_id)
        .where(visible, newest_only())
    )
    if account_id is not None:
        query = query.where(
            or_(
                transactions.c.from_account_id == account_id,
                transactions.c.to_account_id == account_id,
            )
        )
    if verdict is not None:
        query = query.where(risk_scores.c.verdict == verdict)
    if min_score is not None:
        query = query.where(risk_scores.c.score >= min_score)
    if start is not None:
        query = query.where(transactions.c.created_at >= start)
    if end is not None:
        query = query.where(transactions.c.created_at <= end)
    if cursor is not None:
        (after,) = decode_cursor(cursor, int)
        query = query.where(risk_scores.c.transaction_id < after)
    query = query.order_by(risk_scores.c.transaction_id.desc()).limit(limit + 1)
    rows = list(conn.execute(query).mappings())
    items = [
        {
            "transaction_id": row["transaction_id"],
            **score_view(row),
            "amount": to_decimal_string(int(row["amount"]), row["currency"]),
            "currency": row["currency"],
            "type": row["type"],
            "from_account_id": row["from_account_id"],
            "to_account_id": row["to_account_id"],
            "created_at": row["created_at"],
        }
        for row in rows[:limit]
    ]
    next_cursor = (
        encode_cursor(int(rows[limit - 1]["transaction_id"])) if len(rows) > limit else None
    )
    return items, next_cursor


def owned_accounts(conn: Connection, owner_id: int) -> set[int]:
    query = select(accounts.c.id).where(accounts.c.owner_id == owner_id)
    return {int(i) for i in conn.execute(query).scalars()}


# Never shown to a customer, even about their own account: telling a listed person that a
# sanctions list matched them is tipping off.
HIDDEN_FROM_CUSTOMERS = frozenset({"sanctions_match"})


def reasons_for_owner(item: dict[str, Any], own: set[int]) -> dict[str, Any]:
    """A score as a customer may see it: the rules about their own accounts, and the model's
    view only of what they initiated; nothing about the other party's account, and never a
    sanctions match."""
    initiator = item["to_account_id"] if item["type"] == "deposit" else item["from_account_id"]
    kept = [
        reason
        for reason in item["reasons"]
        if (
            reason.get("kind") == "rule"
            and reason.get("account_id") in own
            and reason.get("rule") not in HIDDEN_FROM_CUSTOMERS
        )
        or (reason.get("kind") == "model" and initiator in own)
    ]
    return {**item, "reasons": kept}
