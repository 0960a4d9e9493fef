"""Every domain's tables, imported in one place so that the metadata is complete."""

from ledgerbank.approvals.tables import approvals
from ledgerbank.audit.tables import audit_chain, audit_checkpoints, audit_log
from ledgerbank.casework.tables import sar_reports, saved_reports
from ledgerbank.identity.tables import (
    login_throttles,
    password_resets,
    recovery_codes,
    revoked_tokens,
    security_notices,
    users,
)
from ledgerbank.ledger.tables import (
    accounts,
    entries,
    idempotency_keys,
    ledger_verifications,
    transaction_flags,
    transactions,
)
from ledgerbank.risk.tables import risk_account_stats, risk_alert_actions, risk_alerts, risk_scores

__all__ = [
    "accounts",
    "approvals",
    "audit_chain",
    "audit_checkpoints",
    "audit_log",
    "entries",
    "idempotency_keys",
    "ledger_verifications",
    "login_throttles",
    "password_resets",
    "recovery_codes",
    "revoked_tokens",
    "risk_account_stats",
    "risk_alert_actions",
    "risk_alerts",
    "risk_scores",
    "sar_reports",
    "saved_reports",
    "security_notices",
    "transaction_flags",
    "transactions",
    "users",
]
