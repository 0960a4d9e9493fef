"""The analytics test bank: customers and staff, accounts, and a year of operations.

The operations are a plain list (`Op`), posted through the ledger's posting functions with
their `occurred_at` spread over the past fourteen months; tests compute every expected figure
from that same list, in plain Python, and compare it with what the services and routes answer.
"""

from __future__ import annotations

import itertools
import os
import random
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Connection, create_engine, insert, select, text
from sqlalchemy.engine import make_url

from ledgerbank.app import create_app
from ledgerbank.config import Settings
from ledgerbank.identity import tokens
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.db import Database
from ledgerbank.kit.money import exponent, to_minor
from ledgerbank.ledger import accounts as account_service
from ledgerbank.ledger import integrity, posting
from ledgerbank.ledger.screening import Assessment, Proposal, Screened, StatelessScreen, Verdict
from ledgerbank.ledger.tables import accounts
from ledgerbank.risk.tables import risk_alert_actions, risk_alerts, risk_scores

JWT_SECRET = "analytics-tests-secret-0123456789abcdef"
DUMMY_PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$not-a-real-hash"
STAFF_ROLES = ("admin", "auditor", "fraud_analyst", "financial_manager", "compliance_officer")
ROLES = ("customer", *STAFF_ROLES)
# account key -> (owner, type, currency)
ACCOUNTS = {
    "alice_checking": ("alice", "checking", "USD"),
    "alice_savings": ("alice", "savings", "USD"),
    "alice_wallet": ("alice", "wallet", "EUR"),
    "bob_checking": ("bob", "checking", "USD"),
    "carol_savings": ("carol", "savings", "USD"),
    "carol_yen": ("carol", "wallet", "JPY"),
}
HISTORY_MONTHS = 14
# The backends the suite runs on (as tests/conftest.py decides them).
BACKENDS = (
    ["sqlite"]
    + (["postgresql"] if os.environ.get("LEDGERBANK_TEST_POSTGRES_URL") else [])
    + (["mysql"] if os.environ.get("LEDGERBANK_TEST_MYSQL_URL") else [])
)


def settings_for(database_url: str, data_dir: Path) -> Settings:
    return Settings(
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        data_dir=data_dir,
        environment="test",
        password_hash_time_cost=1,
        password_hash_memory_kib=8,
        password_hash_parallelism=1,
        risk_enabled=False,  # type: ignore[call-arg]  (the risk domain's setting)
    )


