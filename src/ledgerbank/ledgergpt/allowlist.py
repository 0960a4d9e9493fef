"""The one table of what LedgerGPT may read: views, their columns, and who may see them.

Each view needs a permission from the identity table; a few columns need one more (personal
details). A role's allow-list is derived from the permissions it holds, so changing a role in
`identity.permissions` changes what it may ask about. Base tables are never on the list.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Final

from ledgerbank.identity.permissions import PERSONAL_DATA, Permission, Role, allows

P = Permission


@dataclass(frozen=True)
class ViewGrant:
    """A view, the permission that opens it, and its columns (name -> rough SQL type)."""

    needs: tuple[Permission, ...]
    columns: dict[str, str]
    # Columns that need one more permission (any of the listed ones).
    guarded: dict[str, tuple[Permission, ...]] = field(default_factory=dict)
    about: str = ""


_PERSONAL = PERSONAL_DATA

ALLOW_LIST: Final[dict[str, ViewGrant]] = {
    "vw_transactions": ViewGrant(
        needs=(P.TRANSACTIONS_READ_ALL,),
        columns={
            "id": "BIGINT", "type": "TEXT", "status": "TEXT", "amount": "DECIMAL",
            "amount_minor": "BIGINT", "currency": "TEXT", "from_account_id": "BIGINT",
            "from_account_number": "TEXT", "from_account_type": "TEXT", "from_username": "TEXT",
            "to_account_id": "BIGINT", "to_account_number": "TEXT", "to_account_type": "TEXT",
            "to_username": "TEXT", "description": "TEXT", "reverses_id": "BIGINT",
            "external_id": "TEXT", "batch_id": "TEXT", "initiated_by_id": "BIGINT",
            "initiated_by": "TEXT", "created_at": "TIMESTAMP", "risk_score": "DECIMAL",
            "risk_verdict": "TEXT",
        },
        guarded={"risk_score": (P.RISK_READ_ALL,), "risk_verdict": (P.RISK_READ_ALL,)},
        about="every transaction (posted, blocked, reversed) with both sides' accounts and "
        "owners; amount in major units, amount_minor in minor units; risk verdict "
        "SAFE/SUSPICIOUS/CRITICAL",
    ),
    "vw_accounts": ViewGrant(
        needs=(P.ACCOUNTS_READ_ALL,),
        columns={
            "id": "BIGINT", "account_number": "TEXT", "owner_id": "BIGINT", "username": "TEXT",
            "full_name": "TEXT", "account_type": "TEXT", "currency": "TEXT",
            "balance": "DECIMAL", "balance_minor": "BIGINT", "overdraft_limit": "DECIMAL",
            "status": "TEXT", "status_reason": "TEXT", "created_at": "TIMESTAMP",
            "updated_at": "TIMESTAMP",
        },
        about="customer accounts (savings/checking/wallet; active/frozen/closed) with owner",
    ),
    "vw_customers": ViewGrant(
        needs=(P.ACCOUNTS_READ_ALL,),
        columns={
            "id": "BIGINT", "username": "TEXT", "full_name": "TEXT", "email": "TEXT",
            "phone": "TEXT", "date_of_birth": "DATE", "role": "TEXT", "kyc_status": "TEXT",
            "is_active": "BOOLEAN", "created_at": "TIMESTAMP",
        },
        guarded={"email": _PERSONAL, "phone": _PERSONAL, "date_of_birth": _PERSONAL},
        about="customers and staff (role), KYC status (pending/verified/rejected); no secrets",
    ),
    "vw_audit_events": ViewGrant(
        needs=(P.AUDIT_READ,),
        columns={
            "id": "BIGINT", "created_at": "TIMESTAMP", "actor_id": "BIGINT",
            "actor_username": "TEXT", "actor_role": "TEXT", "action": "TEXT",
            "entity_type": "TEXT", "entity_id": "TEXT", "subject_username": "TEXT",
            "before_state": "TEXT", "after_state": "TEXT", "request_id": "TEXT",
            "before_state_unmasked": "TEXT", "after_state_unmasked": "TEXT",
        },
        guarded={"before_state_unmasked": _PERSONAL, "after_state_unmasked": _PERSONAL},
        about="the audit trail: who (actor) did which action (e.g. account.frozen, "
        "user.role_changed) to whose user or account (subject), before/after as JSON (personal "
        "details masked; *_unmasked as recorded)",
    ),
    "vw_balance_sheet": ViewGrant(
        needs=(P.ACCOUNTS_READ_ALL,),
        columns={
            "currency": "TEXT", "assets_minor": "BIGINT", "liabilities_minor": "BIGINT",
            "equity_minor": "BIGINT", "difference_minor": "BIGINT", "fx_position_minor": "BIGINT",
        },
        about="one row per currency; difference_minor is zero while the books balance; "
        "fx_position_minor is the bank's open FX position in that currency (part of equity)",
    ),
    "vw_customer_statement": ViewGrant(
        needs=(P.TRANSACTIONS_READ_ALL,),
        columns={
            "entry_id": "BIGINT", "transaction_id": "BIGINT", "account_id": "BIGINT",
            "account_number": "TEXT", "account_type": "TEXT", "owner_id": "BIGINT",
            "username": "TEXT", "full_name": "TEXT", "type": "TEXT", "status": "TEXT",
            "description": "TEXT", "amount_minor": "BIGINT", "balance_after_minor": "BIGINT",
            "currency": "TEXT", "posted_at": "TIMESTAMP",
        },
        about="ledger entries on customer accounts with the running balance (minor units)",
    ),
    "vw_ledger_integrity_check": ViewGrant(
        needs=(P.AUDIT_READ,),
        columns={
            "check_name": "TEXT", "entity_type": "TEXT", "entity_id": "BIGINT",
            "difference_minor": "BIGINT",
        },
        about="zero rows while the ledger is sound; each row names a broken invariant",
    ),
    "vw_flagged_transactions": ViewGrant(
        needs=(P.RISK_READ_ALL,),
        columns={
            "transaction_id": "BIGINT", "type": "TEXT", "status": "TEXT",
            "amount_minor": "BIGINT", "currency": "TEXT", "from_account_id": "BIGINT",
            "to_account_id": "BIGINT", "description": "TEXT", "created_at": "TIMESTAMP",
            "score": "DOUBLE", "verdict": "TEXT", "reasons": "TEXT", "model_version": "TEXT",
            "scored_at": "TIMESTAMP", "alert_count": "BIGINT", "open_alert_count": "BIGINT",
            "fraud_resolution": "TEXT", "flag_count": "BIGINT",
        },
        about="transactions the risk screen scored SUSPICIOUS or CRITICAL, that carry an "
        "alert or that staff flagged by hand (flag_count > 0), with score, reasons (JSON) and "
        "model version; amounts in minor units",
    ),
    "vw_alerts": ViewGrant(
        needs=(P.RISK_READ_ALL,),
        columns={
            "id": "BIGINT", "queue": "TEXT", "transaction_id": "BIGINT",
            "account_number": "TEXT", "username": "TEXT", "rule_id": "TEXT",
            "severity": "TEXT", "status": "TEXT", "score": "DOUBLE", "verdict": "TEXT",
            "summary": "TEXT", "hits": "BIGINT", "assigned_to": "TEXT", "resolution": "TEXT",
            "resolved_by": "TEXT", "resolved_at": "TIMESTAMP", "created_at": "TIMESTAMP",
        },
        about="fraud and AML alerts (queue fraud/compliance; status open/investigating/"
        "escalated/reported/closed; severity low/medium/high; rule_id names the AML rule)",
    ),
}  # fmt: skip


@cache
def readable_views(role: Role) -> dict[str, frozenset[str]]:
    """The views and columns `role` may read through LedgerGPT."""
    readable: dict[str, frozenset[str]] = {}
    for view, grant in ALLOW_LIST.items():
        if not any(allows(role, permission) for permission in grant.needs):
            continue
        readable[view] = frozenset(
            column
            for column in grant.columns
            if column not in grant.guarded
            or any(allows(role, permission) for permission in grant.guarded[column])
        )
    return readable


def describe(role: Role) -> str:
    """The allowed views in words, for a language model's prompt."""
    lines = []
    for view, columns in readable_views(role).items():
        grant = ALLOW_LIST[view]
        listed = ", ".join(c for c in grant.columns if c in columns)
        lines.append(f"- {view}({listed}): {grant.about}")
    return "\n".join(lines)
