"""The demo bank comes with a standing order: alice's rent to Oakwood, paid by the worker."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from api_helpers import api_settings
from sqlalchemy import select

from ledgerbank.demo.service import load
from ledgerbank.kit.clock import frozen_at
from ledgerbank.kit.db import Database
from ledgerbank.ledger import integrity
from ledgerbank.ledger.money import MoneyService
from ledgerbank.ledger.screening import NO_SCREEN
from ledgerbank.payments.jobs import STANDING_ORDERS
from ledgerbank.payments.tables import scheduled_payment_runs, scheduled_payments
from ledgerbank.worker.registry import JobContext


def test_demo_rent_is_a_standing_order_the_worker_pays(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    settings = api_settings(database_url, tmp_path)
    load(database, now=datetime(2026, 12, 5, 12, tzinfo=UTC))
    with database.read() as conn:
        order = conn.execute(select(scheduled_payments)).mappings().one()
    assert (order["frequency"], order["status"], str(order["next_due"])) == (
        "monthly",
        "active",
        "2027-01-01",
    )
    assert order["description"] == "Rent (standing order)"
    money = MoneyService.from_settings(database, lambda: NO_SCREEN, settings)
    moment = datetime(2027, 1, 1, 9, tzinfo=UTC)
    with frozen_at(moment):
        done = STANDING_ORDERS.run(JobContext(database, settings, money, moment))
    assert done.items == 1
    with database.read() as conn:
        run = conn.execute(select(scheduled_payment_runs)).mappings().one()
        assert run["outcome"] == "posted", run
        assert integrity.violations(conn) == []
