"""Alerts and cases: raising them from scores, the fraud and compliance queues and their actions.

Fraud alerts: one per SUSPICIOUS or CRITICAL transaction, worked by fraud analysts
(open -> investigating -> closed as `fraud` or `false_positive`; those resolutions are the
labels the next training uses). Compliance alerts: one per AML rule and account while it is
unresolved (further hits of the same rule on the same account are counted on it), worked by
compliance officers (escalate, file a report, freeze the account, close). Every action is a
case note (`risk_alert_actions`) and an audit record.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    RowMapping,
    Select,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.audit.tables import audit_log
from ledgerbank.events import outbox
from ledgerbank.identity.names import full_names
from ledgerbank.identity.tables import users
from ledgerbank.kit.bulk import insert_returning_ids
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.kit.pagination import decode_cursor, encode_cursor
from ledgerbank.ledger import accounts as ledger_accounts
from ledgerbank.ledger import freezes, parties
from ledgerbank.ledger.screening import Assessment, Screened, Verdict
from ledgerbank.ledger.tables import accounts, transactions
from ledgerbank.risk.rules import RULES_BY_ID
from ledgerbank.risk.scores import newest_only, score_of, score_view
from ledgerbank.risk.tables import risk_alert_actions, risk_alerts, risk_scores

UNRESOLVED = ("open", "investigating", "escalated", "reported")
ALERT_SORTS = ("-created_at", "created_at", "-score", "score")
COMPLIANCE_ACTIONS = ("escalate", "file_report", "freeze_account", "close")
FRAUD_RESOLUTIONS = ("fraud", "false_positive")
RECENT_ACTIVITY = 20
subject = users.alias("subject")  # the customer a sanctions alert names (no account)


# --- raising alerts (inside the posting's transaction) ---------------------------------


@dataclass(frozen=True)
class Scored:
    """A transaction just scored, as alerts need it."""

    transaction_id: int
    account_id: int | None  # the customer account it is about: whoever initiated it
    assessment: Assessment


def scored_from(s: Screened) -> Scored:
    account = s.proposal.destination if s.proposal.type == "deposit" else s.proposal.source
    return Scored(s.transaction_id, account.id if account is not None else None, s.assessment)


def summarize(verdict: str, score: float, reasons: list[dict[str, Any]]) -> str:
    """One line for the queue: the verdict and what drove it."""
    parts = []
    for reason in reasons:
        if reason.get("kind") == "rule":
            parts.append(f"{reason['rule']}: {reason['detail']}")
        elif reason.get("kind") == "model":
            rarer = 100 * float(reason.get("percentile", 1.0))
            names = ", ".join(f["feature"] for f in reason.get("features", []))
            parts.append(f"anomaly model: rarer than {rarer:.1f}% of history ({names})")
    text = f"{verdict} {score:.2f}: " + ("; ".join(parts) or "no reason recorded")
    return text if len(text) <= 500 else text[:497] + "..."


def raise_alerts(conn: Connection, scored: Sequence[Scored], *, now: datetime) -> None:
    """Open fraud alerts for SUSPICIOUS/CRITICAL scores and compliance alerts for AML hits."""
    fraud = []
    for s in scored:
        a = s.assessment
        if a.verdict is not Verdict.SAFE:
            fraud.append(
                {
                    "queue": "fraud",
                    "transaction_id": s.transaction_id,
                    "account_id": s.account_id,
                    "rule_id": None,
                    "severity": "high" if a.verdict is Verdict.CRITICAL else "medium",
                    "status": "open",
                    "score": a.score,
                    "verdict": a.verdict.value,
                    "summary": summarize(a.verdict.value, a.score, a.reasons),
                    "hits": 1,
                    "last_transaction_id": s.transaction_id,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        for reason in a.reasons:
            rule = (
                RULES_BY_ID.get(str(reason.get("rule"))) if reason.get("kind") == "rule" else None
            )
            if rule is not None and rule.alerts:
                account_id = reason.get("account_id") or s.account_id
                _compliance_hit(conn, s, rule.id, rule.severity, account_id, reason, now)
    if fraud:
        ids = insert_returning_ids(conn, risk_alerts, fraud)
        outbox.write(
            conn, [_opened({"id": i, **row}, now) for i, row in zip(ids, fraud, strict=True)]
        )


def _opened(alert: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The `alert.opened` event, for staff and the bank's systems (never a customer)."""
    return outbox.event(
        "alert.opened",
        {
            "alert_id": alert["id"],
            **{key: alert[key] for key in _ALERT_FIELDS},
            "created_at": now.isoformat(),
        },
        at=now,
        account_id=alert["account_id"],
    )


