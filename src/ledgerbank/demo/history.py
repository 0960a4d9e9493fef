"""The demo bank's people, accounts and six months of history, generated from a seed.

Everyday life (salaries, rent, groceries, utilities, cash machines, savings, money sent to
friends) with a few patterns mixed in for risk scoring and analytics to find: structuring,
a large cash deposit, a night-time burst of transfers, a rapid pass-through, a dormant account
woken by a large transfer, and many accounts paying into one. Nothing here touches a database.
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

HISTORY_DAYS = 182
DEFAULT_SEED = 2026
DEMO_PIN = "2026"  # every demo customer's transaction PIN


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    full_name: str
    kyc_status: str = "verified"

    @property
    def pin(self) -> str | None:
        return DEMO_PIN if self.role == "customer" else None

    @property
    def totp_secret(self) -> str | None:
        """Staff sign in with a second factor: the demo's are published (README, `ledgerbank
        demo totp USERNAME` prints the current code), so anyone can try the demo bank."""
        if self.role == "customer":
            return None
        return base64.b32encode(f"{self.username}-demo-2026-totp".encode()).decode().rstrip("=")


def _user(username: str, role: str, full_name: str, kyc_status: str = "verified") -> DemoUser:
    # Long enough for the policy, not in the common-password list, easy to type in a demo.
    return DemoUser(username, f"{username}-demo-2026", role, full_name, kyc_status)


USERS = (
    _user("admin", "admin", "Ada Admin"),
    _user("auditor", "auditor", "Aubrey Auditor"),
    _user("analyst", "fraud_analyst", "Farah Analyst"),
    _user("manager", "financial_manager", "Felix Manager"),
    _user("compliance", "compliance_officer", "Connie Compliance"),
    # a second administrator: four-eyes actions need someone other than the proposer
    _user("supervisor", "admin", "Sam Supervisor"),
    _user("alice", "customer", "Alice Johnson"),
    _user("bob", "customer", "Bob Smith"),
    _user("carol", "customer", "Carol Martinez"),
    _user("dave", "customer", "Dave Wilson"),
    _user("erin", "customer", "Erin Brown"),
    _user("frank", "customer", "Frank Miller"),
    _user("grace", "customer", "Grace Lee"),
    _user("mallory", "customer", "Mallory Quinn", kyc_status="pending"),
    _user("oakwood", "customer", "Oakwood Properties LLC"),
    _user("greenleaf", "customer", "Greenleaf Market Inc"),
    _user("citypower", "customer", "CityPower Utilities"),
)


@dataclass(frozen=True)
class DemoAccount:
    key: str  # "<username>.<name>"
    account_type: str
    currency: str
    opened_days_ago: int

    @property
    def owner(self) -> str:
        return self.key.split(".")[0]

    def opened_at(self, today: date) -> datetime:
        """When the account was opened: 08:00 UTC, its history days before `today`."""
        return datetime.combine(today - timedelta(days=self.opened_days_ago), time(8), tzinfo=UTC)


ACCOUNTS = (
    DemoAccount("alice.checking", "checking", "USD", HISTORY_DAYS),
    DemoAccount("alice.savings", "savings", "USD", HISTORY_DAYS),
    DemoAccount("alice.wallet", "wallet", "USD", 120),
    DemoAccount("bob.checking", "checking", "USD", HISTORY_DAYS),
    DemoAccount("bob.savings", "savings", "USD", HISTORY_DAYS),
    DemoAccount("carol.checking", "checking", "USD", HISTORY_DAYS),
    DemoAccount("carol.savings_eur", "savings", "EUR", HISTORY_DAYS),
    DemoAccount("dave.checking", "checking", "USD", HISTORY_DAYS),
    DemoAccount("dave.wallet", "wallet", "USD", 90),
    DemoAccount("erin.checking", "checking", "USD", HISTORY_DAYS),
    DemoAccount("erin.savings", "savings", "USD", HISTORY_DAYS),
    DemoAccount("frank.checking", "checking", "USD", HISTORY_DAYS),
    DemoAccount("grace.checking", "checking", "USD", HISTORY_DAYS),
    DemoAccount("grace.savings", "savings", "USD", HISTORY_DAYS),  # dormant until it wakes
    DemoAccount("mallory.checking", "checking", "USD", 21),
    DemoAccount("mallory.wallet", "wallet", "USD", 21),
    DemoAccount("oakwood.checking", "checking", "USD", HISTORY_DAYS + 30),
    DemoAccount("greenleaf.checking", "checking", "USD", HISTORY_DAYS + 30),
    DemoAccount("citypower.checking", "checking", "USD", HISTORY_DAYS + 30),
)
CURRENCY = {account.key: account.currency for account in ACCOUNTS}


@dataclass(frozen=True)
class Household:
    """A salaried customer's month: pay, rent, savings and the money they start with."""

    username: str
    employer: str
    salary: int  # minor units
    rent: int
    to_savings: int  # moved to savings each month, 0 without a savings account
    opening: int


HOUSEHOLDS = (
    Household("alice", "Northwind Traders", 5_200_00, 1_650_00, 600_00, 4_000_00),
    Household("bob", "Contoso Logistics", 3_950_00, 1_200_00, 300_00, 2_500_00),
    Household("carol", "Fabrikam Design", 4_400_00, 1_400_00, 0, 3_000_00),
    Household("dave", "Tailspin Toys", 3_100_00, 950_00, 0, 1_500_00),
    Household("erin", "Litware Health", 4_800_00, 1_500_00, 500_00, 3_500_00),
    Household("frank", "Adventure Works", 2_900_00, 900_00, 0, 1_200_00),
    Household("grace", "Wingtip Airlines", 3_600_00, 1_100_00, 0, 2_000_00),
)


@dataclass(frozen=True)
class Event:
    """One money movement of the demo history, amounts in minor units."""

    at: datetime
    type: str  # deposit | withdrawal | transfer
    source: str | None  # account key
    destination: str | None
    amount: int
    description: str
    actor: str  # the username who initiated it

    @property
    def currency(self) -> str:
        return CURRENCY[self.source or self.destination or ""]


class _Story:
    """Collects events; times and amounts are drawn from the seeded generator."""

    def __init__(self, rng: random.Random, end: datetime) -> None:
        self.rng, self.end, self.events = rng, end, list[Event]()
        self.opened = {account.key: account.opened_at(end.date()) for account in ACCOUNTS}

    def at(self, day: date, earliest: int = 7, latest: int = 21) -> datetime:
        hour = self.rng.randint(earliest, latest)
        return datetime.combine(
            day, time(hour, self.rng.randrange(60), self.rng.randrange(60)), tzinfo=UTC
        )

    def dollars(self, low: int, high: int) -> int:
        """An amount in minor units (with cents) between `low` and `high` dollars."""
        return self.rng.randint(low * 100, high * 100)

    def deposit(self, at: datetime, account: str, amount: int, description: str) -> None:
        self._add(Event(at, "deposit", None, account, amount, description, _owner(account)))

    def withdraw(self, at: datetime, account: str, amount: int, description: str) -> None:
        self._add(Event(at, "withdrawal", account, None, amount, description, _owner(account)))

    def transfer(
        self, at: datetime, source: str, destination: str, amount: int, description: str
    ) -> None:
        self._add(Event(at, "transfer", source, destination, amount, description, _owner(source)))

    def _add(self, event: Event) -> None:
        """Keep events of the past that touch only accounts already open."""
        touched = [key for key in (event.source, event.destination) if key is not None]
        if event.at < self.end and all(self.opened[key] <= event.at for key in touched):
            self.events.append(event)


def _owner(account_key: str) -> str:
    return account_key.split(".")[0]


def generate(*, seed: int = DEFAULT_SEED, end: datetime) -> list[Event]:
    """Every event of the demo history in time order, none of them overdrawing an account."""
    story = _Story(random.Random(seed), end)
    today = end.date()
    for account in ACCOUNTS:
        _opening(story, account, today)
    for days_ago in range(HISTORY_DAYS, -1, -1):
        day = today - timedelta(days=days_ago)
        for household in HOUSEHOLDS:
            _everyday(story, household, day)
        _carol_in_euros(story, day)
    _suspicious(story, today)
    return _affordable(sorted(story.events, key=lambda e: e.at))


def _opening(story: _Story, account: DemoAccount, today: date) -> None:
    opened = story.at(today - timedelta(days=account.opened_days_ago), 9, 16)
    amount = {
        "checking": next((h.opening for h in HOUSEHOLDS if h.username == account.owner), 0),
        "savings": 12_000_00 if account.key == "grace.savings" else 1_000_00,
        "wallet": 50_00,
    }[account.account_type]
    if amount:
        story.deposit(opened, account.key, amount, "Opening deposit")


FRIENDLY = ("Dinner", "Concert tickets", "Birthday present", "Shared taxi", "Book club")


def _everyday(story: _Story, home: Household, day: date) -> None:
    rng, at, name = story.rng, story.at, home.username
    checking, wallet = f"{name}.checking", f"{name}.wallet"
    if day.day == 1:
        bonus = rng.choice((0, 0, 0, 150_00, 320_00))
        story.deposit(at(day, 5, 7), checking, home.salary + bonus, f"Salary {home.employer}")
        story.transfer(at(day, 9, 12), checking, "oakwood.checking", home.rent, f"Rent {day:%B}")
    if day.day == 5 and home.to_savings:
        story.transfer(at(day), checking, f"{name}.savings", home.to_savings, "Monthly savings")
    if day.day == 15 + len(name) % 5:
        bill = story.dollars(55, 160)
        story.transfer(at(day), checking, "citypower.checking", bill, "Electricity and water")
    if rng.random() < 2.4 / 7:
        basket = story.dollars(18, 185)
        story.transfer(at(day, 8, 20), checking, "greenleaf.checking", basket, "Groceries")
    if rng.random() < 2.5 / 30:
        cash = rng.choice((40, 60, 80, 100, 200, 300)) * 100
        story.withdraw(at(day), checking, cash, "ATM withdrawal")
    if rng.random() < 1 / 45:
        story.deposit(at(day, 10, 17), checking, story.dollars(50, 600), "Cash deposit")
    if rng.random() < 1.2 / 30:
        friend = rng.choice([h.username for h in HOUSEHOLDS if h.username != name])
        gift = story.dollars(12, 140)
        story.transfer(at(day, 11, 22), checking, f"{friend}.checking", gift, rng.choice(FRIENDLY))
    if wallet in CURRENCY:
        if day.day == 8:
            story.transfer(at(day), checking, wallet, 150_00, "Wallet top-up")
        if rng.random() < 4 / 30:
            snack = story.dollars(3, 25)
            story.transfer(at(day, 7, 19), wallet, "greenleaf.checking", snack, "Coffee and snacks")


def _carol_in_euros(story: _Story, day: date) -> None:
    if day.day == 10:
        story.deposit(story.at(day), "carol.savings_eur", 400_00, "Savings plan (EUR)")
    if story.rng.random() < 1 / 60:
        cash = story.dollars(60, 250)
        story.withdraw(story.at(day), "carol.savings_eur", cash, "Cash withdrawal in Lisbon")


def _suspicious(story: _Story, today: date) -> None:
    rng, at = story.rng, story.at

    def day(days_ago: int) -> date:
        return today - timedelta(days=days_ago)

    # Structuring: cash deposits just under the 10,000 reporting threshold, days apart.
    for days_ago in (22, 21, 19, 18):
        amount = rng.randint(9_000, 9_900) * 100
        story.deposit(at(day(days_ago), 10, 16), "dave.checking", amount, "Cash deposit")
    # A large cash deposit over the threshold.
    story.deposit(at(day(12), 11, 11), "erin.checking", 14_500_00, "Cash deposit - car sale")
    # Account takeover: a burst of night-time transfers from alice to a new account.
    night = datetime.combine(day(6), time(1, 52, 10), tzinfo=UTC)
    for burst in range(7):
        moment = night + timedelta(minutes=13 * burst, seconds=rng.randrange(60))
        amount = story.dollars(350, 950)
        story.transfer(moment, "alice.checking", "mallory.checking", amount, "Payment")
    # Rapid pass-through: money in and straight out again the same day.
    story.deposit(at(day(4), 10, 10), "frank.checking", 8_500_00, "Incoming funds")
    story.transfer(at(day(4), 15, 15), "frank.checking", "mallory.checking", 8_400_00, "Invoice")
    # A dormant savings account woken by a large transfer out.
    story.transfer(at(day(9), 14, 14), "grace.savings", "bob.checking", 9_800_00, "Used car")
    # Fan-in: many accounts paying into one wallet within a day and a half.
    start = datetime.combine(day(2), time(8, 0), tzinfo=UTC)
    for index, sender in enumerate(FAN_IN_SENDERS):
        moment = start + timedelta(hours=3.7 * index, minutes=rng.randrange(50))
        amount = story.dollars(40, 95) if sender.endswith("wallet") else story.dollars(150, 480)
        reason = rng.choice(("Ticket resale", "Gift card", "Invoice 4411", "Sublet deposit"))
        story.transfer(moment, sender, "mallory.wallet", amount, reason)
    # The mule takes the money out in cash.
    story.withdraw(at(day(1), 12, 12), "mallory.checking", 9_000_00, "Cash withdrawal")


FAN_IN_SENDERS = (
    "alice.wallet",
    "bob.checking",
    "carol.checking",
    "dave.checking",
    "erin.checking",
    "frank.checking",
    "grace.checking",
    "bob.savings",
    "erin.savings",
)


def _affordable(events: list[Event]) -> list[Event]:
    """Drop the everyday spending a customer could not have afforded at that moment."""
    balances: dict[str, int] = {}
    kept = []
    for event in events:
        if event.source is not None and balances.get(event.source, 0) < event.amount:
            continue
        if event.source is not None:
            balances[event.source] -= event.amount
        if event.destination is not None:
            balances[event.destination] = balances.get(event.destination, 0) + event.amount
        kept.append(event)
    return kept
