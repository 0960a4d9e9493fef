"""The asker's own question history, read back from the audit trail (every question is there)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, select

from ledgerbank.audit.tables import audit_log

MAX_HISTORY = 50


def questions_of(
    conn: Connection, user_id: int, *, limit: int = MAX_HISTORY
) -> list[dict[str, Any]]:
    """The user's latest questions, newest first: what they asked, how it went, how many rows."""
    rows = conn.execute(
        select(audit_log.c.id, audit_log.c.after, audit_log.c.created_at)
        .where(audit_log.c.actor_id == user_id, audit_log.c.action == "ledgergpt.asked")
        .order_by(audit_log.c.id.desc())
        .limit(limit)
    )
    found = []
    for r in rows:
        record = json.loads(r.after) if r.after else {}
        if not isinstance(record, dict) or not record.get("question"):
            continue
        found.append(
            {
                "id": int(r.id),
                "question": str(record["question"])[:2000],
                "decision": str(record.get("decision") or "answered"),
                "row_count": record.get("row_count")
                if isinstance(record.get("row_count"), int)
                else None,
                "asked_at": r.created_at,
            }
        )
    return found
