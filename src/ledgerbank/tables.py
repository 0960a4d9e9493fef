"""Every domain's tables, imported in one place so that the metadata is complete."""

from ledgerbank.analytics.tables import spending_categories
from ledgerbank.approvals.tables import approvals
from ledgerbank.audit.tables import audit_chain, audit_checkpoints, audit_log
from ledgerbank.casework.tables import sar_reports, saved_reports
from ledgerbank.events.tables import event_partitions, events, webhook_deliveries, webhooks
from ledgerbank.fx.tables import fx_conversions, fx_rates
from ledgerbank.identity.tables import (
    api_tokens,
    login_throttles,
    password_resets,
    recovery_codes,
    revoked_tokens,
    security_notices,
    users,
)
from ledgerbank.interest.tables import interest_accruals, interest_payments, interest_rates
from ledgerbank.ledger.tables import (
    accounts,
    entries,
    fee_links,
    holds,
    idempotency_keys,
    known_payees,
    ledger_verifications,
    saved_payees,
    transaction_flags,
    transactions,
)
from ledgerbank.payments.tables import scheduled_payment_runs, scheduled_payments
from ledgerbank.risk.tables import risk_account_stats, risk_alert_actions, risk_alerts, risk_scores
from ledgerbank.worker.tables import worker_job_runs, worker_jobs

__all__ = [
    "accounts",
    "api_tokens",
    "approvals",
    "audit_chain",
    "audit_checkpoints",
    "audit_log",
    "entries",
    "event_partitions",
    "events",
    "fee_links",
    "fx_conversions",
    "fx_rates",
    "holds",
    "idempotency_keys",
    "interest_accruals",
    "interest_payments",
    "interest_rates",
    "known_payees",
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
    "saved_payees",
    "saved_reports",
    "scheduled_payment_runs",
    "scheduled_payments",
    "security_notices",
    "spending_categories",
    "transaction_flags",
    "transactions",
    "users",
    "webhook_deliveries",
    "webhooks",
    "worker_job_runs",
    "worker_jobs",
]
