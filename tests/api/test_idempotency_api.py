"""Idempotency-Key: a replay answers the first response and posts nothing; another body is 409."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from api_helpers import PIN, Bank, problem
from sqlalchemy import func, select

from ledgerbank.ledger.tables import idempotency_keys, transactions


def transaction_count(bank: Bank) -> int:
    return int(
        bank.read(
            lambda conn: conn.execute(select(func.count()).select_from(transactions)).scalar_one()
        )
    )


@pytest.mark.parametrize("path", ["/transactions/deposit", "/transactions/transfer"])
def test_a_replay_answers_the_first_response_and_posts_nothing(bank: Bank, path: str) -> None:
    mine = bank.open_account("alice")
    theirs = bank.open_account("bob")
    bank.fund(mine, "100.00")
    body = (
        {"account_id": mine, "amount": "10.00"}
        if path.endswith("deposit")
        else {"from_account_id": mine, "to_account_id": theirs, "amount": "10.00", "pin": PIN}
    )
    first = bank.post("alice", path, body, key="order-1")
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    count, balance = transaction_count(bank), bank.balance(mine)
    for _ in range(2):
        again = bank.post("alice", path, body, key="order-1")
        assert again.status_code == 201
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
    # the same amount written as a JSON number is the same request
    as_number = bank.post("alice", path, {**body, "amount": 10.00}, key="order-1")
    assert as_number.status_code == 201
    assert as_number.json() == first.json()
    assert transaction_count(bank) == count
    assert bank.balance(mine) == balance
    stored = bank.read(
        lambda conn: conn.execute(
            select(idempotency_keys.c.scope, idempotency_keys.c.transaction_id)
        ).all()
    )
    assert [tuple(row) for row in stored] == [(f"user:{bank.users['alice']}", first.json()["id"])]


def test_the_same_key_with_another_request_is_a_conflict(bank: Bank) -> None:
    mine = bank.open_account("alice")
    bank.fund(mine, "100.00")
    first = bank.post(
        "alice", "/transactions/deposit", {"account_id": mine, "amount": "10.00"}, key="k-1"
    )
    assert first.status_code == 201
    count = transaction_count(bank)
    problem(
        bank.post(
            "alice", "/transactions/deposit", {"account_id": mine, "amount": "11.00"}, key="k-1"
        ),
        409,
        "idempotency_conflict",
    )
    problem(
        bank.post(
            "alice",
            "/transactions/withdraw",
            {"pin": PIN, "account_id": mine, "amount": "10.00"},
            key="k-1",
        ),
        409,
        "idempotency_conflict",
    )
    assert transaction_count(bank) == count
    # keys belong to their user: bob's "k-1" is his own
    bobs = bank.open_account("bob")
    theirs = bank.post(
        "bob", "/transactions/deposit", {"account_id": bobs, "amount": "10.00"}, key="k-1"
    )
    assert theirs.status_code == 201
    assert theirs.json()["id"] != first.json()["id"]


def test_a_refused_request_stores_no_key_and_may_be_retried(bank: Bank) -> None:
    mine = bank.open_account("alice")
    body = {"account_id": mine, "amount": "30.00", "pin": PIN}
    problem(
        bank.post("alice", "/transactions/withdraw", body, key="w-1"), 422, "insufficient_funds"
    )
    bank.fund(mine, "30.00")
    retried = bank.post("alice", "/transactions/withdraw", body, key="w-1")
    assert retried.status_code == 201, retried.text
    assert bank.balance(mine) == 0


MALFORMED_KEYS = [b"", b"x" * 256, b"tab\there", "caf\u00e9".encode("latin-1"), b"\x01ctl"]


def test_malformed_keys_are_refused(bank: Bank) -> None:
    mine = bank.open_account("alice")
    before = bank.counts()
    for key in MALFORMED_KEYS:
        answer = bank.client.post(
            "/transactions/deposit",
            json={"account_id": mine, "amount": "1.00"},
            headers={**bank.headers("alice"), "Idempotency-Key": key},  # type: ignore[dict-item]
        )
        assert answer.status_code == 422, (key, answer.text)
        assert answer.json()["code"] == "validation_error"
    assert bank.counts() == before


def test_the_longest_key_is_accepted(bank: Bank) -> None:
    mine = bank.open_account("alice")
    key = "k" * 255
    first = bank.post(
        "alice", "/transactions/deposit", {"account_id": mine, "amount": "1"}, key=key
    )
    again = bank.post(
        "alice", "/transactions/deposit", {"account_id": mine, "amount": "1"}, key=key
    )
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert bank.balance(mine) == 1_00


def test_concurrent_requests_with_one_key_post_once(bank: Bank) -> None:
    mine = bank.open_account("alice")
    theirs = bank.open_account("bob")
    bank.fund(mine, "100.00")
    body = {"from_account_id": mine, "to_account_id": theirs, "amount": "7.00", "pin": PIN}
    callers = 4
    start = threading.Barrier(callers)
    answers: list[Any] = [None] * callers

    def send(index: int) -> None:
        start.wait()
        answers[index] = bank.post("alice", "/transactions/transfer", body, key="same-click")

    threads = [threading.Thread(target=send, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [201] * callers, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    assert sum(a.headers.get("idempotent-replayed") != "true" for a in answers) == 1
    assert bank.balance(mine) == 93_00
    assert bank.balance(theirs) == 7_00