_ALERT_FIELDS = (
    "queue", "transaction_id", "account_id", "rule_id", "severity", "status", "score", "verdict",
    "summary",
)  # fmt: skip


# A posting's compliance hit: the statements are built once (SQLAlchemy reuses their compiled
# form; the statuses are plain parameters, not an IN list rendered again on every execution).
def _open_compliance(about_an_account: bool) -> Select[tuple[int, float]]:
    """The newest unresolved compliance alert of a rule on an account (or on none)."""
    account = risk_alerts.c.account_id
    return (
        select(risk_alerts.c.id, risk_alerts.c.score)
        .where(
            risk_alerts.c.queue == "compliance",
            account == bindparam("account") if about_an_account else account.is_(None),
            risk_alerts.c.rule_id == bindparam("rule"),
            risk_alerts.c.status.in_([bindparam(f"status_{s}", s) for s in UNRESOLVED]),
        )
        .order_by(risk_alerts.c.id.desc())
        .limit(1)
    )


_OPEN_COMPLIANCE = _open_compliance(True)
_OPEN_COMPLIANCE_NO_ACCOUNT = _open_compliance(False)
_COUNT_HIT = (
    update(risk_alerts)
    .where(risk_alerts.c.id == bindparam("alert"))
    .values(
        hits=risk_alerts.c.hits + 1,
        last_transaction_id=bindparam("last"),
        score=bindparam("top"),
        updated_at=bindparam("now"),
    )
)


def _compliance_hit(
    conn: Connection,
    s: Scored,
    rule_id: str,
    severity: str,
    account_id: int | None,
    reason: dict[str, Any],
    now: datetime,
) -> None:
    a = s.assessment
    statement = _OPEN_COMPLIANCE if account_id is not None else _OPEN_COMPLIANCE_NO_ACCOUNT
    found = conn.execute(statement, {"account": account_id, "rule": rule_id}).first()
    if found is not None:
        conn.execute(
            _COUNT_HIT,
            {
                "alert": found.id,
                "last": s.transaction_id,
                "top": max(float(found.score), a.score),
                "now": now,
            },
        )
        return
    alert = {
        "queue": "compliance",
        "transaction_id": s.transaction_id,
        "account_id": account_id,
        "rule_id": rule_id,
        "severity": severity,
        "status": "open",
        "score": a.score,
        "verdict": a.verdict.value,
        "summary": f"{rule_id}: {reason['detail']}"[:500],
        "hits": 1,
        "last_transaction_id": s.transaction_id,
        "created_at": now,
        "updated_at": now,
    }
    open_alert(conn, alert, now)


def open_alert(conn: Connection, alert: dict[str, Any], now: datetime) -> int:
    """Insert one alert row and its `alert.opened` event; the new alert's id."""
    (alert_id,) = insert_returning_ids(conn, risk_alerts, [alert])
    outbox.write(conn, [_opened({"id": alert_id, **alert}, now)])
    return alert_id


# --- reading the queues ----------------------------------------------------------------


