"""Custom reports a user saved under a name (their own list; nobody else reads it)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, insert, select

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.casework.tables import saved_reports
from ledgerbank.kit.clock import utcnow

MAX_PER_USER = 50


def _view(row: RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "definition": json.loads(row["definition"]),
        "created_at": row["created_at"],
    }


def list_saved(conn: Connection, owner_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(saved_reports)
        .where(saved_reports.c.owner_id == owner_id)
        .order_by(saved_reports.c.name, saved_reports.c.id)
    ).mappings()
    return [_view(r) for r in rows]


def save(conn: Connection, owner_id: int, name: str, definition: dict[str, Any]) -> dict[str, Any]:
    held = conn.execute(
        select(func.count()).where(saved_reports.c.owner_id == owner_id)
    ).scalar_one()
    if held >= MAX_PER_USER:
        raise errors.ValidationFailed(f"you can keep up to {MAX_PER_USER} saved reports")
    now = utcnow()
    text = json.dumps(definition, sort_keys=True, default=str)
    report_id = conn.execute(
        insert(saved_reports).values(owner_id=owner_id, name=name, definition=text, created_at=now)
    ).inserted_primary_key[0]  # type: ignore[index]
    audit.record(
        conn,
        actor_id=owner_id,
        action="report.saved",
        entity_type="saved_report",
        entity_id=report_id,
        before=None,
        after={"name": name},
        at=now,
    )
    return {"id": int(report_id), "name": name, "definition": definition, "created_at": now}


def remove(conn: Connection, owner_id: int, report_id: int) -> None:
    row = (
        conn.execute(
            select(saved_reports).where(
                saved_reports.c.id == report_id, saved_reports.c.owner_id == owner_id
            )
        )
        .mappings()
        .first()
    )
    if row is None:  # another user's saved report is not found either
        raise errors.NotFound(f"saved report {report_id} not found")
    conn.execute(delete(saved_reports).where(saved_reports.c.id == report_id))
    audit.record(
        conn,
        actor_id=owner_id,
        action="report.deleted",
        entity_type="saved_report",
        entity_id=report_id,
        before={"name": row["name"]},
        after=None,
    )
