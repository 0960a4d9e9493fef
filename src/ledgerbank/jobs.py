"""Every job the worker runs, listed in one place (as `tables.py` lists every table).

A domain defines its jobs beside its services (`Job(name, every, run)` from
`ledgerbank.worker.registry`) and adds them to `JOBS` here; `ledgerbank worker` runs this list.
"""

from __future__ import annotations

from ledgerbank.approvals.jobs import EXPIRE_PROPOSALS
from ledgerbank.events.jobs import DELIVER_WEBHOOKS, PUBLISH_EVENTS
from ledgerbank.interest.jobs import ACCRUE_INTEREST, PAY_INTEREST
from ledgerbank.payments.jobs import STANDING_ORDERS
from ledgerbank.worker.registry import Job, Registry

JOBS: list[Job] = [
    EXPIRE_PROPOSALS,
    ACCRUE_INTEREST,
    PAY_INTEREST,
    STANDING_ORDERS,
    PUBLISH_EVENTS,
    DELIVER_WEBHOOKS,
]


def registry() -> Registry:
    return Registry(JOBS)