def list_alerts(
    conn: Connection,
    *,
    queue: str,
    status: str | None = None,
    severity: str | None = None,
    rule_id: str | None = None,
    account_id: int | None = None,
    assigned_to: int | None = None,
    unassigned: bool = False,
    sort: str = "-created_at",
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[RowMapping], str | None]:
    """A page of a queue, newest first or by score (`sort`: [-]created_at, [-]score), with
    the assignee's and the account owner's names."""
    if sort not in ALERT_SORTS:
        raise errors.ValidationFailed(f"sort must be one of {', '.join(ALERT_SORTS)}")
    assignee = users.alias("assignee")
    owner = users.alias("owner")
    query = (
        select(
            risk_alerts,
            assignee.c.full_name.label("assignee_name"),
            accounts.c.owner_id.label("owner_id"),
            func.coalesce(owner.c.full_name, subject.c.full_name).label("owner_name"),
        )
        .select_from(risk_alerts)
        .outerjoin(assignee, assignee.c.id == risk_alerts.c.assigned_to)
        .outerjoin(accounts, accounts.c.id == risk_alerts.c.account_id)
        .outerjoin(owner, owner.c.id == accounts.c.owner_id)
        .outerjoin(subject, subject.c.id == risk_alerts.c.user_id)
        .where(risk_alerts.c.queue == queue)
    )
    if status is not None:
        query = query.where(risk_alerts.c.status == status)
    if severity is not None:
        query = query.where(risk_alerts.c.severity == severity)
    if rule_id is not None:
        query = query.where(risk_alerts.c.rule_id == rule_id)
    if account_id is not None:
        query = query.where(risk_alerts.c.account_id == account_id)
    if assigned_to is not None:
        query = query.where(risk_alerts.c.assigned_to == assigned_to)
    if unassigned:
        query = query.where(risk_alerts.c.assigned_to.is_(None))
    by_score = sort.endswith("score")
    newest_first = sort.startswith("-")
    key = risk_alerts.c.score
    if cursor is not None:
        if by_score:
            text, after = decode_cursor(cursor, str, int)
            try:
                score = float(text)
            except ValueError:
                raise errors.ValidationFailed("the cursor is not one this API gave out") from None
            if newest_first:
                query = query.where(or_(key < score, and_(key == score, risk_alerts.c.id < after)))
            else:
                query = query.where(or_(key > score, and_(key == score, risk_alerts.c.id > after)))
        else:
            (after,) = decode_cursor(cursor, int)
            query = query.where(
                risk_alerts.c.id < after if newest_first else risk_alerts.c.id > after
            )
    # created_at follows id (both grow with time), so the id orders "age" exactly.
    keys = [risk_alerts.c.score, risk_alerts.c.id] if by_score else [risk_alerts.c.id]
    order = [c.desc() if newest_first else c.asc() for c in keys]
    rows = list(conn.execute(query.order_by(*order).limit(limit + 1)).mappings())
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = (
            encode_cursor(repr(float(last["score"])), int(last["id"]))
            if by_score
            else encode_cursor(int(last["id"]))
        )
    return rows[:limit], next_cursor


def get_alert(conn: Connection, alert_id: int, *, queue: str, lock: bool = False) -> RowMapping:
    query = select(risk_alerts).where(risk_alerts.c.id == alert_id, risk_alerts.c.queue == queue)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    if row is None:
        raise errors.NotFound(f"{queue} alert {alert_id} not found")
    return row


def transaction_view(row: RowMapping, risk: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "id": row["id"],
        "type": row["type"],
        "status": row["status"],
        "amount": to_decimal_string(int(row["amount"]), row["currency"]),
        "currency": row["currency"],
        "from_account_id": row["from_account_id"],
        "to_account_id": row["to_account_id"],
        "description": row["description"],
        "created_at": row["created_at"],
        "risk": risk,
    }


