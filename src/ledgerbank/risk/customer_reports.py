"""A customer says "I don't recognise this" about one of their transactions.

The report opens a fraud alert (rule `customer_report`, high severity) about the customer's
account for the fraud team to work like any other; until an analyst calls it a false positive it
counts as fraud for the next model's training (`alerts.training_labels`). The customer reads
only what happens next: never a score, a verdict, a rule or the alert itself (tipping off).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from ledgerbank.audit import service as audit
from ledgerbank.kit.clock import utcnow
from ledgerbank.risk.alerts import CUSTOMER_REPORT, UNRESOLVED, open_alert
from ledgerbank.risk.scores import score_of
from ledgerbank.risk.tables import risk_alerts

A = risk_alerts.c

NEXT_STEPS = (
    "Our fraud team will look into this transaction, usually within one working day.",
    "We may contact you by email or phone to ask about it. We will never ask for your "
    "password, your PIN or a sign-in code.",
    "If you think someone else can use your account, freeze it now from the Accounts page: "
    "no money can leave it until you unfreeze it.",
)


def report_unrecognised(
    conn: Connection,
    *,
    transaction: Any,
    account_id: int | None,
    user_id: int,
    note: str | None,
) -> tuple[datetime, bool]:
    """Open the alert (once per transaction and customer while it is unresolved); when it was
    reported, and whether this call reported it."""
    earlier = conn.execute(
        select(A.created_at).where(
            A.queue == "fraud",
            A.rule_id == CUSTOMER_REPORT,
            A.transaction_id == transaction["id"],
            A.user_id == user_id,
            A.status.in_(UNRESOLVED),
        )
    ).first()
    if earlier is not None:
        return earlier.created_at, False
    now = utcnow()
    scored = score_of(conn, int(transaction["id"]))
    summary = "customer report: the customer does not recognise this transaction"
    if note:
        summary += f": {note}"
    open_alert(
        conn,
        {
            "queue": "fraud",
            "transaction_id": transaction["id"],
            "account_id": account_id,
            "user_id": user_id,
            "rule_id": CUSTOMER_REPORT,
            "severity": "high",
            "status": "open",
            "score": float(scored["score"]) if scored else 0.0,
            "verdict": scored["verdict"] if scored else "SAFE",
            "summary": summary[:500],
            "hits": 1,
            "last_transaction_id": transaction["id"],
            "created_at": now,
            "updated_at": now,
        },
        now,
    )
    audit.record(
        conn,
        actor_id=user_id,
        action="transaction.reported_unrecognised",
        entity_type="transaction",
        entity_id=transaction["id"],
        after={"note": note},
        at=now,
    )
    return now, True
