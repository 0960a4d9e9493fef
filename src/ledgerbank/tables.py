"""Every domain's tables, imported in one place so that the metadata is complete."""

from ledgerbank.approvals.tables import approvals
from ledgerbank.audit.tables import audit_chain, audit_checkpoints, audit_log
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
from ledgerbank.payments.tables import scheduled_payment_runs, scheduled_payments
from ledgerbank.risk.tables import risk_account_stats, risk_alert_actions, risk_alerts, risk_scores
from ledgerbank.worker.tables import worker_job_runs, worker_jobs

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
    "scheduled_payment_runs",
    "scheduled_payments",
    "security_notices",
    "transaction_flags",
    "transactions",
    "users",
    "worker_job_runs",
    "worker_jobs",
]
