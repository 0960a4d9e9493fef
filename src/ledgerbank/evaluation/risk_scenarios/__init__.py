"""A labelled synthetic bank for measuring the risk screen: normal customers and injected crime.

Normal customers have salaries (a monthly transfer from an employer, or weekly cash for the
self-employed), rent and bills on their own days (often paid together in a few minutes),
everyday payments to their favourite shops with an occasional new one, transfers to friends,
cash machine withdrawals, savings, rare large purchases and cash windfalls, holidays, and
daily and weekly rhythms (some are night owls). Businesses collect, pay salaries and sweep
their takings to their own savings. A few accounts sleep for months and wake up with small
amounts; new customers open accounts during the period and fund them.

Injected typologies, each instance a "case" whose transactions carry its label:
account takeover bursts at night, structuring, pass-through mules, dormant reactivation,
fan-in collection and large cash (the first round's), then fan-in spread over two days,
card testing (bursts of tiny payments to one merchant) and pass-through at small sizes (the
second round's, written before any tuning). A collector or a mule of the second round's
typologies is as often an existing customer recruited for it as an account opened for it.
Each injected transaction also says whether the pattern is `visible` by then: the first
payments of a fan-in or a card test, or the money a small mule receives before sending it on,
look like any payment; the detection goal is judged from the point the pattern shows. Labels
are never part of what the scorer sees: the replay gets the same fields a posting has (time,
type, amount, accounts, owners, opening dates, balances) and nothing else.
"""

from __future__ import annotations

import numpy as np

from ledgerbank.evaluation.risk_scenarios.bank import (
    DAY,
    HOUR,
    START,
    Builder,
    Scenario,
    SimAccount,
    SimTransaction,
    days_from,
    settle,
)
from ledgerbank.evaluation.risk_scenarios.customers import customer, sleeper
from ledgerbank.evaluation.risk_scenarios.typologies import TYPOLOGIES, inject
from ledgerbank.risk.features import TRANSFER

__all__ = [
    "DAY",
    "HOUR",
    "START",
    "TYPOLOGIES",
    "Scenario",
    "SimAccount",
    "SimTransaction",
    "generate",
]


def generate(
    *,
    seed: int = 7,
    customers: int = 1500,
    train_days: int = 90,
    test_days: int = 30,
    cases_per_month: int = 15,
) -> Scenario:
    """A bank of `customers` over `train_days` then `test_days`, with injected cases."""
    start = START
    split = start + train_days * DAY
    end = split + test_days * DAY
    b = Builder(seed, start, end)
    rng = b.rng
    business = b.owner
    employers = [b.account(business(), start - 2000 * DAY, "employer", 10**11) for _ in range(40)]
    shops = [
        b.account(business(), start - int(rng.integers(400, 4000)) * DAY, "shop", 10**7)
        for _ in range(220)
    ]
    landlords = [b.account(business(), start - 3000 * DAY, "landlord", 10**7) for _ in range(120)]
    utilities = [b.account(business(), start - 5000 * DAY, "utility", 10**9) for _ in range(12)]
    dealers = [b.account(business(), start - 3000 * DAY, "dealer", 10**8) for _ in range(15)]
    for group in (shops, landlords):
        for account in group:  # takings swept weekly to the owner's own savings
            own = b.account(b.accounts[account].owner, b.accounts[account].opened, "savings")
            day0 = int(rng.integers(0, 7))
            for day in days_from(b, start)[day0::7]:
                b.add(b.moment(day, np.array([18, 19, 20])), TRANSFER, 0, account, own, share=0.8)

    people: list[int] = []
    for _ in range(customers):
        people.append(customer(b, employers, shops, landlords, utilities, dealers, people))
    for _ in range(max(customers // 25, 1)):  # accounts that sleep for months
        sleeper(b)
    inject(b, people, split, cases_per_month)
    transactions, opening = settle(b)
    return Scenario(b.accounts, transactions, start, split, end, b.cases, opening)
