"""The read replica: reports, LedgerGPT and the dashboard read LEDGERBANK_READ_DATABASE_URL
while postings go to the primary, and GET /replica says how far behind it is.

The streaming test runs against a real PostgreSQL hot standby (.ci/run starts one on port
5433 and exports LEDGERBANK_TEST_POSTGRES_REPLICA_URL): it writes on the primary, waits for
the standby to replay, and pauses replay to show which database each reader used. An
unreachable standby fails the test; without the setting (a developer's machine) it is skipped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from api_helpers import PIN, STAFF_ROLES, Bank, api_settings
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from ledgerbank.app import create_app
from ledgerbank.audit.tables import audit_log
from ledgerbank.kit.db import Database, normalize_url
from ledgerbank.ledger.tables import transactions

REPLICA_URL = os.environ.get("LEDGERBANK_TEST_POSTGRES_REPLICA_URL", "")
POSTGRES_URL = os.environ.get("LEDGERBANK_TEST_POSTGRES_URL", "")
needs_standby = pytest.mark.skipif(
    not (POSTGRES_URL and REPLICA_URL),
    reason="needs LEDGERBANK_TEST_POSTGRES_URL and LEDGERBANK_TEST_POSTGRES_REPLICA_URL "
    "(a hot standby of it; .ci/run starts one)",
)
COUNT = "SELECT COUNT(*) AS n FROM vw_transactions"


@contextmanager
def bank_reading_from(
    database_url: str, read_url: str, data_dir: Path, **extra: Any
) -> Iterator[Bank]:
    settings = api_settings(database_url, data_dir).model_copy(
        update={"read_database_url": read_url, **extra}
    )
    app = create_app(settings)
    with TestClient(app) as client:
        bank = Bank(app=app, client=client, database=app.state.db)
        bank.add_users({"alice": "customer", "bob": "customer"} | {r: r for r in STAFF_ROLES})
        yield bank


@dataclass
class Standby:
    """The hot standby of the test's PostgreSQL database, and control over its replay."""

    url: str  # the test database, on the standby
    admin: Engine  # the standby's `postgres` database

    def caught_up_with(self, primary: Database, timeout: float = 60) -> None:
        """Wait until the standby has replayed everything the primary has written so far."""
        with primary.read() as conn:
            lsn = conn.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()
        deadline = time.monotonic() + timeout
        query = text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)")
        while True:
            with self.admin.connect() as conn:
                if conn.execute(query, {"lsn": lsn}).scalar_one():
                    return
            if time.monotonic() > deadline:
                pytest.fail(f"the standby did not replay up to {lsn} in {timeout} s")
            time.sleep(0.05)

    @contextmanager
    def replay_paused(self) -> Iterator[None]:
        with self.admin.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_pause()"))
            while conn.execute(text("SELECT pg_get_wal_replay_pause_state()")).scalar() != (
                "paused"
            ):
                time.sleep(0.02)
        try:
            yield
        finally:
            with self.admin.connect() as conn:
                conn.execute(text("SELECT pg_wal_replay_resume()"))


@pytest.fixture
def standby(database_url: str) -> Iterator[Standby]:
    replica = make_url(normalize_url(REPLICA_URL))
    admin = create_engine(replica.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_is_in_recovery()")).scalar_one(), (
                "LEDGERBANK_TEST_POSTGRES_REPLICA_URL must name a standby"
            )
        name = make_url(database_url).database
        yield Standby(replica.set(database=name).render_as_string(hide_password=False), admin)
    finally:
        admin.dispose()


def kpis(bank: Bank) -> dict[str, Any]:
    response = bank.get("financial_manager", "/reports/kpis")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def counted_by_ledgergpt(bank: Bank) -> int:
    response = bank.post("auditor", "/ledgergpt/ask", {"question": COUNT})
    assert response.status_code == 200, response.text
    return int(response.json()["rows"][0][0])


def primary_count(bank: Bank, table: Any, *where: Any) -> int:
    return int(
        bank.read(
            lambda c: c.execute(select(func.count()).select_from(table).where(*where)).scalar_one()
        )
    )