def month_start(moment: datetime, months_ago: int) -> datetime:
    index = moment.year * 12 + moment.month - 1 - months_ago
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def month_label(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


@dataclass
class Op:
    """One operation of the fixture, as the tests reason about it."""

    type: str  # deposit, withdrawal, transfer, fee, reversal
    amount: str
    at: datetime
    source: str | None = None  # account key money leaves
    target: str | None = None  # account key money enters
    description: str | None = None
    status: str = "posted"  # posted, reversed, blocked
    transaction_id: int = 0
    verdict: str = "UNSCORED"  # as the fixture's risk scores say

    @property
    def account(self) -> str:
        """The transaction's own account: where money left, else where it entered."""
        return self.source or self.target or ""

    @property
    def currency(self) -> str:
        return ACCOUNTS[self.account][2]

    @property
    def owner(self) -> str:
        return ACCOUNTS[self.account][0]

    @property
    def minor(self) -> int:
        return to_minor(self.amount, self.currency)

    @property
    def booked(self) -> bool:
        return self.status in ("posted", "reversed")


def _money(rng: random.Random, low: int, high: int, currency: str) -> str:
    places = exponent(currency)
    minor = rng.randint(low * 10**places, high * 10**places)
    return str(Decimal(minor).scaleb(-places))


def plan_operations(now: datetime, seed: int = 20240601) -> list[Op]:
    """Fourteen complete months of a small bank's life, and a little of the current month."""
    rng = random.Random(seed)
    ops: list[Op] = []
    for months_ago in range(HISTORY_MONTHS, 0, -1):
        start = month_start(now, months_ago)

        def day(d: int, hour: int = 10, start: datetime = start) -> datetime:
            return start + timedelta(days=d - 1, hours=hour, minutes=rng.randint(0, 59))

        ops.append(Op("deposit", "3000.00", day(1), target="alice_checking", description="Salary"))
        ops.append(Op("deposit", "2500.00", day(1, 11), target="bob_checking", description="Pay"))
        ops.append(Op("deposit", "150000", day(2), target="carol_yen", description="Stipend"))
        if months_ago % 2 == 0:
            ops.append(Op("deposit", "500.00", day(2, 9), target="alice_wallet"))
        ops.append(
            Op("transfer", "1200.00", day(3), "alice_checking", "bob_checking", "Rent")
        )  # recurring payment to another customer
        ops.append(
            Op("transfer", "200.00", day(5), "alice_checking", "alice_savings", "Saving")
        )  # between alice's own accounts: neither income nor expense
        for index in range(rng.randint(2, 4)):
            amount = _money(rng, 20, 300, "USD")
            ops.append(Op("withdrawal", amount, day(8 + index * 4), source="alice_checking"))
        ops.append(Op("withdrawal", _money(rng, 10, 100, "EUR"), day(12), source="alice_wallet"))
        for index in range(rng.randint(1, 3)):
            amount = _money(rng, 50, 400, "USD")
            ops.append(Op("withdrawal", amount, day(10 + index * 5), source="bob_checking"))
        if months_ago == 6:  # one large one-off purchase
            ops.append(Op("withdrawal", "2000.00", day(20), source="bob_checking"))
        ops.append(
            Op("transfer", _money(rng, 100, 300, "USD"), day(15), "bob_checking", "carol_savings")
        )
        ops.append(Op("withdrawal", _money(rng, 1000, 9000, "JPY"), day(16), source="carol_yen"))
    current = month_start(now, 0)
    midway = current + (now - current) / 2
    ops.append(Op("deposit", "50.00", midway, target="alice_checking", description="Gift"))
    ops.append(Op("withdrawal", "20.00", midway, source="alice_checking"))
    # Fees are charged now (the ledger posts them at the moment they are charged).
    ops.append(Op("fee", "2.50", now, source="alice_checking", description="Fee"))
    return sorted(ops, key=lambda op: op.at)


class BlockAtOrAbove(StatelessScreen):
    """A stand-in risk screen: CRITICAL at or above a bound (in minor units), SAFE below."""

    def __init__(self, bound: int) -> None:
        self.bound = bound

    def assess(self, conn: Connection, proposals: Sequence[Proposal]) -> list[Assessment]:
        return [
            Assessment(0.95, Verdict.CRITICAL, [{"rule": "test"}], "test")
            if p.amount >= self.bound
            else Assessment(0.1, Verdict.SAFE, [], "test")
            for p in proposals
        ]

    def record(self, conn: Connection, screened: Sequence[Screened]) -> None:
        return None


def create_user(conn: Connection, name: str, role: str, created_at: datetime) -> int:
    result = conn.execute(
        insert(users),
        {
            "username": name,
            "email": f"{name}@example.test",
            "full_name": f"{name.title()} Example",
            "role": role,
            "kyc_status": "verified",
            "password_hash": DUMMY_PASSWORD_HASH,
            "created_at": created_at,
            "updated_at": created_at,
        },
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


@dataclass
class Bank:
    """The app on a fresh database, its people, their accounts and every operation posted."""

    database: Database
    client: TestClient
    now: datetime
    url: str
    users: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    accounts: dict[str, int] = field(default_factory=dict)
    ops: list[Op] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    reports_filed: list[datetime] = field(default_factory=list)
    frozen: list[str] = field(default_factory=list)

    def headers(self, who: str | None) -> dict[str, str]:
        return {} if who is None else {"Authorization": f"Bearer {self.tokens[who]}"}

    def get(self, who: str | None, path: str, **params: Any) -> Response:
        return self.client.get(path, params=params, headers=self.headers(who))

    def post(self, who: str | None, path: str, body: Any, **params: Any) -> Response:
        return self.client.post(path, json=body, params=params, headers=self.headers(who))

    def key_of(self, account_id: int) -> str:
        return next(k for k, v in self.accounts.items() if v == account_id)

    def add_user(self, name: str, role: str, created_at: datetime) -> None:
        user_id = self.database.write(lambda conn: create_user(conn, name, role, created_at))
        self.users[name] = user_id
        self.tokens[name], _ = tokens.issue(
            user_id=user_id, role=role, secret=JWT_SECRET, ttl_minutes=30
        )

    def post_op(self, conn: Connection, op: Op, screen: Any = None) -> None:
        """Post one operation inside the caller's transaction and remember the outcome."""
        common: dict[str, Any] = {"amount": op.amount, "actor_id": None}
        if screen is None:
            common["occurred_at"] = op.at
        else:
            common["screen"] = screen  # screened postings happen now
        source = self.accounts.get(op.source or "")
        target = self.accounts.get(op.target or "")
        if op.type == "deposit":
            result = posting.deposit(
                conn, account_id=target or 0, description=op.description, **common
            )
        elif op.type == "withdrawal":
            result = posting.withdraw(
                conn, account_id=source or 0, description=op.description, **common
            )
        elif op.type == "transfer":
            result = posting.transfer(
                conn,
                from_account_id=source or 0,
                to_account_id=target or 0,
                description=op.description,
                **common,
            )
        else:
            assert op.type == "fee"
            result = posting.post_fee(
                conn, account_id=source or 0, amount=op.amount, actor_id=None,
                description=op.description,
            )  # fmt: skip
        row = result.transaction
        op.transaction_id = int(row["id"])
        op.status = str(row["status"])
        op.at = row["created_at"]
        self.ops.append(op)

    def post_all(self, ops: Sequence[Op], screen: Any = None) -> None:
        """Post operations in time order, all in one database transaction (fast set-up)."""

        def run(conn: Connection) -> None:
            for op in ops:
                self.post_op(conn, op, screen)

        self.database.write(run)

    def reverse(self, op: Op) -> Op:
        result = self.database.write(
            lambda conn: posting.reverse(conn, op.transaction_id, reason="test", actor_id=None)
        )
        op.status = "reversed"
        row = result.transaction
        reversal = Op(
            "reversal",
            str(Decimal(int(row["amount"])).scaleb(-exponent(op.currency))),
            row["created_at"],
            source=op.target,
            target=op.source,
            transaction_id=int(row["id"]),
        )
        self.ops.append(reversal)
        return reversal

    def account_number(self, key: str) -> str:
        with self.database.read() as conn:
            query = select(accounts.c.account_number).where(accounts.c.id == self.accounts[key])
            return str(conn.execute(query).scalar_one())

    def violations(self) -> list[Any]:
        with self.database.read() as conn:
            return integrity.violations(conn)


_copies = itertools.count()


@contextmanager
def fresh_database(backend: str, template_url: str, data_dir: Path) -> Iterator[str]:
    """A fresh migrated database made from the session's template, as `database_url` does;
    shared by the tests of one module, which only read it."""
    if backend == "sqlite":
        path = data_dir / "ledgerbank.db"
        shutil.copyfile(make_url(template_url).database or "", path)
        yield f"sqlite:///{path}"
    elif backend == "postgresql":
        url = make_url(template_url)
        name = f"{url.database}_a{next(_copies)}"
        admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {url.database}"))
        try:
            yield url.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            admin.dispose()
    else:
        engine = create_engine(template_url)
        with engine.begin() as conn:
            names = conn.execute(
                text(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                    "DATABASE() AND table_type = 'BASE TABLE' AND table_name <> 'alembic_version'"
                )
            ).scalars()
            conn.execute(text("SET FOREIGN_KEY_CHECKS = 0"))
            for name in names:
                conn.execute(text(f"TRUNCATE TABLE `{name}`"))
            conn.execute(text("SET FOREIGN_KEY_CHECKS = 1"))
        engine.dispose()
        yield template_url


def in_period(op: Op, start: datetime | None, end: datetime | None) -> bool:
    return (start is None or op.at >= start) and (end is None or op.at < end)


def booked(bank: Bank, start: datetime | None = None, end: datetime | None = None) -> list[Op]:
    """Operations that moved money (posted, or posted and later reversed) in the period."""
    return [op for op in bank.ops if op.booked and in_period(op, start, end)]


def balances(bank: Bank, before: datetime | None = None) -> dict[str, int]:
    """Every account's balance from replaying the fixture's booked operations."""
    found = dict.fromkeys(ACCOUNTS, 0)
    for op in booked(bank, None, before):
        if op.source:
            found[op.source] -= op.minor
        if op.target:
            found[op.target] += op.minor
    return found


def verdict_of(op: Op) -> tuple[str, float] | None:
    """The fixture's risk verdicts: fees and reversals unscored, large USD cash-outs suspicious."""
    if op.type in ("fee", "reversal"):
        return None
    if op.status == "blocked":
        return "CRITICAL", 0.95
    if op.type == "withdrawal" and op.currency == "USD" and op.minor >= 25000:
        return "SUSPICIOUS", 0.62
    return "SAFE", 0.08


def score_and_alert(bank: Bank) -> None:
    """Risk scores, fraud and compliance alerts, case actions and a frozen account."""
    fraud_statuses = ("open", "investigating", "closed")
    compliance_statuses = ("closed", "reported", "escalated")
    scores, alerts, actions = [], [], []
    for op in bank.ops:
        found = verdict_of(op)
        if found is None:
            continue
        op.verdict, score = found
        scores.append(
            {
                "transaction_id": op.transaction_id,
                "score": score,
                "verdict": op.verdict,
                "reasons": "[]",
                "model_version": None,
                "scored_at": op.at,
            }
        )
        if op.verdict != "SAFE":
            status = fraud_statuses[len([a for a in alerts if a["queue"] == "fraud"]) % 3]
            alerts.append(
                {"queue": "fraud", "op": op, "rule_id": None, "status": status,
                 "severity": "high" if op.verdict == "CRITICAL" else "medium"}
            )  # fmt: skip
        # Cash at or above the 10000 threshold in the account's own currency (here: yen).
        if op.type == "deposit" and op.minor >= to_minor("10000", op.currency):
            index = len([a for a in alerts if a["queue"] == "compliance"])
            status = compliance_statuses[index] if index < 3 else "open"
            alerts.append(
                {"queue": "compliance", "op": op, "rule_id": "large_cash", "status": status,
                 "severity": "high"}
            )  # fmt: skip
    rows = []
    for alert in alerts:
        op = alert.pop("op")
        alert["created_at"] = op.at
        rows.append(
            {
                **alert,
                "transaction_id": op.transaction_id,
                "account_id": bank.accounts[op.account],
                "score": 0.6,
                "verdict": op.verdict,
                "summary": "fixture",
                "hits": 1,
                "resolution": "reported" if alert["status"] == "closed" else None,
                "resolved_at": op.at + timedelta(days=2) if alert["status"] == "closed" else None,
                "updated_at": op.at,
            }
        )
    bank.alerts = alerts

    def write(conn: Connection) -> None:
        conn.execute(insert(risk_scores), scores)
        ids = [int(conn.execute(insert(risk_alerts), row).inserted_primary_key[0]) for row in rows]  # type: ignore[index]
        for alert_id, row in zip(ids, rows, strict=True):
            if row["queue"] == "compliance" and row["status"] in ("reported", "closed"):
                filed = row["created_at"] + timedelta(days=1)
                actions.append(
                    {"alert_id": alert_id, "action": "file_report", "note": "filed",
                     "actor_id": None, "created_at": filed}
                )  # fmt: skip
                bank.reports_filed.append(filed)
        conn.execute(insert(risk_alert_actions), actions)
        account_service.set_status(
            conn, bank.accounts["alice_wallet"], status="frozen", reason="test", actor_id=None
        )
        bank.frozen.append("alice_wallet")

    bank.database.write(write)


@contextmanager
def open_bank(database_url: str, data_dir: Path) -> Iterator[Bank]:
    """A bank with its people and accounts, and every planned operation posted."""
    app = create_app(settings_for(database_url, data_dir))
    with TestClient(app) as client:
        now = utcnow()
        bank = Bank(database=app.state.db, client=client, now=now, url=database_url)
        joined = month_start(now, HISTORY_MONTHS + 1)
        for index, name in enumerate(("alice", "bob", "carol")):
            bank.add_user(name, "customer", joined + timedelta(days=40 * index))
        for role in STAFF_ROLES:
            bank.add_user(role, role, joined)
        for key, (owner, kind, currency) in ACCOUNTS.items():
            row = bank.database.write(
                lambda conn, o=owner, k=kind, c=currency: account_service.open_account(
                    conn, owner_id=bank.users[o], account_type=k, currency=c
                )
            )
            bank.accounts[key] = int(row["id"])
        bank.post_all(plan_operations(now))
        # One withdrawal reversed now, and one attempt blocked by risk now.
        two_months_ago = month_label(month_start(now, 2))
        victim = next(
            op
            for op in bank.ops
            if op.type == "withdrawal" and op.source == "alice_checking"
            and month_label(op.at) == two_months_ago
        )  # fmt: skip
        bank.reverse(victim)
        bank.post_all(
            [Op("withdrawal", "900.00", now, source="bob_checking")], screen=BlockAtOrAbove(90000)
        )
        score_and_alert(bank)
        yield bank
        assert bank.violations() == [], "the ledger must stay sound"


def shared_bank(
    backend: str, templates: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Bank]:
    """The body of a module-scoped `bank` fixture: a fresh database per module and backend."""
    template = templates[backend]
    if template.error:
        if os.environ.get("LEDGERBANK_TEST_REQUIRE_DATABASES") == "1":
            pytest.fail(template.error)
        pytest.skip(template.error)
    data_dir = tmp_path_factory.mktemp(f"analytics-{backend}")
    with (
        fresh_database(backend, template.url, data_dir) as url,
        open_bank(url, data_dir) as opened,
    ):
        yield opened
