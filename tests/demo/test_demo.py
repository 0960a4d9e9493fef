"""The demo bank: users of every role, accounts, sound history with the suspicious patterns."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import aliased
from typer.testing import CliRunner

from ledgerbank import errors
from ledgerbank.cli import app as cli_app
from ledgerbank.config import get_settings
from ledgerbank.demo.history import ACCOUNTS, USERS, generate
from ledgerbank.identity.passwords import check_password_policy
from ledgerbank.identity.permissions import Role
from ledgerbank.identity.tables import users
from ledgerbank.kit.db import Database
from ledgerbank.ledger import integrity
from ledgerbank.ledger.tables import accounts, entries, transactions


def invoke(database_url: str, *args: str) -> object:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(
            cli_app, list(args), env={"LEDGERBANK_DATABASE_URL": database_url, "COLUMNS": "200"}
        )
    finally:
        get_settings.cache_clear()


@dataclass(frozen=True)
class Movement:
    type: str
    amount: int
    at: datetime
    source: str | None  # "<owner>.<account type>"
    destination: str | None


def movements(conn: Connection) -> list[Movement]:
    source, destination = aliased(accounts), aliased(accounts)
    source_owner, destination_owner = aliased(users), aliased(users)
    rows = conn.execute(
        select(
            transactions.c.type,
            transactions.c.amount,
            transactions.c.created_at,
            source_owner.c.username,
            source.c.account_type,
            destination_owner.c.username,
            destination.c.account_type,
        )
        .outerjoin(source, source.c.id == transactions.c.from_account_id)
        .outerjoin(source_owner, source_owner.c.id == source.c.owner_id)
        .outerjoin(destination, destination.c.id == transactions.c.to_account_id)
        .outerjoin(destination_owner, destination_owner.c.id == destination.c.owner_id)
        .order_by(transactions.c.created_at)
    )
    return [
        Movement(
            row[0],
            int(row[1]),
            row[2],
            f"{row[3]}.{row[4]}" if row[3] else None,
            f"{row[5]}.{row[6]}" if row[5] else None,
        )
        for row in rows
    ]


def counts(conn: Connection) -> dict[str, int]:
    """Rows per table; `accounts` counts customer accounts only."""
    found = {
        table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        for table in (users, transactions, entries)
    }
    found["accounts"] = conn.execute(
        select(func.count()).select_from(accounts).where(accounts.c.is_internal == 0)
    ).scalar_one()
    return found


def test_demo_load_builds_a_sound_bank_with_every_role_and_the_suspicious_patterns(
    database: Database, database_url: str
) -> None:
    loaded = invoke(database_url, "demo", "load", "--if-empty", "--seed", "7")

    assert loaded.exit_code == 0, loaded.output
    for user in USERS:
        assert f"{user.username} " in loaded.output
        assert user.password in loaded.output
    with database.read() as conn:
        roles = set(conn.execute(select(users.c.role)).scalars())
        assert roles == {role.value for role in Role}
        assert integrity.violations(conn) == []
        sheet = conn.execute(
            text(
                "SELECT currency, assets_minor, liabilities_minor, equity_minor, "
                "difference_minor FROM vw_balance_sheet"
            )
        ).all()
        history = movements(conn)
        before = counts(conn)
        opened_after_first_entry = conn.execute(
            select(accounts.c.account_number)
            .join(entries, entries.c.account_id == accounts.c.id)
            .where(entries.c.posted_at < accounts.c.created_at, accounts.c.is_internal == 0)
        ).all()
        joined_after_opening = conn.execute(
            select(users.c.username)
            .join(accounts, accounts.c.owner_id == users.c.id)
            .where(accounts.c.created_at <= users.c.created_at)
        ).all()
        joined = dict(conn.execute(select(users.c.username, users.c.created_at)).all())
    assert {row[0] for row in sheet} == {"USD", "EUR"}
    for _currency, assets, liabilities, equity, difference in sheet:
        assert (difference, assets) == (0, liabilities + equity)  # equity: fees, FX, interest
    assert (before["users"], before["accounts"]) == (len(USERS), len(ACCOUNTS))
    # the bank has been running for months: people and accounts date from before their history
    assert opened_after_first_entry == joined_after_opening == []
    assert joined["alice"] < history[0].at
    assert joined["mallory"] > history[-1].at - timedelta(days=30)
    assert joined["admin"] < joined["alice"]
    assert len(history) > 500
    last = history[-1].at
    assert history[0].at < last - timedelta(days=175)
    assert last > datetime.now(UTC) - timedelta(days=2)

    # structuring: several cash deposits of 9,000-9,900 within a week
    near_threshold = [
        m.at
        for m in history
        if m.type == "deposit"
        and m.destination == "dave.checking"
        and 9_000_00 <= m.amount <= 9_900_00
    ]
    assert len(near_threshold) >= 3
    assert max(near_threshold) - min(near_threshold) <= timedelta(days=7)
    # a large cash deposit over 10,000
    assert any(m.type == "deposit" and m.amount > 10_000_00 for m in history)
    # a night-time burst from alice's checking
    night = [
        m.at
        for m in history
        if m.source == "alice.checking" and m.type == "transfer" and m.at.hour < 5
    ]
    assert len(night) >= 5
    assert max(night) - min(night) <= timedelta(hours=2)
    # a rapid pass-through: in and out of frank's account within a day
    big_in = [m for m in history if m.destination == "frank.checking" and m.amount >= 8_000_00]
    big_out = [m for m in history if m.source == "frank.checking" and m.amount >= 8_000_00]
    assert any(timedelta(0) < o.at - i.at < timedelta(days=1) for i in big_in for o in big_out)
    # a dormant account reactivated with a large amount
    dormant = [
        m
        for m in history
        if "grace.savings" in (m.source, m.destination) and m.type != "journal"  # not interest
    ]
    assert len(dormant) == 2
    assert dormant[1].at - dormant[0].at > timedelta(days=120)
    assert dormant[1].amount >= 5_000_00
    # fan-in: many accounts paying into one within two days
    senders_by_target: dict[str, set[str]] = defaultdict(set)
    for m in history:
        if m.type == "transfer" and m.at > last - timedelta(days=3) and m.destination:
            senders_by_target[m.destination].add(m.source or "")
    assert max(len(senders) for senders in senders_by_target.values()) >= 8

    again = invoke(database_url, "demo", "load", "--if-empty")
    refused = invoke(database_url, "demo", "load")

    assert again.exit_code == 0
    assert "already has users" in again.output
    assert isinstance(refused.exception, errors.Conflict)
    with database.read() as conn:
        assert counts(conn) == before


def test_demo_history_is_deterministic_and_never_overdraws() -> None:
    end = datetime(2026, 6, 30, 18, 0, tzinfo=UTC)

    first, same, other = (
        generate(seed=1, end=end),
        generate(seed=1, end=end),
        generate(seed=2, end=end),
    )

    assert first == same
    assert first != other
    assert [e.at for e in first] == sorted(e.at for e in first)
    assert first[-1].at < end
    opened = {account.key: account.opened_at(end.date()) for account in ACCOUNTS}
    balances: dict[str, int] = defaultdict(int)
    for event in first:
        assert all(opened[key] <= event.at for key in (event.source, event.destination) if key)
        if event.source:
            balances[event.source] -= event.amount
            assert balances[event.source] >= 0, event
        if event.destination:
            balances[event.destination] += event.amount
        assert event.amount > 0


def test_demo_passwords_satisfy_the_password_policy() -> None:
    for user in USERS:
        check_password_policy(user.password, username=user.username)
    assert {user.role for user in USERS} == {role.value for role in Role}