@needs_standby
@pytest.mark.parametrize("backend", ["postgresql"])
def test_readers_use_the_standby_while_postings_go_to_the_primary(
    database_url: str, standby: Standby, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    standby.caught_up_with(Database.from_url(database_url))  # the database exists there
    with bank_reading_from(database_url, standby.url, tmp_path) as bank:
        alice, bob = bank.open_account("alice"), bank.open_account("bob")
        bank.fund(alice, "100.00")
        standby.caught_up_with(bank.database)
        assert kpis(bank)["transaction_count"] == 1
        assert counted_by_ledgergpt(bank) == 1

        with standby.replay_paused():
            sent = bank.post(
                "alice",
                "/transactions/transfer",
                {"from_account_id": alice, "to_account_id": bob, "amount": "25.00", "pin": PIN},
            )
            assert sent.status_code == 201, sent.text  # the money service writes the primary
            assert primary_count(bank, transactions) == 2
            # ... while reports, LedgerGPT and the dashboard see the standby, not yet replayed
            assert kpis(bank)["transaction_count"] == 1
            assert counted_by_ledgergpt(bank) == 1
            asked = audit_log.c.action == "ledgergpt.asked"
            assert primary_count(bank, audit_log, asked) == 2  # questions audited on the primary
            assert dashboard_transactions(database_url, standby.url, monkeypatch) == "1"
            lag = bank.get("auditor", "/replica")
            assert lag.status_code == 200, lag.text
            found = lag.json()
            assert found["state"] == "streaming", found
            assert found["dialect"] == "postgresql"
            assert found["bytes_behind"] > 0  # the transfer's WAL waits to be replayed
            assert found["seconds_behind"] >= 0
            assert found["last_replayed_at"] is not None
            ready = bank.client.get("/ready")
            assert ready.status_code == 200
            assert ready.json() == {"status": "ready", "replica": "streaming"}

        standby.caught_up_with(bank.database)
        assert kpis(bank)["transaction_count"] == 2
        assert counted_by_ledgergpt(bank) == 2
        # the standby refuses writes, whoever tries
        with pytest.raises(DBAPIError):
            bank.app.state.read_db.write(lambda c: c.execute(text("DELETE FROM transactions")))


def dashboard_transactions(primary: str, read: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The dashboard's "Transactions" figure, with the replica configured."""
    from streamlit.testing.v1 import AppTest

    import ledgerbank.dashboard.app as script

    monkeypatch.setenv("LEDGERBANK_DATABASE_URL", primary)
    monkeypatch.setenv("LEDGERBANK_READ_DATABASE_URL", read)
    app = AppTest.from_file(str(script.__file__), default_timeout=60)
    app.run()
    assert not app.exception, app.exception
    return str({m.label: m.value for m in app.metric}["Transactions"])


READERS = {
    "alice": 403,
    "admin": 200,
    "auditor": 200,
    "fraud_analyst": 403,
    "financial_manager": 403,
    "compliance_officer": 403,
    None: 401,
}


def test_without_a_replica_the_readers_use_the_primary(bank: Bank) -> None:
    assert bank.app.state.read_db is bank.app.state.db
    for who, status in READERS.items():
        assert bank.get(who, "/replica").status_code == status, who
    found = bank.get("auditor", "/replica").json()
    assert found["state"] == "no_replica"
    assert found["seconds_behind"] is None
    assert bank.client.get("/ready").json() == {"status": "ready", "replica": "no_replica"}


def test_a_read_database_that_replicates_nothing_is_said_so_and_refuses_writes(
    database_url: str, tmp_path: Path
) -> None:
    with bank_reading_from(database_url, database_url, tmp_path) as bank:
        assert bank.app.state.read_db is not bank.app.state.db
        bank.fund(bank.open_account("alice"), "10.00")
        assert kpis(bank)["transaction_count"] == 1
        assert counted_by_ledgergpt(bank) == 1
        found = bank.get("admin", "/replica").json()
        assert found["state"] == "not_a_replica", found
        with pytest.raises(DBAPIError):
            bank.app.state.read_db.write(lambda c: c.execute(text("DELETE FROM transactions")))
        assert primary_count(bank, transactions) == 1


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_unreachable_replica_is_reported_not_a_failure(
    database_url: str, tmp_path: Path
) -> None:
    nowhere = "postgresql://postgres@127.0.0.1:9/nowhere"  # the discard port: refused
    with bank_reading_from(database_url, nowhere, tmp_path) as bank:
        found = bank.get("auditor", "/replica")
        assert found.status_code == 200
        assert found.json()["state"] == "unreachable"
        assert bank.client.get("/ready").json() == {"status": "ready", "replica": "unreachable"}
        # postings do not need the replica
        bank.fund(bank.open_account("alice"), "10.00")
        assert primary_count(bank, transactions) == 1
