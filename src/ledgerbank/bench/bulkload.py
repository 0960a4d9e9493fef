"""A large bank for the reports benchmark, bulk-loaded with multi-row INSERTs in chunks.

The history is simulated in time order, as a bank lives it: customers join, salaries arrive
on the first days of each month, rents go to landlords, and everyday deposits, withdrawals,
transfers (some between one's own accounts) and fees fill the rest, with more spending before
Christmas and the odd one-off purchase. A few attempts are blocked by risk, some are flagged
suspicious, a few are reversed at once, and large cash raises compliance alerts.

The loader writes transactions, entries (each with the account's `balance_after`), risk scores
and alerts directly, chunk by chunk; every chunk is one database transaction that also sets
the balances of the accounts it touched, so the ledger's invariants hold after each commit
(`vw_ledger_integrity_check` stays empty). It does not go through the posting engine: that is
the point of a bulk load, and the posting engine has its own benchmark.
"""

from __future__ import annotations

import math
import random
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, insert, select, text, update

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.kit.money import exponent
from ledgerbank.ledger.accounts import internal_account_id, luhn_check_digit
from ledgerbank.ledger.tables import accounts, entries, transactions
from ledgerbank.migrations import is_current
from ledgerbank.risk.tables import risk_alert_actions, risk_alerts, risk_scores

BENCH_PREFIX = "bench_reports_"
PASSWORD_PLACEHOLDER = "!bench: no password, nobody signs in as a generated customer"
# Typical amounts in major units (USD and EUR; yen amounts are 150 times larger).
TYPICAL = {"deposit": 300.0, "withdrawal": 80.0, "transfer": 150.0}
YEN_PER_DOLLAR = 150
SEASON = {11: 1.2, 12: 1.5, 1: 0.85, 7: 1.1, 8: 1.1}  # month -> spending factor
LARGE_CASH = 10_000  # major units: cash at or above this raises a compliance alert


@dataclass
class Plan:
    """What to load."""

    transactions: int = 1_000_000
    customers: int = 10_000
    months: int = 24
    chunk: int = 50_000
    seed: int = 7
    end: datetime = field(default_factory=utcnow)


@dataclass
class Account:
    id: int
    owner: int
    kind: str
    currency: str
    balance: int = 0


@dataclass
class Customer:
    id: int
    joined: datetime
    checking: Account
    savings: Account | None
    wallets: list[Account]
    salary: int  # minor units of USD, each month
    rent: int  # 0: no rent
    landlord: Account | None = None


# Columns in the order the loader builds rows, with their PostgreSQL types (see _insert_rows).
TRANSACTION_COLUMNS = {
    "id": "bigint", "type": "text", "status": "text", "amount": "bigint", "currency": "text",
    "from_account_id": "bigint", "to_account_id": "bigint", "description": "text",
    "reverses_id": "bigint", "created_at": "timestamp",
}  # fmt: skip
ENTRY_COLUMNS = {
    "id": "bigint", "transaction_id": "bigint", "account_id": "bigint", "amount": "bigint",
    "currency": "text", "balance_after": "bigint", "posted_at": "timestamp",
}  # fmt: skip
SCORE_COLUMNS = {
    "transaction_id": "bigint", "score": "float8", "verdict": "text", "reasons": "text",
    "model_version": "text", "scored_at": "timestamp",
}  # fmt: skip
ROWS_PER_INSERT = 500


