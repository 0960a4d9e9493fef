"""Live monitoring figures for the dashboard: risk scores, flagged transactions, the alert
queue, the balance sheet and the ledger's integrity, each one query the database aggregates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Integer, and_, cast, func, or_, select, text

from ledgerbank.analytics.amounts import money
from ledgerbank.analytics.periods import Period
from ledgerbank.kit.clock import as_utc
from ledgerbank.ledger import integrity
from ledgerbank.ledger.tables import transactions
from ledgerbank.risk.scores import newest_only
from ledgerbank.risk.tables import risk_alerts, risk_scores

SCORE_BINS = 20  # the distribution's bars: 0.00-0.05, 0.05-0.10, ...


def score_distribution(conn: Connection, period: Period) -> list[dict[str, Any]]:
    """How many transactions of the period scored in each twentieth of [0, 1], per verdict."""
    # CAST truncates towards zero: the floor for scores, which are never negative.
    bin_: Any = func.min(cast(risk_scores.c.score * SCORE_BINS, Integer), SCORE_BINS - 1)
    if conn.dialect.name != "sqlite":
        bin_ = func.least(cast(risk_scores.c.score * SCORE_BINS, Integer), SCORE_BINS - 1)
    rows = conn.execute(
        select(bin_.label("bin"), risk_scores.c.verdict, func.count().label("n"))
        .select_from(risk_scores)
        .join(transactions, transactions.c.id == risk_scores.c.transaction_id)
        .where(*period.clauses(transactions.c.created_at), newest_only())
        .group_by(bin_, risk_scores.c.verdict)
        .order_by(bin_, risk_scores.c.verdict)
    )
    return [
        {
            "from": round(int(r.bin) / SCORE_BINS, 2),
            "to": round((int(r.bin) + 1) / SCORE_BINS, 2),
            "verdict": r.verdict,
            "count": int(r.n),
        }
        for r in rows
    ]


def flagged_transactions(conn: Connection, *, limit: int = 20) -> list[dict[str, Any]]:
    """The most recent blocked and suspicious transactions, newest first, with their scores."""
    rows = conn.execute(
        select(
            transactions.c.id,
            transactions.c.created_at,
            transactions.c.type,
            transactions.c.status,
            transactions.c.amount,
            transactions.c.currency,
            transactions.c.from_account_id,
            transactions.c.to_account_id,
            risk_scores.c.score,
            risk_scores.c.verdict,
        )
        .select_from(transactions)
        .join(risk_scores, and_(risk_scores.c.transaction_id == transactions.c.id, newest_only()))
        .where(
            or_(
                risk_scores.c.verdict.in_(("SUSPICIOUS", "CRITICAL")),
                transactions.c.status == "blocked",
            )
        )
        .order_by(transactions.c.created_at.desc(), transactions.c.id.desc())
        .limit(limit)
    ).mappings()
    return [
        {
            "transaction_id": int(r["id"]),
            "created_at": r["created_at"],
            "type": r["type"],
            "status": r["status"],
            "amount": money(r["amount"], r["currency"]),
            "currency": r["currency"],
            "from_account_id": r["from_account_id"],
            "to_account_id": r["to_account_id"],
            "score": round(float(r["score"]), 4),
            "verdict": r["verdict"],
        }
        for r in rows
    ]


def alert_queue(conn: Connection, now: datetime, *, limit: int = 20) -> dict[str, Any]:
    """Unresolved alerts by queue and severity, and the oldest of them with their age."""
    by_severity = conn.execute(
        select(risk_alerts.c.queue, risk_alerts.c.severity, func.count().label("n"))
        .where(risk_alerts.c.status != "closed")
        .group_by(risk_alerts.c.queue, risk_alerts.c.severity)
        .order_by(risk_alerts.c.queue, risk_alerts.c.severity)
    )
    oldest = conn.execute(
        select(
            risk_alerts.c.id,
            risk_alerts.c.queue,
            risk_alerts.c.rule_id,
            risk_alerts.c.severity,
            risk_alerts.c.status,
            risk_alerts.c.transaction_id,
            risk_alerts.c.created_at,
            risk_alerts.c.summary,
        )
        .where(risk_alerts.c.status != "closed")
        .order_by(risk_alerts.c.created_at, risk_alerts.c.id)
        .limit(limit)
    ).mappings()
    return {
        "by_severity": [
            {"queue": r.queue, "severity": r.severity, "count": int(r.n)} for r in by_severity
        ],
        "oldest": [
            {
                "alert_id": int(r["id"]),
                "queue": r["queue"],
                "rule": r["rule_id"] or "model",
                "severity": r["severity"],
                "status": r["status"],
                "transaction_id": int(r["transaction_id"]),
                "age_days": round((now - as_utc(r["created_at"])).total_seconds() / 86400, 1),
                "summary": r["summary"],
            }
            for r in oldest
        ],
    }


def balance_sheet(conn: Connection) -> list[dict[str, Any]]:
    """Assets, liabilities and equity per currency from `vw_balance_sheet`; balanced when the
    difference is zero."""
    rows = conn.execute(
        text(
            "SELECT currency, assets_minor, liabilities_minor, equity_minor, difference_minor, "
            "fx_position_minor FROM vw_balance_sheet ORDER BY currency"
        )
    ).mappings()
    return [
        {
            "currency": r["currency"],
            "assets": money(int(r["assets_minor"]), r["currency"]),
            "liabilities": money(int(r["liabilities_minor"]), r["currency"]),
            "equity": money(int(r["equity_minor"]), r["currency"]),
            "difference": money(int(r["difference_minor"]), r["currency"]),
            "balanced": int(r["difference_minor"]) == 0,
            "fx_position": money(int(r["fx_position_minor"]), r["currency"]),
        }
        for r in rows
    ]


def integrity_status(conn: Connection) -> dict[str, Any]:
    """The ledger integrity check: sound, or the first violations found."""
    found = integrity.violations(conn, limit=50)
    return {
        "sound": not found,
        "violations": [
            {
                "check": v.check,
                "entity": f"{v.entity_type} {v.entity_id}",
                "difference": v.difference,
                "meaning": v.meaning,
            }
            for v in found
        ],
    }


def verdict_counts(conn: Connection, period: Period) -> dict[str, int]:
    """Transactions of the period per verdict (imported history is scored when imported,
    so the transaction's own time decides, not the scoring's)."""
    rows = conn.execute(
        select(risk_scores.c.verdict, func.count().label("n"))
        .select_from(risk_scores)
        .join(transactions, transactions.c.id == risk_scores.c.transaction_id)
        .where(*period.clauses(transactions.c.created_at), newest_only())
        .group_by(risk_scores.c.verdict)
    )
    found = {"SAFE": 0, "SUSPICIOUS": 0, "CRITICAL": 0}
    found.update({r.verdict: int(r.n) for r in rows})
    return found
