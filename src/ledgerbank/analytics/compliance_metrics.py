"""Regulatory metrics for compliance officers: alerts and their ages, reports filed, frozen
accounts, and large cash per day against the thresholds in force.

Alerts, their actions and the thresholds belong to the risk domain; this module only counts.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, and_, case, func, select

from ledgerbank.analytics.amounts import BOOKED, money
from ledgerbank.analytics.cube import Filters, aggregate
from ledgerbank.analytics.periods import Period
from ledgerbank.config import Settings
from ledgerbank.kit.clock import as_utc
from ledgerbank.ledger.tables import accounts
from ledgerbank.risk.tables import risk_alert_actions, risk_alerts

# Age brackets of unresolved alerts, in days: [0, 1), [1, 7), [7, 30), [30, ...).
AGE_BRACKETS = ((0, 1), (1, 7), (7, 30), (30, None))
CASH_TYPES = ("deposit", "withdrawal")
# Risk settings that are not thresholds a regulator asks about.
_NOT_THRESHOLDS = {
    "risk_enabled",
    "risk_timezone",
    "risk_model_trees",
    "risk_model_max_samples",
    "risk_train_max_rows",
    "risk_train_min_rows",
}


def _bracket(low: int, high: int | None) -> str:
    return f"{low}-{high}d" if high is not None else f"{low}d+"


def alert_counts(conn: Connection, period: Period) -> dict[str, Any]:
    """Alerts raised in the period by queue and severity, and those unresolved now by queue."""
    raised = conn.execute(
        select(risk_alerts.c.queue, risk_alerts.c.severity, func.count().label("n"))
        .where(*period.clauses(risk_alerts.c.created_at))
        .group_by(risk_alerts.c.queue, risk_alerts.c.severity)
        .order_by(risk_alerts.c.queue, risk_alerts.c.severity)
    )
    unresolved = conn.execute(
        select(risk_alerts.c.queue, func.count().label("n"))
        .where(risk_alerts.c.status != "closed")
        .group_by(risk_alerts.c.queue)
        .order_by(risk_alerts.c.queue)
    )
    return {
        "raised": [{"queue": r.queue, "severity": r.severity, "count": int(r.n)} for r in raised],
        "unresolved": [{"queue": r.queue, "count": int(r.n)} for r in unresolved],
    }


def thresholds(settings: Settings) -> dict[str, Any]:
    """The AML and fraud thresholds in force, named as in the settings without `risk_`."""
    found: dict[str, Any] = {}
    for name in sorted(type(settings).model_fields):
        if name.startswith("risk_") and name not in _NOT_THRESHOLDS:
            found[name.removeprefix("risk_")] = getattr(settings, name)
    return found


def compliance_metrics(
    conn: Connection, period: Period, *, settings: Settings, now: datetime
) -> dict[str, Any]:
    """Everything `/compliance/metrics` answers, as of `now`, for the period's activity."""
    return {
        **period.as_dict(),
        "as_of": now,
        "alerts_by_rule": _alerts_by_rule(conn, period),
        "unresolved_alert_ages": _unresolved_ages(conn, now),
        "reports_filed": _reports_filed(conn, period),
        "frozen_accounts": _frozen_accounts(conn),
        "large_cash_by_day": _large_cash_by_day(conn, period, settings),
        "thresholds": thresholds(settings),
    }


def _alerts_by_rule(conn: Connection, period: Period) -> list[dict[str, Any]]:
    """Alerts raised in the period, by queue, rule and status, with their oldest and newest."""
    rule = func.coalesce(risk_alerts.c.rule_id, "model")
    rows = conn.execute(
        select(
            risk_alerts.c.queue,
            rule.label("rule"),
            risk_alerts.c.status,
            func.count().label("n"),
            func.sum(risk_alerts.c.hits).label("hits"),
            func.min(risk_alerts.c.created_at).label("oldest"),
            func.max(risk_alerts.c.created_at).label("newest"),
        )
        .where(*period.clauses(risk_alerts.c.created_at))
        .group_by(risk_alerts.c.queue, rule, risk_alerts.c.status)
        .order_by(risk_alerts.c.queue, rule, risk_alerts.c.status)
    )
    return [
        {
            "queue": r.queue,
            "rule": r.rule,
            "status": r.status,
            "count": int(r.n),
            "hits": int(r.hits or 0),
            "oldest_created_at": _moment(r.oldest),
            "newest_created_at": _moment(r.newest),
        }
        for r in rows
    ]


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # in case a driver hands MIN() over a timestamp back as text
        value = datetime.fromisoformat(value)
    return as_utc(value)


