"""The injected cases of the generated bank, one function per typology: each case's
transactions carry its label and say whether the pattern is `visible` by then."""

from __future__ import annotations

import numpy as np

from ledgerbank.evaluation.risk_scenarios.bank import DAY, HOUR, Builder
from ledgerbank.risk.features import DEPOSIT, TRANSFER, WITHDRAWAL

TYPOLOGIES = (
    "account_takeover",
    "structuring",
    "pass_through",
    "dormant_reactivation",
    "fan_in",
    "large_cash",
    "fan_in_spread",
    "card_testing",
    "small_pass_through",
)


def inject(b: Builder, people: list[int], split: int, per_month: int) -> None:
    rng = b.rng
    for typology in TYPOLOGIES:
        count = max(round(per_month * (b.end - b.start) / (30 * DAY)), 2)
        for _ in range(count):
            t = b.start + 7 * DAY + int(rng.integers(0, b.end - b.start - 9 * DAY))
            INJECTORS[typology](b, people, b.case(typology), t)


def _external(b: Builder, t: int, role: str = "mule", days_old: int = 0) -> int:
    return b.account(b.owner(), t - days_old * DAY, role)


def _takeover(b: Builder, people: list[int], case: int, t: int) -> None:
    rng = b.rng
    victim = people[int(rng.integers(len(people)))]
    t = t // DAY * DAY + int(rng.integers(0, 5)) * HOUR + int(rng.integers(0, HOUR))
    payees = [
        _external(b, t, days_old=int(rng.integers(1, 400))) for _ in range(int(rng.integers(1, 4)))
    ]
    for i in range(int(rng.integers(3, 9))):
        share = float(rng.uniform(0.25, 0.6)) if i < 3 else float(rng.uniform(0.3, 0.9))
        b.add(
            t,
            TRANSFER,
            0,
            victim,
            payees[i % len(payees)],
            label="account_takeover",
            case=case,
            share=share,
        )
        t += int(rng.integers(40, 420))