def recent_activity(
    conn: Connection, account_id: int, *, limit: int = RECENT_ACTIVITY
) -> list[dict[str, Any]]:
    """The account's latest transactions, either side, with their risk scores."""
    found: dict[int, RowMapping] = {}
    for side in (transactions.c.from_account_id, transactions.c.to_account_id):
        query = (
            select(transactions, *[c.label(f"risk_{c.name}") for c in risk_scores.c])
            .select_from(transactions)
            .outerjoin(
                risk_scores,
                and_(risk_scores.c.transaction_id == transactions.c.id, newest_only()),
            )
            .where(side == account_id)
            .order_by(transactions.c.created_at.desc(), transactions.c.id.desc())
            .limit(limit)
        )
        for row in conn.execute(query).mappings():
            found[int(row["id"])] = row
    latest = sorted(found.values(), key=lambda r: (r["created_at"], r["id"]), reverse=True)
    out = []
    for row in latest[:limit]:
        risk = None
        if row["risk_transaction_id"] is not None:
            risk = score_view(
                {k.removeprefix("risk_"): row[k] for k in row if k.startswith("risk_")}
            )
        view = transaction_view(row, risk)
        # Signed from the account's side: money out of it is negative.
        view["signed_amount"] = ("-" if row["from_account_id"] == account_id else "") + str(
            view["amount"]
        )
        out.append(view)
    return out


def alert_actions(conn: Connection, alert_id: int) -> list[RowMapping]:
    query = (
        select(risk_alert_actions)
        .where(risk_alert_actions.c.alert_id == alert_id)
        .order_by(risk_alert_actions.c.id)
    )
    return list(conn.execute(query).mappings())


def alert_detail(conn: Connection, alert_id: int, *, queue: str) -> dict[str, Any]:
    """The alert, its transaction with its score, the account and its recent activity (signed
    from the account's side), the case history with names, and the account's freezes since."""
    from ledgerbank.ledger import flags
    from ledgerbank.ledger.posting import get_transaction_row

    alert = dict(get_alert(conn, alert_id, queue=queue))
    transaction = None
    if alert["transaction_id"] is not None:  # a sanctions match at registration has none
        transaction = get_transaction_row(conn, int(alert["transaction_id"]))
    account = None
    activity: list[dict[str, Any]] = []
    history: list[dict[str, Any]] = []
    if alert["account_id"] is not None:
        account = account_view(ledger_accounts.get_account(conn, int(alert["account_id"])))
        activity = recent_activity(conn, int(alert["account_id"]))
        history = account_history(conn, int(alert["account_id"]), since=alert["created_at"])
    actions = [dict(a) for a in alert_actions(conn, alert_id)]
    # A freeze made by the alert's own action is in the case history already.
    done = [a["created_at"] for a in actions if a["action"] == "freeze_account"]
    history = [
        e
        for e in history
        if not (
            e["action"] == "account_frozen"
            and any(abs((e["created_at"] - t).total_seconds()) < 5 for t in done)
        )
    ]
    found = (
        [] if transaction is None else [dict(f) for f in flags.flags_of(conn, transaction["id"])]
    )
    names = full_names(
        conn,
        [alert["assigned_to"], alert["resolved_by"], alert["user_id"]]
        + [None if account is None else account["owner_id"]]
        + [a["actor_id"] for a in actions + history]
        + [f["flagged_by"] for f in found],
    )
    alert["assignee_name"] = names.get(alert["assigned_to"] or 0)
    alert["owner_name"] = names.get(
        (account["owner_id"] if account is not None else alert["user_id"]) or 0
    )
    if account is not None:
        account["owner_name"] = names.get(account["owner_id"] or 0)
    for item in actions + history:
        item["actor_name"] = names.get(item["actor_id"] or 0)
    for flag in found:
        flag["flagged_by_name"] = names.get(flag["flagged_by"] or 0)
    view = None
    if transaction is not None:
        view = transaction_view(transaction, score_of(conn, int(transaction["id"])))
        named = parties.parties_of(
            conn, [transaction["from_account_id"], transaction["to_account_id"]], viewer_id=None
        )
        view.update(parties.sides(named, transaction))
    return {
        "alert": alert,
        "transaction": view,
        "account": account,
        "recent_activity": activity,
        "flags": found,
        "actions": actions,
        "account_history": history,
    }


ACCOUNT_EVENTS = ("account.frozen", "account.unfrozen")


