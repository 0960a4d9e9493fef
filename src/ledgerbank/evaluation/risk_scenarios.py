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

from dataclasses import dataclass, field

import numpy as np

from ledgerbank.risk.features import DEPOSIT, TRANSFER, WITHDRAWAL

DAY = 86400
HOUR = 3600
START = 1736121600  # 2025-01-06 00:00 UTC, a Monday
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
# Relative activity by hour of day for a day person; night owls are shifted by 7 hours.
_DAY_RHYTHM = np.array(
    [0.15, 0.06, 0.03, 0.03, 0.04, 0.1, 0.3, 0.7, 1.0, 1.1, 1.2, 1.3,
     1.6, 1.5, 1.2, 1.2, 1.3, 1.6, 1.9, 1.8, 1.5, 1.1, 0.7, 0.35]
)  # fmt: skip
_WEEK_RHYTHM = np.array([0.95, 0.95, 1.0, 1.0, 1.15, 1.3, 0.8])  # Monday .. Sunday


@dataclass(slots=True)
class SimAccount:
    id: int
    owner: int
    opened: int  # epoch seconds
    role: str  # customer, savings, employer, shop, landlord, utility, sleeper, mule, ...


@dataclass(slots=True)
class SimTransaction:
    t: int
    kind: int  # DEPOSIT, WITHDRAWAL or TRANSFER
    amount: int  # cents
    src: int | None
    dst: int | None
    label: str | None = None  # the typology of an injected case, None for normal traffic
    case: int | None = None
    share: float = 0.0  # > 0: the amount is this share of the sender's balance at the time
    floor: int = 0  # ... and it does not happen if that comes to less than this
    visible: bool = True  # an injected transaction the pattern already shows in


@dataclass
class Scenario:
    accounts: dict[int, SimAccount]
    transactions: list[SimTransaction]
    start: int
    split: int  # the test period starts here
    end: int
    cases: dict[int, str] = field(default_factory=dict)
    opening_balances: dict[int, int] = field(default_factory=dict)


class _Builder:
    def __init__(self, seed: int, start: int, end: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.start, self.end = start, end
        self.accounts: dict[int, SimAccount] = {}
        self.balances: dict[int, int] = {}
        self.events: list[SimTransaction] = []
        self.cases: dict[int, str] = {}
        self._next_owner = 1

    def owner(self) -> int:
        self._next_owner += 1
        return self._next_owner

    def account(self, owner: int, opened: int, role: str, balance: int = 0) -> int:
        account_id = len(self.accounts) + 1
        self.accounts[account_id] = SimAccount(account_id, owner, opened, role)
        self.balances[account_id] = balance
        return account_id

    def cents(self, dollars: float) -> int:
        return max(round(dollars * 100), 1)

    def moment(
        self, day_start: int, hours: np.ndarray | None = None, night_owl: bool = False
    ) -> int:
        weights = np.roll(_DAY_RHYTHM, 7) if night_owl else _DAY_RHYTHM
        hour = (
            int(self.rng.choice(24, p=weights / weights.sum()))
            if hours is None
            else int(self.rng.choice(hours))
        )
        return day_start + hour * HOUR + int(self.rng.integers(0, HOUR))

    def add(
        self, t: int, kind: int, amount: int, src: int | None, dst: int | None, **kw: object
    ) -> None:
        if self.start <= t < self.end:
            self.events.append(SimTransaction(t, kind, amount, src, dst, **kw))  # type: ignore[arg-type]

    def case(self, typology: str) -> int:
        number = len(self.cases) + 1
        self.cases[number] = typology
        return number


def _days(b: _Builder, since: int) -> range:
    first = max(b.start, since) // DAY * DAY
    return range(first, b.end, DAY)


def _weekday(day_start: int) -> int:
    return (day_start // DAY + 3) % 7


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
    b = _Builder(seed, start, end)
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
            for day in _days(b, start)[day0::7]:
                b.add(b.moment(day, np.array([18, 19, 20])), TRANSFER, 0, account, own, share=0.8)

    people: list[int] = []
    for _ in range(customers):
        people.append(_customer(b, employers, shops, landlords, utilities, dealers, people))
    for _ in range(max(customers // 25, 1)):  # accounts that sleep for months
        _sleeper(b)
    _inject(b, people, split, cases_per_month)
    transactions, opening = _settle(b)
    return Scenario(b.accounts, transactions, start, split, end, b.cases, opening)


def _customer(
    b: _Builder,
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

    for day in _days(b, opened + DAY):
        index = (day - b.start) // DAY
        if index in away:
            continue
        weekday = _weekday(day)
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
        for _ in range(int(rng.poisson(spend_rate * _WEEK_RHYTHM[weekday]))):
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
        if rng.random() < cash_rate * _WEEK_RHYTHM[weekday] / 1.05:
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


def _sleeper(b: _Builder) -> None:
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


# --- injected cases ----------------------------------------------------------------------


def _inject(b: _Builder, people: list[int], split: int, per_month: int) -> None:
    rng = b.rng
    for typology in TYPOLOGIES:
        count = max(round(per_month * (b.end - b.start) / (30 * DAY)), 2)
        for _ in range(count):
            t = b.start + 7 * DAY + int(rng.integers(0, b.end - b.start - 9 * DAY))
            INJECTORS[typology](b, people, b.case(typology), t)


def _external(b: _Builder, t: int, role: str = "mule", days_old: int = 0) -> int:
    return b.account(b.owner(), t - days_old * DAY, role)


def _takeover(b: _Builder, people: list[int], case: int, t: int) -> None:
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


def _structuring(b: _Builder, people: list[int], case: int, t: int) -> None:
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


def _pass_through(b: _Builder, people: list[int], case: int, t: int) -> None:
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


def _dormant(b: _Builder, people: list[int], case: int, t: int) -> None:
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


def _fan_in(b: _Builder, people: list[int], case: int, t: int) -> None:
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


def _large_cash(b: _Builder, people: list[int], case: int, t: int) -> None:
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


def _fan_in_spread(b: _Builder, people: list[int], case: int, t: int) -> None:
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


def _card_testing(b: _Builder, people: list[int], case: int, t: int) -> None:
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


def _small_pass_through(b: _Builder, people: list[int], case: int, t: int) -> None:
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


def _settle(b: _Builder) -> tuple[list[SimTransaction], dict[int, int]]:
    """Put the events in time order and keep only what the balances allow (as the bank would)."""
    opening = dict(b.balances)
    balances = b.balances
    kept = []
    for event in sorted(b.events, key=lambda e: e.t):
        src, dst = event.src, event.dst
        for account in (src, dst):
            if account is not None and b.accounts[account].opened > event.t:
                break
        else:
            if event.share:
                event.amount = int(balances[src] * event.share) if src is not None else 0
            if event.amount <= max(event.floor, 0) or (
                src is not None and balances[src] < event.amount
            ):
                continue
            if src is not None:
                balances[src] -= event.amount
            if dst is not None:
                balances[dst] += event.amount
            kept.append(event)
    return kept, opening
