"""Normal traffic of the generated bank: customers' salaries, rent, bills, shopping, cash and
savings in their daily and weekly rhythms, and accounts that sleep for months."""

from __future__ import annotations

import numpy as np

from ledgerbank.evaluation.risk_scenarios.bank import (
    DAY,
    HOUR,
    WEEK_RHYTHM,
    Builder,
    day_of_week,
    days_from,
)
from ledgerbank.risk.features import DEPOSIT, TRANSFER, WITHDRAWAL


def customer(
    b: Builder,
    employers: list[int],
    shops: list[int],
    landlords: list[int],
    utilities: list[int],
    dealers: list[int],
    people: list[int],
) -> int:
    rng = b.rng
    owner = b.owner()
    joins_later = rng.random() < 0.12
    opened = (
        b.start + int(rng.integers(0, (b.end - b.start) // DAY - 3)) * DAY
        if joins_later
        else b.start - int(rng.integers(60, 3000)) * DAY
    )
    salary = float(rng.lognormal(np.log(3000), 0.45))
    balance = 0 if joins_later else b.cents(float(rng.lognormal(np.log(2500), 0.9)))
    main = b.account(owner, opened, "customer", balance)
    saver = rng.random() < 0.45
    savings = (
        b.account(owner, opened, "savings", b.cents(float(rng.lognormal(np.log(5000), 1.0))))
        if saver
        else None
    )
    night_owl = rng.random() < 0.1
    self_employed = rng.random() < 0.15
    if joins_later:  # funding the new account
        first = b.moment(opened + int(rng.integers(0, 2)) * DAY)
        amount = float(rng.lognormal(np.log(600), 1.1))
        b.add(first, DEPOSIT, b.cents(amount), None, main)
    employer = employers[int(rng.integers(len(employers)))]
    payday = int(rng.choice([1, 15, 25, 28]))
    landlord = landlords[int(rng.integers(len(landlords)))]
    rent = salary * float(rng.uniform(0.2, 0.35))
    rent_day = int(rng.integers(1, 6))
    payees = rng.choice(len(utilities), size=int(rng.integers(2, 5)), replace=False)
    bills = [
        (utilities[int(i)], float(rng.lognormal(np.log(70), 0.5)), int(rng.integers(1, 28)))
        for i in payees
    ]
    favourites = [
        shops[int(i)] for i in rng.choice(len(shops), size=int(rng.integers(5, 16)), replace=False)
    ]
    weights = 1.0 / np.arange(1, len(favourites) + 1)
    weights /= weights.sum()
    friends = (
        [
            people[int(i)]
            for i in rng.choice(
                len(people), size=min(len(people), int(rng.integers(2, 7))), replace=False
            )
        ]
        if people
        else []
    )
    spend_rate = float(rng.uniform(0.5, 1.8))
    cash_rate = float(rng.uniform(0.03, 0.35))
    spend_median = float(rng.lognormal(np.log(35), 0.4))
    away: set[int] = set()
    for _ in range(int(rng.integers(0, 3))):  # holidays: no activity for one to three weeks
        first = int(rng.integers(0, max((b.end - b.start) // DAY, 1)))
        away.update(range(first, first + int(rng.integers(7, 22))))

    for day in days_from(b, opened + DAY):
        index = (day - b.start) // DAY
        if index in away:
            continue
        weekday = day_of_week(day)
        date = np.datetime64(day, "s").astype(object)
        dom = date.day
        if dom == payday:
            if self_employed:
                pass
            else:
                b.add(day + 7 * HOUR + int(rng.integers(0, 2 * HOUR)), TRANSFER,
                      b.cents(salary * float(rng.normal(1, 0.03))), employer, main)  # fmt: skip
            if savings is not None and rng.random() < 0.8:
                b.add(
                    b.moment(day + DAY, night_owl=night_owl),
                    TRANSFER,
                    b.cents(salary * float(rng.uniform(0.05, 0.2))),
                    main,
                    savings,
                )
        if self_employed and weekday == 4:  # the week's takings, in cash
            b.add(
                b.moment(day, np.array([10, 11, 15, 16])),
                DEPOSIT,
                b.cents(salary / 4.3 * float(rng.lognormal(0, 0.35))),
                None,
                main,
            )
        session: list[tuple[int, float]] = []
        if dom == rent_day:
            session.append((landlord, rent))
        session.extend(
            (u, amount * float(rng.lognormal(0, 0.25))) for u, amount, d in bills if d == dom
        )
        if session:  # bills are paid together, a minute or two apart
            t = b.moment(day, night_owl=night_owl)
            for payee, amount in session:
                b.add(t, TRANSFER, b.cents(amount), main, payee)
                t += int(rng.integers(30, 180))
        for _ in range(int(rng.poisson(spend_rate * WEEK_RHYTHM[weekday]))):
            new_shop = rng.random() < 0.08
            shop = (
                shops[int(rng.integers(len(shops)))]
                if new_shop
                else favourites[int(rng.choice(len(favourites), p=weights))]
            )
            b.add(
                b.moment(day, night_owl=night_owl),
                TRANSFER,
                b.cents(float(rng.lognormal(np.log(spend_median), 0.8))),
                main,
                shop,
            )
        if rng.random() < cash_rate * WEEK_RHYTHM[weekday] / 1.05:
            b.add(
                b.moment(day, night_owl=night_owl),
                WITHDRAWAL,
                int(rng.choice([20, 40, 60, 100, 100, 200, 200, 300, 500])) * 100,
                main,
                None,
            )
        if friends and rng.random() < 0.08:
            friend = friends[int(rng.integers(len(friends)))]
            b.add(
                b.moment(day, night_owl=night_owl),
                TRANSFER,
                b.cents(float(rng.lognormal(np.log(45), 0.8))),
                main,
                friend,
            )
        if rng.random() < 1 / 700:  # a car, a kitchen: a large payment to a dealer
            b.add(
                b.moment(day),
                TRANSFER,
                b.cents(float(rng.uniform(4000, 25000))),
                savings or main,
                dealers[int(rng.integers(len(dealers)))],
            )
        if rng.random() < 1 / 500:  # a windfall or a sale, paid in cash
            b.add(
                b.moment(day), DEPOSIT, b.cents(float(rng.lognormal(np.log(2500), 0.9))), None, main
            )
    return main


def sleeper(b: Builder) -> None:
    """An account used every few months for small amounts (and now and then a larger one)."""
    rng = b.rng
    account = b.account(
        b.owner(),
        b.start - int(rng.integers(400, 3000)) * DAY,
        "sleeper",
        b.cents(float(rng.lognormal(np.log(3000), 1))),
    )
    t = b.start + int(rng.integers(0, 120)) * DAY
    while t < b.end:
        amount = b.cents(float(rng.lognormal(np.log(150), 1.0)))
        kind = [DEPOSIT, WITHDRAWAL][int(rng.integers(2))]
        b.add(
            b.moment(t // DAY * DAY),
            kind,
            amount,
            None if kind == DEPOSIT else account,
            account if kind == DEPOSIT else None,
        )
        t += int(rng.integers(60, 260)) * DAY
