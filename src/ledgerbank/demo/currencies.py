"""The demo bank's currencies and interest: EUR/USD rates, an exchange of Carol's into her
euro savings through the money service, and interest on savings accrued since the start of
last month (last month paid)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, select

from ledgerbank.fx import rates
from ledgerbank.identity.tables import users
from ledgerbank.interest import service as interest
from ledgerbank.kit.db import Database
from ledgerbank.ledger.exchange import Exchange
from ledgerbank.ledger.money import Caller, MoneyRequest, MoneyService
from ledgerbank.ledger.tables import accounts

SAVINGS_RATE = "0.025"
EUR_USD = (("1.0790", 90), ("1.0850", 30))  # (rate, set this many days ago)


@dataclass(frozen=True)
class Loaded:
    exchange_status: int
    accrued_days: int
    paid_accounts: int


def load(database: Database, money: MoneyService, *, now: datetime, today: date) -> Loaded:
    def set_rates(conn: Connection) -> None:
        for rate, days_ago in EUR_USD:
            rates.set_rate(
                conn,
                base="EUR",
                quote="USD",
                rate=rate,
                valid_from=now - timedelta(days=days_ago),
                actor_id=None,
            )
        interest.set_rate(
            conn,
            account_type="savings",
            annual_rate=SAVINGS_RATE,
            valid_from=today - timedelta(days=200),
            actor_id=None,
        )

    database.write(set_rates)
    with database.read() as conn:
        carol = conn.execute(select(users.c.id).where(users.c.username == "carol")).scalar_one()
        mine = dict(
            conn.execute(
                select(accounts.c.account_type, accounts.c.id)
                .where(accounts.c.owner_id == carol, accounts.c.currency.in_(["USD", "EUR"]))
                .order_by(accounts.c.id)
            ).all()
        )
    # Carol changes 250.00 USD into her euro savings: a request like any other (she
    # authorised it with her PIN in the story, so the loader runs it PIN-exempt).
    answer = money.run(
        MoneyRequest(
            Caller(int(carol), "customer", pin_exempt=True),
            Exchange(int(mine["checking"]), int(mine["savings"]), "250.00"),
        )
    )
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)  # last month's first
    days = [first + timedelta(days=n) for n in range((today - first).days)]
    for day in days:
        database.write(functools.partial(interest.accrue_interest, day=day))
    paid = database.write(lambda conn: interest.pay_interest(conn, first, today=today))
    return Loaded(answer.status, len(days), len(paid.payments))
