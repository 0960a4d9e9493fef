"""Hygiene findings of issue 11, each seen on the first round's main: 500s that must be 4xx,
`1e3` as an amount, /metrics open to anyone, downloads without `Cache-Control: no-store`,
world-readable data files, forged request ids in logs and the audit trail, the event stream's
caps passed by parallel opens, and the payee lookup that let anyone collect holders' names."""

from __future__ import annotations

import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from api_helpers import JWT_SECRET, Bank, problem
from sqlalchemy import select

from ledgerbank.app import _metrics_access
from ledgerbank.audit.tables import audit_log
from ledgerbank.identity import tokens
from ledgerbank.kit.db import Database
from ledgerbank.ledger.tables import accounts
from ledgerbank.risk import model as anomaly
from ledgerbank.risk.features import FEATURES
from ledgerbank.web import events
from server import serving


def raw(bank: Bank, who: str | None, path: str, content: bytes, **headers: str) -> httpx.Response:
    return bank.client.post(
        path,
        content=content,
        headers={**bank.headers(who), "Content-Type": "application/json", **headers},
    )


def test_deeply_nested_json_is_a_malformed_request(bank: Bank) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    problem(raw(bank, None, "/auth/login", deep), 400, "malformed_request")
    problem(raw(bank, "alice", "/transactions/deposit", deep), 400, "malformed_request")
    nested = b'{"username": ' + b'{"a": ' * 70 + b"1" + b"}" * 70 + b', "password": "x"}'
    problem(raw(bank, None, "/auth/login", nested), 400, "malformed_request")
    # strings that merely contain brackets are fine
    text = b'{"username": "' + b"[" * 200 + b'", "password": "x"}'
    assert raw(bank, None, "/auth/login", text).status_code == 401


def test_amounts_with_exponents_or_out_of_range_are_refused(bank: Bank) -> None:
    mine = bank.open_account("alice")
    before = bank.counts()
    for number in (b"1e9999999", b"1e3", b"1E3", b"1.5e2", b"-1e-9999999", b"1e-2"):
        body = b'{"account_id": %d, "amount": %s}' % (mine, number)
        problem(raw(bank, "alice", "/transactions/deposit", body), 422, "invalid_amount")
    huge = b'{"account_id": %d, "amount": "1e9999999"}' % mine
    problem(raw(bank, "alice", "/transactions/deposit", huge), 422, "invalid_amount")
    assert bank.counts() == before
    fine = raw(bank, "alice", "/transactions/deposit", b'{"account_id": %d, "amount": 1000}' % mine)
    assert fine.status_code == 201, fine.text
    exact = raw(
        bank, "alice", "/transactions/deposit", b'{"account_id": %d, "amount": 10.5}' % mine
    )
    assert exact.json()["amount"] == "10.50"


def test_an_import_field_over_the_csv_limit_is_a_refused_row(bank: Bank) -> None:
    header = "external_id,timestamp,type,from_account,to_account,amount,currency,description\n"
    text = (
        header + "ext-1,2024-01-05T09:00:00Z,deposit,,400000000000,1.00,USD," + "x" * 131_073 + "\n"
    )
    answer = bank.client.post(
        "/admin/import",
        files={"file": ("big.csv", text.encode(), "text/csv")},
        headers=bank.headers("admin"),
    )
    body = problem(answer, 422, "import_rejected")
    assert "cannot be read as CSV" in body["report"]["errors"][0]["message"]


def test_metrics_need_the_scrape_token_or_a_staff_role(bank: Bank) -> None:
    problem(bank.get(None, "/metrics"), 401, "not_authenticated")
    problem(bank.get("alice", "/metrics"), 403, "forbidden")
    problem(
        bank.client.get("/metrics", headers={"Authorization": "Bearer wrong-scrape-token"}),
        401,
        "not_authenticated",
    )
    for staff in ("admin", "auditor", "fraud_analyst", "financial_manager", "compliance_officer"):
        answer = bank.get(staff, "/metrics")
        assert answer.status_code == 200, staff
        assert "ledgerbank_http_requests_total" in answer.text
    bank.app.state.settings.metrics_token = "prometheus-scrape-token-0123456789"
    bank.app.state.metrics_access = _metrics_access(bank.app.state.settings)
    scraped = bank.client.get(
        "/metrics", headers={"Authorization": "Bearer prometheus-scrape-token-0123456789"}
    )
    assert scraped.status_code == 200
    assert scraped.headers["cache-control"] == "no-store"


def test_downloads_are_never_cached(bank: Bank) -> None:
    mine = bank.open_account("alice")
    bank.fund(mine, "10.00")
    downloads = [
        bank.get("alice", f"/accounts/{mine}/statement", params={"format": "csv"}),
        bank.get("alice", f"/accounts/{mine}/statement", params={"format": "pdf"}),
        bank.get("alice", "/transactions/history", params={"format": "csv"}),
        bank.post("financial_manager", "/reports/custom?format=csv", {"group_by": ["type"]}),
        bank.post("financial_manager", "/reports/custom?format=xlsx", {"group_by": ["type"]}),
    ]
    for answer in downloads:
        assert answer.status_code == 200, answer.text
        assert answer.headers["cache-control"] == "no-store", answer.headers["content-type"]


