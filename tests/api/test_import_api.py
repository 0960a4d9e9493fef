"""POST /admin/import: a CSV upload posts history with its timestamps, or reports why not."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from api_helpers import Bank
from sqlalchemy import select

from ledgerbank.ledger.tables import accounts, transactions

HEADER = "external_id,timestamp,type,from_account,to_account,amount,currency,description\n"


def number(bank: Bank, account_id: int) -> str:
    return str(
        bank.read(
            lambda conn: conn.execute(
                select(accounts.c.account_number).where(accounts.c.id == account_id)
            ).scalar_one()
        )
    )


def upload(bank: Bank, who: str | None, text: str, **flags: Any) -> Any:
    files = {"file": ("history.csv", text.encode(), "text/csv")}
    form = {k: str(v).lower() for k, v in flags.pop("form", {}).items()}
    return bank.client.post(
        "/admin/import", files=files, data=form, params=flags, headers=bank.headers(who)
    )


def approved(bank: Bank, proposed: Any) -> dict[str, Any]:
    """A file that moves money waits (202) until a second admin approves it; the approval's
    result is the import report."""
    result: dict[str, Any] = bank.approve(proposed)["result"]
    return result


def imported(bank: Bank) -> list[tuple[str, str, datetime]]:
    rows = bank.read(
        lambda conn: conn.execute(
            select(transactions.c.external_id, transactions.c.type, transactions.c.created_at)
            .where(transactions.c.external_id.is_not(None))
            .order_by(transactions.c.created_at)
        ).all()
    )
    return [tuple(row) for row in rows]


def test_admin_imports_history_with_its_timestamps_once(bank: Bank) -> None:
    mine, theirs = bank.open_account("alice"), bank.open_account("bob")
    a, b = number(bank, mine), number(bank, theirs)
    text = (
        HEADER
        + f"ext-1,2024-01-05T09:00:00Z,deposit,,{a},120.00,USD,opening\n"
        + f"ext-2,2024-01-06T10:30:00+00:00,transfer,{a},{b},20.00,USD,gift\n"
    )
    answer = upload(bank, "admin", text)
    assert answer.json()["preview"]["posted"] == 2  # the dry run the checker decides on
    assert imported(bank) == []
    report = approved(bank, answer)
    assert (report["rows"], report["posted"], report["skipped_duplicates"]) == (2, 2, 0)
    assert report["errors"] == []
    assert imported(bank) == [
        ("ext-1", "deposit", datetime(2024, 1, 5, 9, tzinfo=UTC)),
        ("ext-2", "transfer", datetime(2024, 1, 6, 10, 30, tzinfo=UTC)),
    ]
    assert bank.balance(mine) == 100_00
    assert bank.balance(theirs) == 20_00
    again = upload(bank, "admin", text)  # moves nothing: no second person needed
    assert again.status_code == 200, again.text
    assert (again.json()["posted"], again.json()["skipped_duplicates"]) == (0, 2)
    assert bank.balance(mine) == 100_00


def test_a_bad_row_rejects_the_file_unless_partial(bank: Bank) -> None:
    mine = bank.open_account("alice")
    a = number(bank, mine)
    text = (
        HEADER
        + f"ext-1,2024-01-05T09:00:00Z,deposit,,{a},50.00,USD,\n"
        + f"ext-2,2024-01-06T09:00:00Z,deposit,,{a},12.345,USD,\n"
        + f"ext-3,2024-01-07T09:00:00Z,deposit,,{a},5.00,USD,\n"
    )
    before = bank.counts()
    rejected = upload(bank, "admin", text)
    assert rejected.status_code == 422, rejected.text
    problem = rejected.json()
    assert problem["code"] == "import_rejected"
    assert [e["line"] for e in problem["report"]["errors"]] == [3]
    assert bank.counts() == before
    # a dry run says what would happen and writes nothing
    dry = upload(bank, "admin", text, form={"dry_run": True, "partial": True})
    assert dry.status_code == 200, dry.text
    assert (dry.json()["dry_run"], dry.json()["posted"]) == (True, 2)
    assert bank.counts() == before
    # partial posts the good rows and reports the bad one
    partial = approved(bank, upload(bank, "admin", text, partial="true"))
    assert partial["posted"] == 2
    assert [e["line"] for e in partial["errors"]] == [3]
    assert bank.balance(mine) == 55_00


def test_only_admins_import(bank: Bank) -> None:
    text = HEADER
    assert upload(bank, None, text).status_code == 401
    for who in ("alice", "auditor", "fraud_analyst", "financial_manager", "compliance_officer"):
        answer = upload(bank, who, text)
        assert answer.status_code == 403, (who, answer.text)
        assert answer.json()["code"] == "forbidden"
    assert upload(bank, "admin", text).status_code == 200


def test_files_that_are_not_history(bank: Bank) -> None:
    empty = upload(bank, "admin", "")
    assert empty.status_code == 422
    assert empty.json()["code"] == "import_rejected"
    wrong = upload(bank, "admin", "name,age\nalice,30\n")
    assert wrong.status_code == 422
    assert "missing column" in wrong.json()["report"]["errors"][0]["message"]
    no_file = bank.client.post("/admin/import", headers=bank.headers("admin"))
    assert no_file.status_code == 422
    assert no_file.json()["code"] == "validation_error"
    bank.app.state.settings.import_max_mb = 1
    too_big = upload(bank, "admin", HEADER + "x" * (1024 * 1024))
    assert too_big.status_code == 422
    assert too_big.json()["code"] == "validation_error"