@dataclass
class Batch:
    """Rows of one chunk, in column order, ready for multi-row INSERTs."""

    transactions: list[tuple[Any, ...]] = field(default_factory=list)
    entries: list[tuple[Any, ...]] = field(default_factory=list)
    scores: list[tuple[Any, ...]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    touched: dict[int, Account] = field(default_factory=dict)


def check_empty(database: Database, *, force: bool) -> None:
    """Refuse an unmigrated database, and a non-empty one unless forced."""
    if not is_current(database.engine):
        raise errors.ServiceUnavailable("the database is not migrated: run `ledgerbank db upgrade`")
    with database.read() as conn:
        held = conn.execute(select(func.count()).select_from(transactions)).scalar_one()
        people = conn.execute(select(func.count()).select_from(users)).scalar_one()
    if (held or people) and not force:
        raise errors.Conflict(
            f"the database is not empty ({people} users, {held} transactions): point "
            "--database-url at a database of its own, or pass --force to add to it"
        )


class Loader:
    """Simulates the bank's history and writes it, chunk by chunk."""

    def __init__(self, database: Database, plan: Plan) -> None:
        self.database = database
        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.tag = secrets.token_hex(3)
        self.start = plan.end - timedelta(days=round(plan.months * 30.44))
        self.customers: list[Customer] = []
        self.vaults: dict[str, int] = {}
        self.fee_income: dict[str, int] = {}
        self.next_transaction = 0
        self.next_entry = 0
        self.written = 0
        self.sqlite = database.dialect == "sqlite"

    def stamp(self, at: datetime) -> Any:
        """A timestamp as `UTCDateTime` stores it: naive UTC, as text on SQLite."""
        naive = at.astimezone(UTC).replace(tzinfo=None)
        return naive.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else naive

    # --- set-up -----------------------------------------------------------------------------

    def _next_ids(self, conn: Connection) -> None:
        self.next_transaction = (
            int(conn.execute(select(func.max(transactions.c.id))).scalar() or 0) + 1
        )
        self.next_entry = int(conn.execute(select(func.max(entries.c.id))).scalar() or 0) + 1

    def open_bank(self) -> None:
        """Customers, their accounts, and the bank's own accounts per currency."""
        self.database.write(self._open_bank)

    def _open_bank(self, conn: Connection) -> None:
        for currency in ("USD", "EUR", "JPY"):
            self.vaults[currency] = internal_account_id(conn, currency, "cash_vault")
            self.fee_income[currency] = internal_account_id(conn, currency, "fee_income")
        rng, plan = self.rng, self.plan
        span = (plan.end - self.start).total_seconds()
        people = []
        for index in range(plan.customers):
            # Most customers were there before the history starts; a fifth join during it.
            if rng.random() < 0.8:
                joined = self.start - timedelta(days=rng.uniform(1, 700))
            else:
                joined = self.start + timedelta(seconds=rng.uniform(0, span * 0.9))
            people.append(
                {
                    "username": f"{BENCH_PREFIX}{self.tag}_{index}",
                    "email": f"customer{index}.{self.tag}@bench.example",
                    "full_name": f"Customer {index}",
                    "role": "customer",
                    "kyc_status": "verified",
                    "password_hash": PASSWORD_PLACEHOLDER,
                    "created_at": joined,
                    "updated_at": joined,
                }
            )
        conn.execute(insert(users), people)
        found = conn.execute(
            select(users.c.id, users.c.username, users.c.created_at).where(
                users.c.username.like(f"{BENCH_PREFIX}{self.tag}_%")
            )
        ).all()
        by_name = {row.username: (int(row.id), row.created_at) for row in found}
        taken = set(conn.execute(select(accounts.c.account_number)).scalars())
        serial = rng.randrange(10**8)
        opened: list[dict[str, Any]] = []

        def account_row(owner: int, kind: str, currency: str, at: datetime) -> dict[str, Any]:
            nonlocal serial
            while True:
                serial = (serial + 7919) % 10**9
                body = f"40{serial:09d}"
                number = body + luhn_check_digit(body)
                if number not in taken:
                    taken.add(number)
                    break
            row = {
                "account_number": number,
                "owner_id": owner,
                "account_type": kind,
                "is_internal": 0,
                "currency": currency,
                "balance": 0,
                "overdraft_limit": 0,
                "status": "active",
                "created_at": at,
                "updated_at": at,
            }
            opened.append(row)
            return row

        shapes = []
        for index in range(plan.customers):
            owner, joined = by_name[f"{BENCH_PREFIX}{self.tag}_{index}"]
            kinds = [("checking", "USD")]
            if rng.random() < 0.5:
                kinds.append(("savings", "USD"))
            if rng.random() < 0.1:
                kinds.append(("wallet", "EUR"))
            if rng.random() < 0.03:
                kinds.append(("wallet", "JPY"))
            shapes.append((owner, joined, [account_row(owner, k, c, joined) for k, c in kinds]))
        conn.execute(insert(accounts), opened)
        ids = {
            row.account_number: int(row.id)
            for row in conn.execute(
                select(accounts.c.id, accounts.c.account_number).where(
                    accounts.c.account_number.in_([r["account_number"] for r in opened])
                )
            )
        }
        for owner, joined, rows in shapes:
            held = [
                Account(ids[r["account_number"]], owner, r["account_type"], r["currency"])
                for r in rows
            ]
            salary = int(rng.lognormvariate(math.log(3500), 0.35)) * 100
            rent = int(rng.lognormvariate(math.log(1200), 0.3)) * 100 if rng.random() < 0.6 else 0
            self.customers.append(
                Customer(
                    id=owner,
                    joined=joined,
                    checking=held[0],
                    savings=next((a for a in held if a.kind == "savings"), None),
                    wallets=[a for a in held if a.kind == "wallet"],
                    salary=salary,
                    rent=rent,
                )
            )
        landlords = self.customers[: max(1, len(self.customers) // 100)]
        for customer in self.customers:
            if customer.rent and customer not in landlords:
                customer.landlord = rng.choice(landlords).checking
            else:
                customer.rent = 0
        self._next_ids(conn)

    # --- the simulation ---------------------------------------------------------------------

    def months(self) -> Iterator[tuple[datetime, datetime]]:
        cursor = datetime(self.start.year, self.start.month, 1, tzinfo=UTC)
        while cursor < self.plan.end:
            following = datetime(
                cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1, tzinfo=UTC
            )
            yield max(cursor, self.start), min(following, self.plan.end)
            cursor = following

    def _amount(self, kind: str, currency: str, factor: float = 1.0) -> int:
        major = self.rng.lognormvariate(math.log(TYPICAL[kind] * factor), 0.8)
        if self.rng.random() < 0.002:
            major *= 25  # the odd one-off purchase
        if currency == "JPY":
            return max(1, int(major * YEN_PER_DOLLAR))
        return max(1, int(major * 10 ** exponent(currency)))

    def events(
        self, first: datetime, last: datetime, budget: int
    ) -> list[tuple[datetime, str, Any]]:
        """The month's events in time order: salaries, rents, then `budget` everyday ones."""
        rng = self.rng
        found: list[tuple[datetime, str, Any]] = []
        members = [c for c in self.customers if c.joined < last]
        if not members:
            return found
        span = (last - first).total_seconds()
        for customer in members:
            payday = first + timedelta(hours=8, minutes=customer.id % 600)
            if customer.joined < payday < last:
                found.append((payday, "salary", customer))
            rent_day = first + timedelta(days=2, hours=9, minutes=customer.id % 700)
            if customer.rent and customer.joined < rent_day < last:
                found.append((rent_day, "rent", customer))
        everyday = max(0, budget - len(found))
        for _ in range(everyday):
            found.append(
                (first + timedelta(seconds=rng.uniform(0, span)), "everyday", rng.choice(members))
            )
        found.sort(key=lambda event: event[0])
        return found

    def transaction(
        self,
        batch: Batch,
        at: datetime,
        kind: str,
        amount: int,
        currency: str,
        source: Account | None,
        target: Account | None,
        *,
        status: str = "posted",
        description: str | None = None,
        reverses: int | None = None,
    ) -> int:
        """Append one transaction (and, unless blocked, its entries) to the batch."""
        transaction_id = self.next_transaction
        self.next_transaction += 1
        stamp = self.stamp(at)
        batch.transactions.append(
            (
                transaction_id,
                kind,
                status,
                amount,
                currency,
                source.id if source else None,
                target.id if target else None,
                description,
                reverses,
                stamp,
            )
        )
        if status == "blocked":
            return transaction_id
        internal = self.fee_income[currency] if kind == "fee" else self.vaults[currency]
        legs: list[tuple[int, int, Account | None]] = [
            (source.id if source else internal, -amount, source),
            (target.id if target else internal, amount, target),
        ]
        for account_id, signed, held in legs:
            balance_after = None
            if held is not None:
                held.balance += signed
                balance_after = held.balance
                batch.touched[held.id] = held
            batch.entries.append(
                (
                    self.next_entry,
                    transaction_id,
                    account_id,
                    signed,
                    currency,
                    balance_after,
                    stamp,
                )
            )
            self.next_entry += 1
        return transaction_id

    def score(self, batch: Batch, transaction_id: int, at: datetime, verdict: str) -> None:
        value = {"SAFE": 0.02, "SUSPICIOUS": 0.5, "CRITICAL": 0.8}[
            verdict
        ] + self.rng.random() * 0.19
        batch.scores.append(
            (transaction_id, round(value, 4), verdict, "[]", "bench", self.stamp(at))
        )

    def alert(
        self,
        batch: Batch,
        queue: str,
        rule: str | None,
        transaction_id: int,
        account: Account,
        at: datetime,
        verdict: str,
    ) -> None:
        age = (self.plan.end - at).days
        status = (
            "closed"
            if age > 60 or self.rng.random() < 0.3
            else self.rng.choice(
                ["open", "investigating"] if queue == "fraud" else ["open", "escalated", "reported"]
            )
        )
        batch.alerts.append(
            {
                "queue": queue,
                "transaction_id": transaction_id,
                "account_id": account.id,
                "rule_id": rule,
                "severity": "high" if verdict == "CRITICAL" or rule else "medium",
                "status": status,
                "score": 0.6,
                "verdict": verdict,
                "summary": f"bench {rule or 'model'}",
                "hits": 1,
                "resolution": ("reported" if rule else "false_positive")
                if status == "closed"
                else None,
                "resolved_at": at + timedelta(days=3) if status == "closed" else None,
                "created_at": at,
                "updated_at": at,
            }
        )

    def everyday(self, batch: Batch, at: datetime, customer: Customer) -> None:
        """One everyday movement of the customer, within the funds they have."""
        rng = self.rng
        held = [
            customer.checking,
            *([customer.savings] if customer.savings else []),
            *customer.wallets,
        ]
        account = rng.choice(held) if rng.random() < 0.3 else customer.checking
        currency = account.currency
        season = SEASON.get(at.month, 1.0)
        roll = rng.random()
        if roll < 0.22 or account.balance <= 100:
            amount = self._amount("deposit", currency)
            transaction_id = self.transaction(batch, at, "deposit", amount, currency, None, account)
            self._screen(batch, transaction_id, at, "deposit", amount, currency, account)
            return
        if roll < 0.25:
            amount = min(account.balance, rng.choice([250, 500, 1000, 1500]))
            self.transaction(
                batch, at, "fee", amount, currency, account, None, description="Account fee"
            )
            return
        kind = "withdrawal" if roll < 0.58 else "transfer"
        amount = min(self._amount(kind, currency, season), account.balance)
        target: Account | None = None
        description = None
        if kind == "transfer":
            if customer.savings and account is customer.checking and rng.random() < 0.15:
                target, description = customer.savings, "Savings"
            else:
                same = [
                    a
                    for a in (rng.choice(self.customers).checking for _ in range(3))
                    if a.currency == currency and a is not account
                ]
                if not same:
                    kind, target = "withdrawal", None
                else:
                    target = same[0]
        if rng.random() < 0.005:  # blocked by risk: recorded, nothing moves
            transaction_id = self.transaction(
                batch, at, kind, amount, currency, account, target, status="blocked"
            )
            self.score(batch, transaction_id, at, "CRITICAL")
            self.alert(batch, "fraud", None, transaction_id, account, at, "CRITICAL")
            return
        reversed_now = rng.random() < 0.001
        transaction_id = self.transaction(
            batch, at, kind, amount, currency, account, target,
            status="reversed" if reversed_now else "posted", description=description,
        )  # fmt: skip
        self._screen(batch, transaction_id, at, kind, amount, currency, account)
        if reversed_now:  # reversed at once: the next transaction, at the same moment
            self.transaction(
                batch, at, "reversal", amount, currency, target, account,
                description=f"Reversal of #{transaction_id}: bench", reverses=transaction_id,
            )  # fmt: skip

    def _screen(
        self,
        batch: Batch,
        transaction_id: int,
        at: datetime,
        kind: str,
        amount: int,
        currency: str,
        account: Account,
    ) -> None:
        suspicious = self.rng.random() < 0.02
        self.score(batch, transaction_id, at, "SUSPICIOUS" if suspicious else "SAFE")
        if suspicious:
            self.alert(batch, "fraud", None, transaction_id, account, at, "SUSPICIOUS")
        threshold = LARGE_CASH * (YEN_PER_DOLLAR if currency == "JPY" else 10 ** exponent(currency))
        if kind in ("deposit", "withdrawal") and amount >= threshold:
            self.alert(
                batch,
                "compliance",
                "large_cash",
                transaction_id,
                account,
                at,
                "SUSPICIOUS" if suspicious else "SAFE",
            )

    def salary(self, batch: Batch, at: datetime, customer: Customer) -> None:
        transaction_id = self.transaction(
            batch,
            at,
            "deposit",
            customer.salary,
            "USD",
            None,
            customer.checking,
            description="Salary",
        )
        self.score(batch, transaction_id, at, "SAFE")

    def rent(self, batch: Batch, at: datetime, customer: Customer) -> None:
        amount = min(customer.rent, customer.checking.balance)
        if amount <= 0 or customer.landlord is None:
            return
        transaction_id = self.transaction(
            batch,
            at,
            "transfer",
            amount,
            "USD",
            customer.checking,
            customer.landlord,
            description="Rent",
        )
        self.score(batch, transaction_id, at, "SAFE")

    # --- writing ----------------------------------------------------------------------------

    def write(self, batch: Batch) -> None:
        """One chunk in one database transaction: rows, then the touched accounts' balances."""

        def unit(conn: Connection) -> None:
            if conn.dialect.name == "sqlite":
                # A big page cache: the random-order index inserts of a bulk load need it.
                conn.exec_driver_sql("PRAGMA cache_size = -1000000")
            for table, columns, rows in (
                (transactions, TRANSACTION_COLUMNS, batch.transactions),
                (entries, ENTRY_COLUMNS, batch.entries),
                (risk_scores, SCORE_COLUMNS, batch.scores),
            ):
                _insert_rows(conn, table.name, columns, rows)
            if batch.alerts:
                self._insert_alerts(conn, batch.alerts)
            _set_balances(conn, list(batch.touched.values()))

        self.database.write(unit)
        self.written += len(batch.transactions)

    def _insert_alerts(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        _insert(conn, risk_alerts, rows)
        filed = conn.execute(
            select(risk_alerts.c.id, risk_alerts.c.created_at).where(
                risk_alerts.c.transaction_id.in_(
                    [
                        r["transaction_id"]
                        for r in rows
                        if r["rule_id"] and r["status"] in ("reported", "closed")
                    ]
                )
            )
        ).all()
        _insert(
            conn,
            risk_alert_actions,
            [
                {"alert_id": row.id, "action": "file_report", "note": "bench", "actor_id": None,
                 "created_at": row.created_at + timedelta(days=1)}
                for row in filed
            ],
        )  # fmt: skip

    def run(self, progress: Callable[[int], None]) -> int:
        """Simulate and write the whole history; returns the number of transactions written."""
        self.open_bank()
        months = list(self.months())
        total_days = sum((b - a).total_seconds() for a, b in months)
        batch = Batch()
        for first, last in months:
            budget = round(self.plan.transactions * (last - first).total_seconds() / total_days)
            for at, kind, customer in self.events(first, last, budget):
                if kind == "salary":
                    self.salary(batch, at, customer)
                elif kind == "rent":
                    self.rent(batch, at, customer)
                else:
                    self.everyday(batch, at, customer)
                if len(batch.transactions) >= self.plan.chunk:
                    self.write(batch)
                    progress(len(batch.transactions))
                    batch = Batch()
        if batch.transactions:
            self.write(batch)
            progress(len(batch.transactions))
        self._finish()
        return self.written

    def _finish(self) -> None:
        """Sequences past the ids written, and one audit record of the whole load."""

        def unit(conn: Connection) -> None:
            if conn.dialect.name == "postgresql":
                for table in ("transactions", "entries"):
                    conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                            f"(SELECT MAX(id) FROM {table}))"
                        )
                    )
            audit.record(
                conn,
                actor_id=None,
                action="bench.reports_loaded",
                entity_type="bank",
                entity_id=self.tag,
                after={
                    "transactions": self.written,
                    "customers": len(self.customers),
                    "months": self.plan.months,
                    "seed": self.plan.seed,
                },
            )

        self.database.write(unit)
        # Fresh statistics for the planner after a bulk load (PostgreSQL's autovacuum would get
        # there, later; SQLite has none until asked).
        with self.database.engine.connect() as conn:
            if conn.dialect.name in ("sqlite", "postgresql"):
                conn.exec_driver_sql("ANALYZE")
            else:
                conn.exec_driver_sql("ANALYZE TABLE transactions, entries, accounts, risk_scores")
            conn.commit()


def _insert_rows(
    conn: Connection, table: str, columns: dict[str, str], rows: list[tuple[Any, ...]]
) -> None:
    """Multi-row INSERTs of up to ROWS_PER_INSERT rows, the values already in the form the
    driver stores (see `Loader.stamp`).

    PostgreSQL gets one array per column, unnested into rows by the server: the statement
    stays a few hundred bytes, where a VALUES list with thousands of placeholders would cost
    the driver more time to parse than the server takes to insert.
    """
    names = ", ".join(columns)
    if conn.dialect.name == "postgresql":
        arrays = ", ".join(f"%s::{kind}[]" for kind in columns.values())
        sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})"
        for start in range(0, len(rows), ROWS_PER_INSERT * 10):
            part = rows[start : start + ROWS_PER_INSERT * 10]
            conn.exec_driver_sql(sql, tuple(list(column) for column in zip(*part, strict=True)))
        return
    marker = "?" if conn.dialect.name == "sqlite" else "%s"
    one = "(" + ", ".join([marker] * len(columns)) + ")"
    head = f"INSERT INTO {table} ({names}) VALUES "
    for start in range(0, len(rows), ROWS_PER_INSERT):
        part = rows[start : start + ROWS_PER_INSERT]
        params = tuple(value for row in part for value in row)
        conn.exec_driver_sql(head + ", ".join([one] * len(part)), params)


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Multi-row INSERTs (the drivers batch an executemany into VALUES lists)."""
    if rows:
        conn.execute(insert(table), rows)


def _set_balances(conn: Connection, touched: list[Account]) -> None:
    if not touched:
        return
    if conn.dialect.name == "postgresql":
        # One statement for the whole chunk instead of one UPDATE per account.
        values = ", ".join(f"({a.id}, {int(a.balance)})" for a in touched)
        conn.execute(
            text(
                "UPDATE accounts SET balance = v.balance FROM (VALUES "
                + values
                + ") AS v(id, balance) WHERE accounts.id = v.id"
            )
        )
        return
    conn.execute(
        update(accounts)
        .where(accounts.c.id == bindparam("account"))
        .values(balance=bindparam("new_balance")),
        [{"account": a.id, "new_balance": a.balance} for a in touched],
    )