def test_data_files_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "fresh" / "data"
    database = Database.from_url(f"sqlite:///{folder / 'ledgerbank.db'}")
    with database.engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    database.dispose()
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    for name in os.listdir(folder):
        assert stat.S_IMODE(os.stat(folder / name).st_mode) == 0o600, name
    rows = np.random.default_rng(1).normal(size=(64, len(FEATURES)))
    saved = anomaly.save(
        anomaly.fit(rows, FEATURES, trees=2, max_samples=16, seed=1), folder / "models"
    )
    assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(folder / "models").st_mode) == 0o700
    # an existing world-readable database of ours is tightened when opened
    loose = tmp_path / "loose.db"
    loose.touch(mode=0o644)
    os.chmod(loose, 0o644)
    Database.from_url(f"sqlite:///{loose}").dispose()
    assert stat.S_IMODE(os.stat(loose).st_mode) == 0o600


def test_a_forged_request_id_never_reaches_logs_or_the_audit_trail(bank: Bank) -> None:
    forged = "abc] ERROR forged log line [x"
    user = bank.users["bob"]
    for given in (forged, "a" * 65, "tab\there", "ünïcode", "<script>", "ticket-4711"):
        answer = bank.client.put(
            f"/admin/users/{user}/kyc",
            json={"kyc_status": "rejected" if given == "ticket-4711" else "verified"},
            headers=[
                (b"authorization", bank.headers("admin")["Authorization"].encode()),
                (b"x-request-id", given.encode()),
            ],
        )
        used = answer.headers["x-request-id"]
        if given == "ticket-4711":
            assert used == given
        else:
            assert used != given
            assert len(used) == 32
            assert used.isalnum()
    ids = bank.read(lambda conn: conn.execute(select(audit_log.c.request_id)).scalars().all())
    assert forged not in ids
    assert all(i is None or (len(i) <= 64 and " " not in i) for i in ids)


def test_the_stream_caps_hold_under_parallel_opens(bank: Bank) -> None:
    """The issue: 12 parallel opens passed the cap of 8 per user, and 26 self-registered users
    held 202 streams, locking staff out. Admission is now counted under a lock, and part of the
    server's streams is kept for staff."""
    streams = events._Streams()
    gate = threading.Barrier(300)

    def customer(n: int) -> bool:
        gate.wait()
        return streams.admit(10_000 + n % 40, staff=False)

    with ThreadPoolExecutor(max_workers=300) as pool:
        admitted = sum(pool.map(customer, range(300)))
    assert admitted == events.MAX_STREAMS - events.STAFF_RESERVED
    assert not streams.admit(99, staff=False)
    assert all(streams.admit(1, staff=True) for _ in range(events.MAX_STREAMS_PER_USER))
    assert not streams.admit(1, staff=True)  # a staff user has the per-user cap too
    for _ in range(events.MAX_STREAMS_PER_USER):
        streams.release(1)
    assert streams.per_user.get(1) is None


@pytest.mark.http
def test_twelve_parallel_streams_of_one_user_admit_eight(database_url: str, tmp_path: Path) -> None:
    from ledgerbank.identity import passwords, service

    database = Database.from_url(database_url)
    passwords.configure(time_cost=1, memory_kib=8, parallelism=1)
    user = database.write(
        lambda conn: service.create_user(
            conn,
            username="streamer",
            password="stream password",
            email="s@example.com",
            full_name="S",
        )
    )
    database.dispose()
    token, _ = tokens.issue(
        user_id=int(user["id"]), role="customer", secret=JWT_SECRET, ttl_minutes=5
    )
    with serving(database_url, tmp_path, jwt_secret=JWT_SECRET) as server:
        opened: list[Any] = []
        lock = threading.Lock()
        gate = threading.Barrier(12)

        def open_one(_: int) -> int:
            client = httpx.Client(base_url=server.url, timeout=30)
            gate.wait()
            request = client.build_request(
                "GET", "/events/stream", headers={"Authorization": f"Bearer {token}"}
            )
            response = client.send(request, stream=True)
            with lock:
                opened.append((client, response))
            return response.status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            statuses = sorted(pool.map(open_one, range(12)))
        for client, response in opened:
            response.close()
            client.close()
    assert statuses == [200] * 8 + [503] * 4


def test_payee_lookups_are_limited_per_caller_and_heavy_use_audited(bank: Bank) -> None:
    theirs = bank.open_account("bob")
    number = bank.read(
        lambda conn: conn.execute(
            select(accounts.c.account_number).where(accounts.c.id == theirs)
        ).scalar_one()
    )
    walked = [f"4000000{n:05d}" for n in range(40)]  # walking the number space
    answers = [
        bank.get("alice", "/accounts/payee", params={"account_number": n}) for n in walked[:29]
    ]
    assert {a.status_code for a in answers} == {404}
    found = bank.get("alice", "/accounts/payee", params={"account_number": number})
    assert found.json()["holder"] == "Bob"
    refused = problem(
        bank.get("alice", "/accounts/payee", params={"account_number": number}), 429, "rate_limited"
    )
    assert 3500 < refused["retry_after"] <= 3601
    for n in walked[30:35]:
        problem(
            bank.get("alice", "/accounts/payee", params={"account_number": n}), 429, "rate_limited"
        )
    # another caller is not affected
    assert bank.get("bob", "/accounts/payee", params={"account_number": number}).status_code == 200
    actions = bank.read(
        lambda conn: conn.execute(
            select(audit_log.c.action, audit_log.c.actor_id)
            .where(audit_log.c.action.like("account.payee_lookups%"))
            .order_by(audit_log.c.id)
        ).all()
    )
    alice = bank.users["alice"]
    assert [tuple(a) for a in actions] == [
        ("account.payee_lookups_heavy", alice),  # the 10th
        ("account.payee_lookups_heavy", alice),  # the 30th: the limit
        ("account.payee_lookups_refused", alice),  # refusals 1, 2, 4
        ("account.payee_lookups_refused", alice),
        ("account.payee_lookups_refused", alice),
    ]
