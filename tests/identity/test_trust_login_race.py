"""Thirty sign-ins at once against a real server: no more attempts are evaluated than allowed.

Issue 10 saw it: with 30 parallel logins (29 wrong passwords, 1 right) every attempt read "not
locked" before any was counted, so all 30 ran argon2. Now each attempt is reserved under the
user's row lock before argon2 runs (identity.signin): at most `login_max_failures` wrong
passwords are evaluated in a streak (a right password ends the streak), on all three databases.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from ledgerbank.audit.tables import audit_log
from ledgerbank.identity import passwords, service
from ledgerbank.kit.db import Database
from server import serving

pytestmark = pytest.mark.http

PASSWORD = "the right passphrase"
LIMIT = 5  # login_max_failures (the default)


@pytest.fixture
def racing(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Database, int]]:
    database = Database.from_url(database_url)
    passwords.configure(time_cost=1, memory_kib=8, parallelism=1)
    user = database.write(
        lambda conn: service.create_user(
            conn, username="racer", password=PASSWORD, email="r@example.com", full_name="R"
        )
    )
    # a long first delay: the burst is over long before it ends
    with serving(
        database_url,
        tmp_path,
        jwt_secret="login-race-secret-of-at-least-32-bytes",
        LEDGERBANK_LOGIN_DELAY_SECONDS="600",
    ) as server:
        yield server.url, database, int(user["id"])
    database.dispose()


def burst(url: str, passwords_sent: list[str]) -> list[httpx.Response]:
    def attempt(password: str) -> httpx.Response:
        with httpx.Client(base_url=url, timeout=60) as client:
            return client.post("/auth/login", json={"username": "racer", "password": password})

    with ThreadPoolExecutor(max_workers=len(passwords_sent)) as pool:
        return list(pool.map(attempt, passwords_sent))


def evaluated(database: Database, user_id: int) -> list[dict[str, object]]:
    """The wrong passwords that were checked (each is audited with its streak's window)."""
    with database.read() as conn:
        rows = conn.execute(
            select(audit_log.c.after).where(
                audit_log.c.action == "auth.login_failed",
                audit_log.c.entity_id == str(user_id),
            )
        ).scalars()
        return [json.loads(row) for row in rows]


def test_thirty_wrong_passwords_at_once_evaluate_exactly_the_limit(
    racing: tuple[str, Database, int],
) -> None:
    url, database, user_id = racing
    answers = burst(url, [f"wrong {n}" for n in range(30)])
    assert Counter(a.status_code for a in answers) == {401: 30}
    bodies = {json.dumps({k: v for k, v in a.json().items() if k != "request_id"}) for a in answers}
    assert len(bodies) == 1  # evaluated or not, every answer is the same
    checked = evaluated(database, user_id)
    assert len(checked) == LIMIT
    assert {c["reason"] for c in checked} == {"wrong_password"}


def test_twenty_nine_wrong_and_one_right_at_once(racing: tuple[str, Database, int]) -> None:
    url, database, user_id = racing
    sent = [f"wrong {n}" for n in range(29)]
    sent.insert(13, PASSWORD)
    answers = burst(url, sent)
    statuses = Counter(a.status_code for a in answers)
    assert set(statuses) <= {200, 401}
    successes = statuses[200]
    assert successes <= 1
    streaks = Counter(str(c["window"]) for c in evaluated(database, user_id))
    # at most LIMIT wrong passwords per streak; a new streak only after the right one
    assert all(count <= LIMIT for count in streaks.values()), streaks
    assert len(streaks) <= 1 + successes
    assert sum(streaks.values()) <= LIMIT * (1 + successes) < 29
