"""Helpers of the standing-order tests: set an order up over HTTP, run the worker's job at a
chosen moment (the clock frozen there), read what it did."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from api_helpers import PIN, Bank
from sqlalchemy import func, select

from ledgerbank.kit.clock import frozen_at
from ledgerbank.ledger.money import MoneyService
from ledgerbank.ledger.tables import transactions
from ledgerbank.payments.jobs import STANDING_ORDERS
from ledgerbank.worker.registry import JobContext, JobResult

JAN_31 = date(2027, 1, 31)


def schedule(bank: Bank, who: str, **fields: Any) -> dict[str, Any]:
    body = {"pin": PIN, "frequency": "monthly", **fields}
    for key in ("first_date", "until"):
        if isinstance(body.get(key), date):
            body[key] = body[key].isoformat()
    answer = bank.post(who, "/payments/scheduled", body)
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


def run_job_at(bank: Bank, moment: datetime, money: MoneyService | None = None) -> JobResult:
    """The standing orders' job as the worker runs it, at `moment` (UTC), in this thread (a
    money service without group commit, so the frozen clock reaches the postings)."""
    settings = bank.app.state.settings
    money = money or MoneyService.from_settings(
        bank.database, lambda: bank.app.state.screen, settings
    )
    with frozen_at(moment):
        context = JobContext(bank.database, settings, money, moment)
        return STANDING_ORDERS.run(context)


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def payments_of(bank: Bank, description: str) -> int:
    """How many posted transfers carry this description."""
    with bank.database.read() as conn:
        return int(
            conn.execute(
                select(func.count()).where(
                    transactions.c.description == description, transactions.c.status == "posted"
                )
            ).scalar_one()
        )