def account_history(conn: Connection, account_id: int, *, since: datetime) -> list[dict[str, Any]]:
    """The account's freezes and unfreezes since the alert was raised (from the audit trail,
    where every one is recorded), as case history: who, when and the staff note."""
    rows = conn.execute(
        select(audit_log.c.action, audit_log.c.actor_id, audit_log.c.after, audit_log.c.created_at)
        .where(
            audit_log.c.entity_type == "account",
            audit_log.c.entity_id == str(account_id),
            audit_log.c.action.in_(ACCOUNT_EVENTS),
            audit_log.c.created_at >= since,
        )
        .order_by(audit_log.c.id)
        .limit(RECENT_ACTIVITY)
    )
    out = []
    for r in rows:
        after = json.loads(r.after) if r.after else {}
        note = after.get("note") or after.get("status_reason")
        out.append(
            {
                "action": "account_" + r.action.removeprefix("account."),
                "note": note if isinstance(note, str) else None,
                "actor_id": r.actor_id,
                "created_at": r.created_at,
            }
        )
    return out


def account_view(row: RowMapping) -> dict[str, Any]:
    return {
        "id": row["id"],
        "account_number": row["account_number"],
        "owner_id": row["owner_id"],
        "account_type": row["account_type"],
        "currency": row["currency"],
        "balance": to_decimal_string(int(row["balance"]), row["currency"]),
        "status": row["status"],
        "status_reason": row["status_reason"],
        "frozen_by": row["frozen_by"],
        "freeze_reason": row["freeze_reason"],
        "created_at": row["created_at"],
    }


# --- acting on alerts ------------------------------------------------------------------


def record_action(
    conn: Connection,
    alert: RowMapping,
    *,
    action: str,
    note: str | None,
    actor_id: int,
    values: dict[str, Any],
    now: datetime,
) -> RowMapping:
    """Change the alert, write the case note and the audit record; the alert afterwards."""
    if values:
        conn.execute(
            update(risk_alerts)
            .where(risk_alerts.c.id == alert["id"])
            .values(**values, updated_at=now)
        )
    conn.execute(
        insert(risk_alert_actions),
        {
            "alert_id": alert["id"],
            "action": action,
            "note": note,
            "actor_id": actor_id,
            "created_at": now,
        },
    )
    after = get_alert(conn, int(alert["id"]), queue=alert["queue"])
    outbox.emit(  # the case's news for staff systems; the note stays in the case file
        conn,
        f"alert.{action}",
        {
            "alert_id": int(alert["id"]),
            "queue": alert["queue"],
            "status": after["status"],
            "resolution": after["resolution"],
            "transaction_id": alert["transaction_id"],
            "account_id": alert["account_id"],
        },
        at=now,
        account_id=alert["account_id"],
    )
    audit.record(
        conn,
        actor_id=actor_id,
        action=f"risk_alert.{action}",
        entity_type="risk_alert",
        entity_id=alert["id"],
        before={"status": alert["status"], "resolution": alert["resolution"]},
        after={
            "status": after["status"],
            "resolution": after["resolution"],
            "note": note,
            "transaction_id": alert["transaction_id"],
            "account_id": alert["account_id"],
        },
        at=now,
    )
    return after


def _require_unresolved(alert: RowMapping) -> None:
    if alert["status"] == "closed":
        raise errors.InvalidTransition(f"alert {alert['id']} is already closed")


def assign_alert(conn: Connection, alert_id: int, *, actor_id: int) -> RowMapping:
    """A fraud analyst takes an alert: it moves to `investigating`."""
    alert = get_alert(conn, alert_id, queue="fraud", lock=True)
    _require_unresolved(alert)
    return record_action(
        conn,
        alert,
        action="assign",
        note=None,
        actor_id=actor_id,
        values={"status": "investigating", "assigned_to": actor_id},
        now=utcnow(),
    )


