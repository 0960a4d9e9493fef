"""The customer view for staff: profile, KYC, accounts, recent activity, alerts and reports."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, or_, select

from ledgerbank import errors
from ledgerbank.casework.tables import sar_reports
from ledgerbank.identity.names import full_names
from ledgerbank.identity.tables import users
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.ledger.tables import accounts, transactions
from ledgerbank.risk.alerts import account_view
from ledgerbank.risk.tables import risk_alerts

RECENT = 25


def customer_view(conn: Connection, user_id: int, *, queues: tuple[str, ...]) -> dict[str, Any]:
    """Everything staff need about one customer on one page; `queues`: the alert queues the
    caller works (their alerts only), with the SARs when that includes compliance."""
    person = (
        conn.execute(select(users).where(users.c.id == user_id, users.c.role == "customer"))
        .mappings()
        .first()
    )
    if person is None:
        raise errors.NotFound(f"customer {user_id} not found")
    owned = [
        account_view(a)
        for a in conn.execute(
            select(accounts)
            .where(accounts.c.owner_id == user_id, accounts.c.is_internal == 0)
            .order_by(accounts.c.id)
        ).mappings()
    ]
    ids = [int(a["id"]) for a in owned]
    for a in owned:
        a["owner_name"] = person["full_name"]
    alerts = []
    if queues:
        about = [risk_alerts.c.user_id == user_id]
        if ids:
            about.append(risk_alerts.c.account_id.in_(ids))
        alerts = [
            dict(a)
            for a in conn.execute(
                select(risk_alerts)
                .where(risk_alerts.c.queue.in_(queues), or_(*about))
                .order_by(risk_alerts.c.id.desc())
                .limit(50)
            ).mappings()
        ]
        names = full_names(conn, [a["assigned_to"] for a in alerts])
        for a in alerts:
            a["assignee_name"] = names.get(a["assigned_to"] or 0)
            a["owner_id"], a["owner_name"] = user_id, person["full_name"]
    reports: list[dict[str, Any]] = []
    if "compliance" in queues and alerts:
        reports = sar_list(conn, [int(a["id"]) for a in alerts])
    return {
        "profile": {
            "id": person["id"],
            "username": person["username"],
            "full_name": person["full_name"],
            "email": person["email"],
            "phone": person["phone"],
            "date_of_birth": person["date_of_birth"],
            "kyc_status": person["kyc_status"],
            "is_active": bool(person["is_active"]),
            "created_at": person["created_at"],
        },
        "accounts": owned,
        "recent_activity": activity(conn, ids),
        "alerts": alerts,
        "reports": reports,
    }


def activity(conn: Connection, ids: list[int], *, limit: int = RECENT) -> list[dict[str, Any]]:
    """The latest transactions touching any of the accounts, signed from the customer's side,
    with the counterparty's name as the bank holds it."""
    if not ids:
        return []
    rows = list(
        conn.execute(
            select(transactions)
            .where(
                or_(transactions.c.from_account_id.in_(ids), transactions.c.to_account_id.in_(ids))
            )
            .order_by(transactions.c.created_at.desc(), transactions.c.id.desc())
            .limit(limit)
        ).mappings()
    )
    mine = set(ids)
    others = {
        int(side)
        for r in rows
        for side in (r["from_account_id"], r["to_account_id"])
        if side is not None and int(side) not in mine
    }
    owners = counterparty_names(conn, others)
    out = []
    for r in rows:
        amount = to_decimal_string(int(r["amount"]), r["currency"])
        from_own = r["from_account_id"] in mine
        to_own = r["to_account_id"] in mine
        other = r["to_account_id"] if from_own else r["from_account_id"]
        out.append(
            {
                "id": r["id"],
                "type": r["type"],
                "status": r["status"],
                "amount": amount,
                "signed_amount": amount if to_own or not from_own else f"-{amount}",
                "currency": r["currency"],
                "from_account_id": r["from_account_id"],
                "to_account_id": r["to_account_id"],
                "description": r["description"],
                "counterparty": None
                if from_own and to_own
                else owners.get(int(other) if other is not None else 0, "cash"),
                "created_at": r["created_at"],
            }
        )
    return out


def counterparty_names(conn: Connection, account_ids: set[int]) -> dict[int, str]:
    """account id -> "Owner name ·1234" (internal accounts: "the bank")."""
    if not account_ids:
        return {}
    rows = conn.execute(
        select(accounts.c.id, accounts.c.account_number, users.c.full_name)
        .select_from(accounts)
        .outerjoin(users, users.c.id == accounts.c.owner_id)
        .where(accounts.c.id.in_(sorted(account_ids)))
    )
    return {
        int(r.id): f"{r.full_name} ·{str(r.account_number)[-4:]}" if r.full_name else "the bank"
        for r in rows
    }


def sar_list(conn: Connection, alert_ids: list[int]) -> list[dict[str, Any]]:
    rows = [
        dict(r)
        for r in conn.execute(
            select(sar_reports)
            .where(sar_reports.c.alert_id.in_(alert_ids))
            .order_by(sar_reports.c.id.desc())
        ).mappings()
    ]
    names = full_names(conn, [r["filed_by"] for r in rows])
    for r in rows:
        r["filed_by_name"] = names.get(r["filed_by"])
    return rows