def _structuring(b: Builder, people: list[int], case: int, t: int) -> None:
    rng = b.rng
    smurf = (
        people[int(rng.integers(len(people)))]
        if rng.random() < 0.6
        else _external(b, t, "customer", int(rng.integers(10, 900)))
    )
    for _ in range(int(rng.integers(3, 6))):
        amount = b.cents(float(rng.uniform(8600, 9950)))
        b.add(
            b.moment(t // DAY * DAY, np.arange(9, 18)),
            DEPOSIT,
            amount,
            None,
            smurf,
            label="structuring",
            case=case,
        )
        t += int(rng.integers(8 * HOUR, 2 * DAY))


def _pass_through(b: Builder, people: list[int], case: int, t: int) -> None:
    rng = b.rng
    mule = _external(b, t, "mule", int(rng.integers(3, 90)))
    b.balances[mule] = b.cents(float(rng.uniform(0, 150)))
    for _ in range(int(rng.integers(1, 4))):  # victims talked into paying most of what they have
        victim = people[int(rng.integers(len(people)))]
        share = float(rng.uniform(0.4, 0.95))
        b.add(
            t, TRANSFER, 0, victim, mule, label="pass_through", case=case, share=share, floor=50000
        )
        t += int(rng.integers(10 * 60, 5 * HOUR))
    t += int(rng.integers(2 * HOUR, 30 * HOUR))
    onward = [
        _external(b, t, days_old=int(rng.integers(1, 300))) for _ in range(int(rng.integers(1, 3)))
    ]
    for i, payee in enumerate(onward):  # sent on, unless no victim paid (then nothing happens)
        last = i == len(onward) - 1
        share = float(rng.uniform(0.9, 0.98)) if last else float(rng.uniform(0.4, 0.6))
        kind, to = (WITHDRAWAL, None) if rng.random() < 0.25 else (TRANSFER, payee)
        b.add(t, kind, 0, mule, to, label="pass_through", case=case, share=share, floor=50000)
        t += int(rng.integers(5 * 60, 3 * HOUR))


def _dormant(b: Builder, people: list[int], case: int, t: int) -> None:
    rng = b.rng
    account = _external(b, t, "dormant", int(rng.integers(250, 2500)))
    b.balances[account] = b.cents(float(rng.uniform(10, 400)))
    source = None
    if rng.random() < 0.5:  # paid in from an old account elsewhere in the bank, or in cash
        source = b.account(b.owner(), t - 3000 * DAY, "payer", 10**8)
    amount = b.cents(float(rng.uniform(3000, 25000)))
    kind = TRANSFER if source else DEPOSIT
    b.add(t, kind, amount, source, account, label="dormant_reactivation", case=case)
    t += int(rng.integers(HOUR, 3 * DAY))
    payee = _external(b, t, days_old=int(rng.integers(1, 300)))
    share = float(rng.uniform(0.5, 0.95))
    b.add(t, TRANSFER, 0, account, payee, label="dormant_reactivation", case=case, share=share)


def _fan_in(b: Builder, people: list[int], case: int, t: int) -> None:
    rng = b.rng
    collector = _external(b, t, "collector", int(rng.integers(5, 700)))
    senders = rng.choice(len(people), size=int(rng.integers(8, 26)), replace=False)
    span = int(rng.integers(4 * HOUR, 30 * HOUR))
    for i in senders:
        when = t + int(rng.integers(0, span))
        b.add(
            when,
            TRANSFER,
            b.cents(float(rng.uniform(80, 1500))),
            people[int(i)],
            collector,
            label="fan_in",
            case=case,
        )


def _large_cash(b: Builder, people: list[int], case: int, t: int) -> None:
    rng = b.rng
    account = people[int(rng.integers(len(people)))]
    amount = b.cents(float(rng.uniform(10000, 60000)))
    b.add(
        b.moment(t // DAY * DAY, np.arange(9, 17)),
        DEPOSIT,
        amount,
        None,
        account,
        label="large_cash",
        case=case,
    )


def _fan_in_spread(b: Builder, people: list[int], case: int, t: int) -> None:
    """A handful of small payments from different people into one account over two days."""
    rng = b.rng
    if rng.random() < 0.5:
        collector = people[int(rng.integers(len(people)))]
    else:
        collector = _external(b, t, "collector", int(rng.integers(30, 700)))
    count = int(rng.integers(5, 10))
    senders = rng.choice(len(people), size=count, replace=False)
    span = int(rng.integers(36 * HOUR, 56 * HOUR))
    moments = sorted(t + int(rng.integers(0, span)) for _ in range(count))
    for index, (i, when) in enumerate(zip(senders, moments, strict=True)):
        if people[int(i)] == collector:
            continue
        b.add(
            when,
            TRANSFER,
            b.cents(float(rng.uniform(40, 400))),
            people[int(i)],
            collector,
            label="fan_in_spread",
            case=case,
            visible=index >= 2,
        )


def _card_testing(b: Builder, people: list[int], case: int, t: int) -> None:
    """A stolen card tried with a burst of tiny payments to one merchant, then used."""
    rng = b.rng
    victim = people[int(rng.integers(len(people)))]
    merchant = _external(b, t, "merchant", int(rng.integers(1, 200)))
    t = t // DAY * DAY + int(rng.integers(0, 24)) * HOUR + int(rng.integers(0, HOUR))
    tries = int(rng.integers(4, 12))
    for index in range(tries):
        b.add(
            t,
            TRANSFER,
            b.cents(float(rng.uniform(0.5, 3.0))),
            victim,
            merchant,
            label="card_testing",
            case=case,
            visible=index >= 2,
        )
        t += int(rng.integers(20, 240))
    if rng.random() < 0.6:  # the card works: it is used for real
        b.add(
            t + int(rng.integers(60, 1800)),
            TRANSFER,
            b.cents(float(rng.uniform(60, 450))),
            victim,
            merchant,
            label="card_testing",
            case=case,
        )


def _small_pass_through(b: Builder, people: list[int], case: int, t: int) -> None:
    """A mule passing on a few hundred received from strangers within hours."""
    rng = b.rng
    if rng.random() < 0.5:
        mule = people[int(rng.integers(len(people)))]
    else:
        mule = _external(b, t, "mule", int(rng.integers(3, 300)))
        b.balances[mule] = b.cents(float(rng.uniform(0, 80)))
    received = 0
    for _ in range(int(rng.integers(1, 4))):
        victim = people[int(rng.integers(len(people)))]
        if victim == mule:
            continue
        amount = b.cents(float(rng.uniform(120, 900)))
        b.add(
            t, TRANSFER, amount, victim, mule, label="small_pass_through", case=case, visible=False
        )
        received += amount
        t += int(rng.integers(10 * 60, 4 * HOUR))
    t += int(rng.integers(HOUR, 20 * HOUR))
    onward = [
        _external(b, t, days_old=int(rng.integers(1, 300))) for _ in range(int(rng.integers(1, 3)))
    ]
    left = int(received * float(rng.uniform(0.85, 0.98)))
    for i, payee in enumerate(onward):
        last = i == len(onward) - 1
        amount = left if last else int(left * float(rng.uniform(0.4, 0.6)))
        left -= amount
        kind, to = (WITHDRAWAL, None) if rng.random() < 0.25 else (TRANSFER, payee)
        b.add(t, kind, amount, mule, to, label="small_pass_through", case=case)
        t += int(rng.integers(5 * 60, 2 * HOUR))


INJECTORS = {
    "account_takeover": _takeover,
    "structuring": _structuring,
    "pass_through": _pass_through,
    "dormant_reactivation": _dormant,
    "fan_in": _fan_in,
    "large_cash": _large_cash,
    "fan_in_spread": _fan_in_spread,
    "card_testing": _card_testing,
    "small_pass_through": _small_pass_through,
}
