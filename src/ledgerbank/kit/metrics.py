"""Prometheus metrics: HTTP traffic, and the domain counters every domain increments.

Define a domain's counters here (one place, no duplicate registrations) and increment them
where the event happens, after its transaction committed: `metrics.transfers_posted.inc()`.
Served as text by GET /metrics.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

# One registry for ledgerbank (not the global default): tests and several apps in one process
# share it without duplicate-registration errors.
registry = CollectorRegistry(auto_describe=True)

# HTTP, labelled by route template (never the raw path: ids would explode the label set)
http_requests = Counter(
    "ledgerbank_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
    registry=registry,
)
http_request_duration = Histogram(
    "ledgerbank_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
    registry=registry,
)

# identity
logins_succeeded = Counter("ledgerbank_logins_succeeded", "Successful sign-ins.", registry=registry)
logins_failed = Counter(
    "ledgerbank_logins_failed",
    "Refused sign-ins, by reason (unknown_user, wrong_password, inactive, locked).",
    ["reason"],
    registry=registry,
)
logins_locked = Counter(
    "ledgerbank_logins_locked", "Logins locked after too many failures.", registry=registry
)
pins_failed = Counter("ledgerbank_pins_failed", "Wrong transaction PINs.", registry=registry)
pins_locked = Counter(
    "ledgerbank_pins_locked", "PINs locked after too many wrong tries.", registry=registry
)

# ledger
deposits_posted = Counter("ledgerbank_deposits_posted", "Deposits posted.", registry=registry)
withdrawals_posted = Counter(
    "ledgerbank_withdrawals_posted", "Withdrawals posted.", registry=registry
)
transfers_posted = Counter("ledgerbank_transfers_posted", "Transfers posted.", registry=registry)
reversals_posted = Counter("ledgerbank_reversals_posted", "Reversals posted.", registry=registry)
postings_refused = Counter(
    "ledgerbank_postings_refused",
    "Money movements refused, by error code (insufficient_funds, account_frozen, ...).",
    ["code"],
    registry=registry,
)

# risk
transactions_blocked = Counter(
    "ledgerbank_transactions_blocked", "Transactions blocked by risk screening.", registry=registry
)
alerts_raised = Counter(
    "ledgerbank_alerts_raised", "Fraud and AML alerts raised, by kind.", ["kind"], registry=registry
)


def exposition() -> tuple[bytes, str]:
    """The metrics in Prometheus text format and its content type."""
    return generate_latest(registry), CONTENT_TYPE_LATEST
