"""GET /transactions/history: visibility, filters, sorting, keyset paging and the CSV export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from api_helpers import Bank

from ledgerbank.ledger import posting


@dataclass
class Story:
    """Alice's and Bob's first quarter of 2024; the ids of its transactions by name."""

    alice_usd: int
    alice_jpy: int
    bob_usd: int
    ids: dict[str, int]


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


@pytest.fixture
def story(bank: Bank) -> Story:
    alice_usd = bank.open_account("alice")
    alice_jpy = bank.open_account("alice", currency="JPY", kind="savings")
    bob_usd = bank.open_account("bob")
    alice, bob = bank.users["alice"], bank.users["bob"]
    # (name, operation, day, arguments): each posted with its historical timestamp
    steps: list[tuple[str, Any, str, dict[str, Any]]] = [
        (
            "salary",
            posting.deposit,
            "2024-01-10",
            {
                "account_id": alice_usd,
                "amount": "100.00",
                "actor_id": alice,
                "description": "Salary_January",
            },
        ),
        (
            "rent",
            posting.transfer,
            "2024-01-15",
            {
                "from_account_id": alice_usd,
                "to_account_id": bob_usd,
                "amount": "25.50",
                "actor_id": alice,
                "description": "rent",
            },
        ),
        (
            "atm",
            posting.withdraw,
            "2024-02-01",
            {"account_id": alice_usd, "amount": "10.00", "actor_id": alice, "description": "ATM"},
        ),
        (
            "yen",
            posting.deposit,
            "2024-02-10",
            {
                "account_id": alice_jpy,
                "amount": "5000",
                "actor_id": alice,
                "description": "yen cash",
            },
        ),
        (
            "bob_pay",
            posting.deposit,
            "2024-02-20",
            {"account_id": bob_usd, "amount": "70.00", "actor_id": bob, "description": "bob pay"},
        ),
        (
            "march",
            posting.transfer,
            "2024-03-01",
            {
                "from_account_id": alice_usd,
                "to_account_id": bob_usd,
                "amount": "30.00",
                "actor_id": alice,
                "description": "Rent 100% March",
            },
        ),
    ]
    ids = {}
    for name, operation, day, arguments in steps:
        result = bank.database.write(
            lambda conn, op=operation, d=day, a=arguments: op(conn, occurred_at=at(d), **a)
        )
        ids[name] = int(result.transaction["id"])
    return Story(alice_usd, alice_jpy, bob_usd, ids)


def names(story: Story, items: list[dict[str, Any]]) -> list[str]:
    by_id = {v: k for k, v in story.ids.items()}
    return [by_id[item["id"]] for item in items]


def history(bank: Bank, who: str, **params: Any) -> Any:
    answer = bank.get(who, "/transactions/history", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_each_customer_sees_their_own_and_staff_see_all(bank: Bank, story: Story) -> None:
    alice = history(bank, "alice")
    assert names(story, alice["items"]) == ["march", "yen", "atm", "rent", "salary"]
    assert alice["next_cursor"] is None
    assert names(story, history(bank, "bob")["items"]) == ["march", "bob_pay", "rent"]
    everything = ["march", "bob_pay", "yen", "atm", "rent", "salary"]
    for role in ("admin", "auditor", "fraud_analyst", "financial_manager", "compliance_officer"):
        assert names(story, history(bank, role)["items"]) == everything
    first = alice["items"][-1]
    assert first["amount"] == "100.00"
    assert first["type"] == "deposit"
    assert first["risk"] is None  # customers never see risk (tipping off); staff do
    assert datetime.fromisoformat(first["created_at"]) == at("2024-01-10")


def test_filters(bank: Bank, story: Story) -> None:
    def pick(**params: Any) -> list[str]:
        return names(story, history(bank, "alice", **params)["items"])

    assert pick(account_id=story.alice_usd) == ["march", "atm", "rent", "salary"]
    assert pick(account_id=story.alice_jpy) == ["yen"]
    assert pick(account_id=story.bob_usd) == ["march", "rent"]  # only what alice paid in
    assert pick(type="deposit") == ["yen", "salary"]
    assert pick(type="transfer", status="posted") == ["march", "rent"]
    assert pick(status="blocked") == []
    assert pick(currency="jpy") == ["yen"]
    assert pick(min_amount="30") == ["march", "yen", "salary"]
    assert pick(max_amount="30") == ["march", "atm", "rent"]
    assert pick(min_amount="25.5", max_amount="25.50") == ["rent"]
    assert pick(currency="USD", min_amount="30") == ["march", "salary"]
    # yen have no minor unit: 4999.5 yen lies between 4999 and 5000
    assert pick(currency="JPY", min_amount="4999.5") == ["yen"]
    assert pick(currency="JPY", max_amount="4999.5") == []
    assert pick(**{"from": "2024-02-01", "to": "2024-02-10"}) == ["yen", "atm"]
    assert pick(**{"from": "2024-02-01T12:00:01+00:00"}) == ["march", "yen"]
    assert pick(**{"to": "2024-01-15T13:00:00+01:00"}) == ["rent", "salary"]
    assert pick(q="RENT") == ["march", "rent"]
    assert pick(q="100%") == ["march"]
    assert pick(q="_") == ["salary"]  # LIKE wildcards are matched literally
    by_id = pick(q=str(story.ids["atm"]))
    assert "atm" in by_id


BAD_PARAMETERS: list[tuple[dict[str, Any], str]] = [
    ({"type": "loan"}, "validation_error"),
    ({"status": "pending"}, "validation_error"),
    ({"min_amount": "-1"}, "validation_error"),
    ({"min_amount": "NaN"}, "validation_error"),
    ({"sort": "description"}, "validation_error"),
    ({"limit": 0}, "validation_error"),
    ({"limit": 501}, "validation_error"),
    ({"from": "last week"}, "validation_error"),
    ({"currency": "XYZ"}, "unknown_currency"),
    ({"cursor": "bm90IG91cnM"}, "validation_error"),
    ({"format": "xml"}, "validation_error"),
]


def test_bad_parameters_answer_422(bank: Bank) -> None:
    for params, code in BAD_PARAMETERS:
        answer = bank.get("alice", "/transactions/history", params=params)
        assert answer.status_code == 422, (params, answer.text)
        assert answer.json()["code"] == code, (params, answer.json())


def test_sorting(bank: Bank, story: Story) -> None:
    assert names(story, history(bank, "alice", sort="created_at")["items"]) == [
        "salary",
        "rent",
        "atm",
        "yen",
        "march",
    ]
    # amounts sort by minor units within a currency; filter by currency to compare like with like
    assert names(story, history(bank, "alice", sort="amount", currency="USD")["items"]) == [
        "atm",
        "rent",
        "march",
        "salary",
    ]
    assert names(story, history(bank, "alice", sort="-amount", currency="USD")["items"]) == [
        "salary",
        "march",
        "rent",
        "atm",
    ]
    ids = [t["id"] for t in history(bank, "alice", sort="id")["items"]]
    assert ids == sorted(ids)


ALL_SORTS = ["-created_at", "created_at", "amount", "-amount", "id", "-id"]


def test_pages_follow_each_other_without_gaps_or_repeats(bank: Bank, story: Story) -> None:
    # a batch shares one timestamp: paging must still walk through ties one by one
    batch = bank.database.write(
        lambda conn: posting.transfer_batch(
            conn,
            [posting.TransferOrder(story.alice_usd, story.bob_usd, "1.00") for _ in range(3)],
            actor_id=bank.users["alice"],
        )
    )
    assert len({t["created_at"] for t in batch.transactions}) == 1
    for sort in ALL_SORTS:
        whole = history(bank, "alice", sort=sort, limit=500)["items"]
        assert len(whole) == 8
        seen: list[int] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"sort": sort, "limit": 3}
            if cursor:
                params["cursor"] = cursor
            page = history(bank, "alice", **params)
            assert len(page["items"]) <= 3
            seen += [t["id"] for t in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [t["id"] for t in whole], sort
        # a cursor only continues the order it came from
        first = history(bank, "alice", sort=sort, limit=1)["next_cursor"]
        other = "id" if sort != "id" else "-id"
        wrong = bank.get("alice", "/transactions/history", params={"sort": other, "cursor": first})
        assert wrong.status_code == 422, sort


def test_csv_export_of_the_filtered_list(bank: Bank, story: Story) -> None:
    answer = bank.get("alice", "/transactions/history", params={"format": "csv", "type": "deposit"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert "attachment" in answer.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["id"] for r in rows] == [str(story.ids["yen"]), str(story.ids["salary"])]
    assert [r["amount"] for r in rows] == ["5000", "100.00"]
    assert [r["currency"] for r in rows] == ["JPY", "USD"]
    assert rows[1]["description"] == "Salary_January"
    assert datetime.fromisoformat(rows[1]["created_at"]) == at("2024-01-10")
    # the export is not paged: every match, beyond the default page size
    every = bank.get("auditor", "/transactions/history", params={"format": "csv", "limit": 1})
    assert len(list(csv.DictReader(io.StringIO(every.text)))) == 6
    # a description a spreadsheet would run stays text
    bank.post(
        "alice",
        "/transactions/deposit",
        {"account_id": story.alice_usd, "amount": "1", "description": "=HYPERLINK(1)"},
    )
    mine = bank.get("alice", "/transactions/history", params={"format": "csv", "q": "hyperlink"})
    (row,) = csv.DictReader(io.StringIO(mine.text))
    assert row["description"] == "'=HYPERLINK(1)"