def _unresolved_ages(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    """Unresolved alerts by queue and age bracket, and the age of the oldest in each queue."""
    brackets = []
    for low, high in AGE_BRACKETS:
        in_bracket = risk_alerts.c.created_at <= now - timedelta(days=low)
        if high is not None:
            in_bracket = and_(in_bracket, risk_alerts.c.created_at > now - timedelta(days=high))
        brackets.append(func.sum(case((in_bracket, 1), else_=0)).label(f"b{low}"))
    rows = conn.execute(
        select(
            risk_alerts.c.queue,
            func.count().label("n"),
            func.min(risk_alerts.c.created_at).label("oldest"),
            *brackets,
        )
        .where(risk_alerts.c.status != "closed")
        .group_by(risk_alerts.c.queue)
        .order_by(risk_alerts.c.queue)
    ).mappings()
    found = []
    for r in rows:
        oldest = _moment(r["oldest"])
        age = None if oldest is None else (now - oldest).total_seconds() / 86400
        found.append(
            {
                "queue": r["queue"],
                "count": int(r["n"]),
                "oldest_age_days": None if age is None else round(max(age, 0.0), 2),
                # Days round a fresh alert to 0.0: the moment and the hours say how old it is.
                "oldest_created_at": oldest,
                "oldest_age_hours": None if age is None else round(max(age, 0.0) * 24, 1),
                "by_age": {
                    _bracket(low, high): int(r[f"b{low}"] or 0) for low, high in AGE_BRACKETS
                },
            }
        )
    return found


def _reports_filed(conn: Connection, period: Period) -> dict[str, Any]:
    """Reports filed with the regulator in the period (the case action), the alerts they were
    filed from, and the alerts awaiting closure in `reported` now: one source, one count each,
    so "1 report filed" never sits beside "0 alerts reported"."""
    in_period = [
        risk_alert_actions.c.action == "file_report",
        *period.clauses(risk_alert_actions.c.created_at),
    ]
    filed, alerts_reported = conn.execute(
        select(func.count(), func.count(func.distinct(risk_alert_actions.c.alert_id))).where(
            *in_period
        )
    ).one()
    reported_now = conn.execute(
        select(func.count()).where(risk_alerts.c.status == "reported")
    ).scalar_one()
    return {
        "filed": int(filed),
        "alerts_reported": int(alerts_reported),
        "alerts_in_reported_status": int(reported_now),
    }


def _frozen_accounts(conn: Connection) -> list[dict[str, Any]]:
    """Frozen customer accounts now, per currency, with the money they hold."""
    rows = conn.execute(
        select(
            accounts.c.currency,
            func.count().label("n"),
            func.sum(accounts.c.balance).label("balance"),
        )
        .where(accounts.c.status == "frozen", accounts.c.is_internal == 0)
        .group_by(accounts.c.currency)
        .order_by(accounts.c.currency)
    )
    return [
        {"currency": r.currency, "count": int(r.n), "balance": money(r.balance, r.currency)}
        for r in rows
    ]


def _large_cash_by_day(
    conn: Connection, period: Period, settings: Settings
) -> list[dict[str, Any]]:
    """Cash deposits and withdrawals at or above the reporting threshold, per day and currency."""
    threshold = Decimal(str(getattr(settings, "risk_cash_threshold", "10000.00")))
    large_cash = Filters(types=CASH_TYPES, statuses=BOOKED, min_amount=threshold, period=period)
    rows = conn.execute(
        aggregate(
            ["day", "currency", "type"], large_cash, conn.dialect.name, ("count", "sum")
        ).order_by("day", "currency", "type")
    ).mappings()
    return [
        {
            "day": r["day"],
            "currency": r["currency"],
            "type": r["type"],
            "count": int(r["count"]),
            "total": money(r["sum"], r["currency"]),
        }
        for r in rows
    ]
