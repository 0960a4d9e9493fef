"""The generated bank's records (accounts, movements, the scenario) and the builder the normal
traffic and the injected cases are written into; `settle` keeps what the balances allow."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DAY = 86400
HOUR = 3600
START = 1736121600  # 2025-01-06 00:00 UTC, a Monday
# Relative activity by hour of day for a day person; night owls are shifted by 7 hours.
DAY_RHYTHM = np.array(
    [0.15, 0.06, 0.03, 0.03, 0.04, 0.1, 0.3, 0.7, 1.0, 1.1, 1.2, 1.3,
     1.6, 1.5, 1.2, 1.2, 1.3, 1.6, 1.9, 1.8, 1.5, 1.1, 0.7, 0.35]
)  # fmt: skip
WEEK_RHYTHM = np.array([0.95, 0.95, 1.0, 1.0, 1.15, 1.3, 0.8])  # Monday .. Sunday


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


class Builder:
    """The bank being generated: its accounts, opening balances, movements and cases."""

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
        weights = np.roll(DAY_RHYTHM, 7) if night_owl else DAY_RHYTHM
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


def days_from(b: Builder, since: int) -> range:
    first = max(b.start, since) // DAY * DAY
    return range(first, b.end, DAY)


def day_of_week(day_start: int) -> int:
    return (day_start // DAY + 3) % 7


def settle(b: Builder) -> tuple[list[SimTransaction], dict[int, int]]:
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