def resolve_fraud_alert(
    conn: Connection, alert_id: int, *, resolution: str, note: str | None, actor_id: int
) -> RowMapping:
    """Close a fraud alert as `fraud` or `false_positive` (a label for the next training)."""
    if resolution not in FRAUD_RESOLUTIONS:
        raise errors.ValidationFailed(f"resolution must be one of {', '.join(FRAUD_RESOLUTIONS)}")
    alert = get_alert(conn, alert_id, queue="fraud", lock=True)
    _require_unresolved(alert)
    now = utcnow()
    return record_action(
        conn,
        alert,
        action=f"resolve_{resolution}",
        note=note,
        actor_id=actor_id,
        values={
            "status": "closed",
            "resolution": resolution,
            "resolution_note": note,
            "resolved_by": actor_id,
            "resolved_at": now,
        },
        now=now,
    )


def compliance_action(
    conn: Connection,
    alert_id: int,
    *,
    action: str,
    note: str | None,
    actor_id: int,
    customer_reason: str | None = None,
) -> RowMapping:
    """Escalate, file a report, freeze the account or close a compliance alert."""
    if action not in COMPLIANCE_ACTIONS:
        raise errors.ValidationFailed(f"action must be one of {', '.join(COMPLIANCE_ACTIONS)}")
    alert = get_alert(conn, alert_id, queue="compliance", lock=True)
    _require_unresolved(alert)
    now = utcnow()
    values: dict[str, Any] = {}
    if action == "escalate":
        if alert["status"] == "escalated":
            raise errors.InvalidTransition(f"alert {alert_id} is already escalated")
        values = {"status": "escalated"}
    elif action == "file_report":
        values = {"status": "reported"}
    elif action == "freeze_account":
        if alert["account_id"] is None:
            raise errors.InvalidTransition(f"alert {alert_id} names no account to freeze")
        # The note stays with the bank; the customer reads only the neutral customer_reason.
        reason = f"compliance alert {alert_id}" + (f": {note}" if note else "")
        freezes.freeze(
            conn,
            int(alert["account_id"]),
            frozen_by="compliance",
            customer_reason=customer_reason or freezes.DEFAULT_STAFF_REASON,
            note=reason[:500],
            actor_id=actor_id,
        )
    else:  # close
        reported = alert["status"] == "reported"
        values = {
            "status": "closed",
            "resolution": "reported" if reported else "no_action",
            "resolution_note": note,
            "resolved_by": actor_id,
            "resolved_at": now,
        }
    return record_action(
        conn, alert, action=action, note=note, actor_id=actor_id, values=values, now=now
    )


CUSTOMER_REPORT = "customer_report"  # rule_id of an "I don't recognise this" report (web)


def labelled_fraud(conn: Connection) -> set[int]:
    """Transactions analysts confirmed as fraud (or customers reported, unless an analyst
    found the report mistaken): left out when the next anomaly model is trained."""
    return {t for t, fraud in training_labels(conn).items() if fraud}


def training_labels(conn: Connection) -> dict[int, int]:
    """Transaction -> 1 (fraud) or 0 (false positive), from the fraud queue: alerts analysts
    resolved, and customers' reports, which count as fraud unless resolved false_positive.
    A transaction an analyst called fraud stays fraud whatever else was said about it."""
    query = select(
        risk_alerts.c.transaction_id, risk_alerts.c.rule_id, risk_alerts.c.resolution
    ).where(
        risk_alerts.c.queue == "fraud",
        risk_alerts.c.transaction_id.is_not(None),
        or_(
            risk_alerts.c.resolution.in_(FRAUD_RESOLUTIONS),
            risk_alerts.c.rule_id == CUSTOMER_REPORT,
        ),
    )
    labels: dict[int, int] = {}
    for transaction_id, rule_id, resolution in conn.execute(query):
        fraud = resolution == "fraud" or (
            rule_id == CUSTOMER_REPORT and resolution != "false_positive"
        )
        key = int(transaction_id)
        labels[key] = max(labels.get(key, 0), int(fraud))
    return labels


def questioned(conn: Connection) -> set[int]:
    """Transactions that carry any alert: not part of the unquestioned sample."""
    query = select(risk_alerts.c.transaction_id).where(risk_alerts.c.transaction_id.is_not(None))
    return {int(i) for i in conn.execute(query).scalars()}
