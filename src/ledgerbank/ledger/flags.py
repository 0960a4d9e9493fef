"""Staff flags on transactions: a reason, who flagged it and when, also in the audit trail."""

from __future__ import annotations

from sqlalchemy import Connection, RowMapping, insert, select

from ledgerbank.audit import service as audit
from ledgerbank.kit.clock import utcnow
from ledgerbank.ledger.posting import get_transaction_row
from ledgerbank.ledger.tables import transaction_flags


def flag_transaction(
    conn: Connection, transaction_id: int, *, reason: str, actor_id: int | None
) -> RowMapping:
    """Mark a transaction for review; a transaction may carry several flags."""
    transaction = get_transaction_row(conn, transaction_id)
    now = utcnow()
    flag_id = conn.execute(
        insert(transaction_flags).values(
            transaction_id=transaction_id, reason=reason, flagged_by=actor_id, created_at=now
        )
    ).inserted_primary_key[0]  # type: ignore[index]
    audit.record(
        conn,
        actor_id=actor_id,
        action="transaction.flagged",
        entity_type="transaction",
        entity_id=transaction_id,
        before={"status": transaction["status"]},
        after={"flag_id": int(flag_id), "reason": reason},
        at=now,
    )
    row = conn.execute(select(transaction_flags).where(transaction_flags.c.id == flag_id))
    return row.mappings().one()


def flags_of(conn: Connection, transaction_id: int) -> list[RowMapping]:
    query = (
        select(transaction_flags)
        .where(transaction_flags.c.transaction_id == transaction_id)
        .order_by(transaction_flags.c.id)
    )
    return list(conn.execute(query).mappings())
