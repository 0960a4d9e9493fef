"""Loading the demo bank: its users, their accounts and months of history, through the ledger.

History is posted by the ledger's own posting functions, in time order and with each event's
original moment (`occurred_at`), so balances after each entry, statements and point-in-time
balances come out as if the bank had been running all along. It is posted in chunks, one
database transaction per chunk.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, select, update

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.demo.history import (
    ACCOUNTS,
    DEFAULT_SEED,
    HOUSEHOLDS,
    USERS,
    DemoUser,
    Event,
    generate,
)
from ledgerbank.identity import pins, second_factor
from ledgerbank.identity import service as identity
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.kit.keys import Keyring
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.kit.sealed import Sealer
from ledgerbank.ledger import hold_orders, posting
from ledgerbank.ledger.accounts import open_account
from ledgerbank.ledger.limits import DailyLimits
from ledgerbank.ledger.money import Caller, MoneyRequest, MoneyService
from ledgerbank.ledger.screening import NO_SCREEN, Screen
from ledgerbank.ledger.tables import accounts
from ledgerbank.payments import service as payments

CHUNK_SIZE = 500
# Staff joined the bank well before the six months of history.
STAFF_SINCE_DAYS = 400


@dataclass(frozen=True)
class DemoAccountOpened:
    owner: str
    account_type: str
    currency: str
    account_number: str


@dataclass(frozen=True)
class DemoBank:
    """What was loaded: the users (with their demo passwords), accounts and history."""

    users: Sequence[DemoUser]
    accounts: Sequence[DemoAccountOpened]
    transactions: int
    first_posted_at: datetime
    last_posted_at: datetime


@dataclass(frozen=True)
class _Opened:
    user_ids: dict[str, int]
    account_ids: dict[str, int]
    accounts: list[DemoAccountOpened]


def has_users(conn: Connection) -> bool:
    return conn.execute(select(users.c.id).limit(1)).first() is not None


def load(
    database: Database,
    *,
    seed: int = DEFAULT_SEED,
    screen: Screen = NO_SCREEN,
    now: datetime | None = None,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[int, int], None] | None = None,
    pin_keyring: Keyring | None = None,
    sealer: Sealer | None = None,
) -> DemoBank:
    """Create the demo users and accounts, then post their history ending at `now`.

    With `pin_keyring` (the server's PIN keys) the customers get their demo transaction PIN;
    with `sealer` the staff's published TOTP secrets are stored sealed (else in plain text,
    sealed when first checked)."""
    now = now or utcnow()
    events = generate(seed=seed, end=now)
    opened = database.write(lambda conn: _open_bank(conn, now, pin_keyring, sealer))
    for start in range(0, len(events), chunk_size):
        chunk = events[start : start + chunk_size]
        database.write(functools.partial(_post, events=chunk, opened=opened, screen=screen))
        if progress is not None:
            progress(start + len(chunk), len(events))
    _place_holds(database, opened, screen)
    database.write(lambda conn: _record_loaded(conn, opened, seed, len(events)))
    database.write(lambda conn: _standing_order(conn, opened, now))
    return DemoBank(USERS, opened.accounts, len(events), events[0].at, events[-1].at)


def _open_bank(
    conn: Connection, now: datetime, pin_keyring: Keyring | None, sealer: Sealer | None
) -> _Opened:
    taken = conn.execute(
        select(users.c.username).where(users.c.username.in_([u.username for u in USERS]))
    ).scalars()
    if found := sorted(taken):
        raise errors.Conflict(f"the demo bank is already loaded (user {found[0]!r} exists)")
    user_ids = {
        user.username: int(
            identity.create_user(
                conn,
                username=user.username,
                password=user.password,
                email=f"{user.username}@example.com",
                full_name=user.full_name,
                role=user.role,
                kyc_status=user.kyc_status,
            )["id"]
        )
        for user in USERS
    }
    for user in USERS:
        if pin_keyring is not None and user.pin is not None:
            user_id = user_ids[user.username]
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(pin_hash=pins.hash_pin(pin_keyring, user_id, user.pin))
            )
        if user.totp_secret is not None:  # staff: enrolled, with the published demo secret
            user_id = user_ids[user.username]
            stored = user.totp_secret
            if sealer is not None:
                stored = sealer.seal(stored, purpose=second_factor.purpose(user_id))
            conn.execute(
                update(users)
                .where(users.c.id == user_id)
                .values(totp_secret=stored, totp_enabled_at=now)
            )
    account_ids: dict[str, int] = {}
    opened: list[DemoAccountOpened] = []
    staff_since = now - timedelta(days=STAFF_SINCE_DAYS)
    joined = {u.username: staff_since for u in USERS if u.role != "customer"}
    for account in ACCOUNTS:
        row = open_account(
            conn,
            owner_id=user_ids[account.owner],
            account_type=account.account_type,
            currency=account.currency,
        )
        account_ids[account.key] = int(row["id"])
        opened.append(
            DemoAccountOpened(
                account.owner, account.account_type, account.currency, row["account_number"]
            )
        )
        # The bank has been running for months: accounts and customers date from then.
        since = account.opened_at(now.date())
        _backdate(conn, accounts, int(row["id"]), since)
        day_before = since - timedelta(days=1)
        joined[account.owner] = min(joined.get(account.owner, day_before), day_before)
    for username, since in joined.items():
        _backdate(conn, users, user_ids[username], since)
    return _Opened(user_ids, account_ids, opened)


def _backdate(conn: Connection, table: Table, row_id: int, moment: datetime) -> None:
    conn.execute(
        update(table).where(table.c.id == row_id).values(created_at=moment, updated_at=moment)
    )


def _post(conn: Connection, events: Sequence[Event], opened: _Opened, screen: Screen) -> None:
    ids = opened.account_ids
    for event in events:
        common: dict[str, Any] = {
            "amount": to_decimal_string(event.amount, event.currency),
            "actor_id": opened.user_ids[event.actor],
            "description": event.description,
            "screen": screen,
            "occurred_at": event.at,
        }
        if event.type == "deposit":
            assert event.destination is not None
            posting.deposit(conn, account_id=ids[event.destination], **common)
        elif event.type == "withdrawal":
            assert event.source is not None
            posting.withdraw(conn, account_id=ids[event.source], **common)
        else:
            assert event.source is not None
            assert event.destination is not None
            posting.transfer(
                conn,
                from_account_id=ids[event.source],
                to_account_id=ids[event.destination],
                **common,
            )


def _place_holds(database: Database, opened: _Opened, screen: Screen) -> None:
    """Two card payments on alice's checking account through the money service: a hotel's
    hold still pending, and a coffee shop's hold captured."""
    # the admin places and captures holds: no PIN is checked and no customer limit applies
    unused = Keyring("demo", {"demo": b"the demo's admin sends no PIN"})
    limits = DailyLimits("0", "0", "0", "0")
    money = MoneyService(
        database, lambda: screen, keyring=unused, limits=limits, max_major=Decimal(10**9)
    )
    admin = Caller(opened.user_ids["admin"], "admin")
    account = opened.account_ids["alice.checking"]
    for amount, description in (("120.00", "Harbour Hotel"), ("4.50", "Corner Coffee")):
        placed = money.run(MoneyRequest(admin, hold_orders.PlaceHold(account, amount, description)))
        if placed.status != 201:
            raise errors.Conflict(f"the demo hold was refused: {placed.body.get('detail')}")
    captured = money.run(MoneyRequest(admin, hold_orders.CaptureHold(int(placed.body["id"]))))
    if captured.status != 200:
        raise errors.Conflict(f"the demo capture was refused: {captured.body.get('detail')}")


def _standing_order(conn: Connection, opened: _Opened, now: datetime) -> None:
    """Alice pays her rent to Oakwood by standing order from next month on (the worker pays it
    on the 1st; the history above paid the months before by hand)."""
    rent = next(h.rent for h in HOUSEHOLDS if h.username == "alice")
    today = now.date()
    first = date(today.year + today.month // 12, today.month % 12 + 1, 1)
    payments.create(
        conn,
        owner_id=opened.user_ids["alice"],
        from_account_id=opened.account_ids["alice.checking"],
        to_account_id=opened.account_ids["oakwood.checking"],
        amount=rent,
        currency="USD",
        frequency="monthly",
        first_date=first,
        until=None,
        description="Rent (standing order)",
        now=now,
    )


def _record_loaded(conn: Connection, opened: _Opened, seed: int, transactions: int) -> None:
    audit.record(
        conn,
        actor_id=opened.user_ids["admin"],
        action="demo.loaded",
        entity_type="demo",
        entity_id=seed,
        after={
            "seed": seed,
            "users": len(opened.user_ids),
            "accounts": len(opened.account_ids),
            "transactions": transactions,
        },
    )
