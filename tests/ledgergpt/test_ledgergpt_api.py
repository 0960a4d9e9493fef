"""POST /ledgergpt/ask over HTTP: who may ask, what the answer looks like, and the 422s."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from ledgergpt_bank import JWT_SECRET, STAFF, SmallBank, build

from ledgerbank.app import create_app
from ledgerbank.config import Settings
from ledgerbank.kit.db import Database

ASKERS = {"auditor", "compliance_officer", "admin"}


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, SmallBank]]:
    settings = Settings(
        database_url=database_url,
        jwt_secret=JWT_SECRET,
        data_dir=tmp_path,
        environment="test",
        password_hash_time_cost=1,
        password_hash_memory_kib=64,
        password_hash_parallelism=1,
    )
    with TestClient(create_app(settings)) as client:
        database: Database = client.app.state.db  # type: ignore[attr-defined]
        yield client, build(database)


def _ask(client: TestClient, bank: SmallBank, who: str | None, question: str, **extra: Any) -> Any:
    headers = {}
    if who is not None:
        role = "customer" if who == "alice" else who
        headers["Authorization"] = f"Bearer {bank.token(who, role)}"
    return client.post("/ledgergpt/ask", json={"question": question, **extra}, headers=headers)


def test_who_may_ask(api: tuple[TestClient, SmallBank]) -> None:
    client, bank = api
    for who in (None, "alice", *STAFF):
        response = _ask(client, bank, who, "which accounts are frozen")
        if who is None:
            assert response.status_code == 401, who
            assert response.json()["code"] == "not_authenticated"
        elif who in ASKERS:
            assert response.status_code == 200, (who, response.text)
        else:
            assert response.status_code == 403, who
            assert response.json()["code"] == "forbidden"


def test_an_answer_has_the_sql_the_rows_and_exact_money(
    api: tuple[TestClient, SmallBank],
) -> None:
    client, bank = api
    response = _ask(client, bank, "auditor", "find transfers over $500")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {
        "question", "sql", "columns", "rows", "row_count", "engine", "explanation",
    }  # fmt: skip
    assert body["question"] == "find transfers over $500"
    assert body["engine"] == "offline"
    assert body["sql"].startswith("SELECT")
    assert "vw_transactions" in body["sql"]
    assert body["parameters"]["amount_0"] == "500"
    amount = body["columns"].index("amount")
    assert sorted(row[amount] for row in body["rows"]) == ["640.00", "980.00"]
    assert body["row_count"] == 2
    created = body["columns"].index("created_at")
    assert all(row[created].endswith("+00:00") for row in body["rows"])


def test_not_understood_comes_with_suggestions(api: tuple[TestClient, SmallBank]) -> None:
    client, bank = api
    response = _ask(client, bank, "admin", "what is the meaning of life")
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "not_understood"
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "show all transactions for alice" in problem["suggestions"]


def test_unsafe_sql_is_refused(api: tuple[TestClient, SmallBank]) -> None:
    client, bank = api
    response = _ask(client, bank, "compliance_officer", "SELECT password_hash FROM users")
    assert response.status_code == 422
    assert response.json()["code"] == "unsafe_query"


def test_personal_details_depend_on_the_role(api: tuple[TestClient, SmallBank]) -> None:
    client, bank = api
    question = "SELECT username, email FROM vw_customers WHERE role = 'customer'"
    refused = _ask(client, bank, "auditor", question)
    assert refused.status_code == 422
    assert refused.json()["code"] == "unsafe_query"
    allowed = _ask(client, bank, "compliance_officer", question)
    assert allowed.status_code == 200
    assert sorted(allowed.json()["rows"]) == [
        ["alice", "alice@example.com"],
        ["bob", "bob@example.com"],
        ["carol", "carol@example.com"],
    ]


def test_too_long_a_question_is_a_validation_error(api: tuple[TestClient, SmallBank]) -> None:
    client, bank = api
    response = _ask(client, bank, "auditor", "show transactions " * 200)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


def test_examples(api: tuple[TestClient, SmallBank]) -> None:
    client, bank = api
    token = bank.token("auditor", "auditor")
    response = client.get("/ledgergpt/examples", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert "which accounts are frozen" in response.json()["examples"]
