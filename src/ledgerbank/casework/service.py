"""Casework actions on alerts: notes without an action, bulk assign and close, and
suspicious-activity reports (SARs) kept with their case. Each is a case-history entry on every
alert it touches and an audit record, in the caller's one transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.casework.tables import sar_reports
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow
from ledgerbank.ledger.tables import accounts
from ledgerbank.risk import alerts

MAX_BULK = 100


def add_note(
    conn: Connection, alert_id: int, *, queue: str, note: str, actor_id: int
) -> RowMapping:
    """A case note that changes nothing else (closed alerts take notes too)."""
    alert = alerts.get_alert(conn, alert_id, queue=queue, lock=True)
    return alerts.record_action(
        conn, alert, action="note", note=note, actor_id=actor_id, values={}, now=utcnow()
    )


WORKERS = {"fraud": ("fraud_analyst", "admin"), "compliance": ("compliance_officer", "admin")}


def assignee_name(conn: Connection, queue: str, user_id: int) -> str:
    """The name of a staff user who works `queue` (422 for anyone else)."""
    row = conn.execute(
        select(users.c.full_name, users.c.username).where(
            users.c.id == user_id, users.c.role.in_(WORKERS[queue]), users.c.is_active.is_(True)
        )
    ).first()
    if row is None:
        raise errors.ValidationFailed(f"no active staff user {user_id} works the {queue} queue")
    return str(row.full_name or row.username)


def assign(conn: Connection, alert_id: int, *, queue: str, actor_id: int, to: int) -> RowMapping:
    """Assign an alert to a staff user: a fraud alert moves to `investigating`."""
    if queue == "fraud" and to == actor_id:
        return alerts.assign_alert(conn, alert_id, actor_id=actor_id)
    name = assignee_name(conn, queue, to)
    alert = alerts.get_alert(conn, alert_id, queue=queue, lock=True)
    if alert["status"] == "closed":
        raise errors.InvalidTransition(f"alert {alert_id} is already closed")
    values: dict[str, Any] = {"assigned_to": to}
    if queue == "fraud" and alert["status"] == "open":
        values["status"] = "investigating"
    return alerts.record_action(
        conn,
        alert,
        action="assign",
        note=None if to == actor_id else f"assigned to {name}",
        actor_id=actor_id,
        values=values,
        now=utcnow(),
    )


def bulk(
    conn: Connection,
    *,
    queue: str,
    alert_ids: list[int],
    action: str,
    note: str,
    actor_id: int,
    assignee_id: int | None = None,
    resolution: str | None = None,
) -> dict[str, Any]:
    """Assign or close many alerts at once: each one's history and the audit trail record it;
    an alert already closed (or not in this queue) is skipped and said so, not an error."""
    ids = sorted(set(alert_ids))
    if not ids or len(ids) > MAX_BULK:
        raise errors.ValidationFailed(f"choose between 1 and {MAX_BULK} alerts")
    if action == "assign" and assignee_id is not None:
        assignee_name(conn, queue, assignee_id)  # 422 before anything changes
    done: list[int] = []
    skipped: list[dict[str, Any]] = []
    for alert_id in ids:
        # Each refusal comes before the alert is written to, so skipping one leaves no trace.
        try:
            if action == "assign":
                assign(conn, alert_id, queue=queue, actor_id=actor_id, to=assignee_id or actor_id)
            elif queue == "fraud":
                alerts.resolve_fraud_alert(
                    conn,
                    alert_id,
                    resolution=resolution or "false_positive",
                    note=note or None,
                    actor_id=actor_id,
                )
            else:
                alerts.compliance_action(
                    conn, alert_id, action="close", note=note or None, actor_id=actor_id
                )
            done.append(alert_id)
        except (errors.InvalidTransition, errors.NotFound) as refused:
            skipped.append({"id": alert_id, "reason": refused.detail})
    audit.record(
        conn,
        actor_id=actor_id,
        action=f"risk_alert.bulk_{action}",
        entity_type="risk_alert",
        entity_id=None,
        before=None,
        after={
            "queue": queue,
            "done": done,
            "skipped": [s["id"] for s in skipped],
            "note": note or None,
            "assignee_id": assignee_id,
            "resolution": resolution,
        },
    )
    return {"done": done, "skipped": skipped}


def file_sar(
    conn: Connection, alert_id: int, *, activity_type: str, narrative: str, actor_id: int
) -> dict[str, Any]:
    """File a suspicious-activity report from a compliance alert: the report is kept with the
    case, the alert moves to `reported`. The narrative stays with the bank (never the customer)."""
    alert = alerts.get_alert(conn, alert_id, queue="compliance", lock=True)
    if alert["status"] == "closed":
        raise errors.InvalidTransition(f"alert {alert_id} is already closed")
    subject = alert["user_id"]
    if alert["account_id"] is not None:
        owner = (
            conn.execute(accounts.select().where(accounts.c.id == alert["account_id"]))
            .mappings()
            .first()
        )
        subject = owner["owner_id"] if owner is not None else subject
    now = utcnow()
    report_id = conn.execute(  # type: ignore[index]
        insert(sar_reports).values(
            alert_id=alert_id,
            subject_user_id=subject,
            account_id=alert["account_id"],
            activity_type=activity_type,
            narrative=narrative,
            filed_by=actor_id,
            created_at=now,
        )
    ).inserted_primary_key[0]
    alerts.compliance_action(
        conn,
        alert_id,
        action="file_report",
        note=f"SAR {report_id} filed ({activity_type.replace('_', ' ')})",
        actor_id=actor_id,
    )
    audit.record(
        conn,
        actor_id=actor_id,
        action="sar.filed",
        entity_type="sar_report",
        entity_id=report_id,
        before=None,
        after={
            "alert_id": alert_id,
            "subject_user_id": subject,
            "account_id": alert["account_id"],
            "activity_type": activity_type,
            "narrative_chars": len(narrative),
        },
        at=now,
    )
    return {
        "id": int(report_id),
        "alert_id": alert_id,
        "subject_user_id": subject,
        "account_id": alert["account_id"],
        "activity_type": activity_type,
        "narrative": narrative,
        "filed_by": actor_id,
        "created_at": now,
    }
