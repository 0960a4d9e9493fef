"""Closing an account: zero balance or the rest moved out in the same request, standing orders
end, statements stay readable, and a closed account refuses every movement."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from api_helpers import PIN, Bank, problem
from sqlalchemy import Connection, func, select, update
from standing_helpers import JAN_31, at, run_job_at, schedule
from tests.ledger.ledger_helpers import run_cli

from ledgerbank.interest import service as interest
from ledgerbank.interest.tables import interest_accruals, interest_payments
from ledgerbank.ledger import posting
from ledgerbank.ledger.tables import accounts


def test_a_zero_balance_account_closes_and_then_refuses_every_movement(bank: Bank) -> None:
    closing, other, bobs = (
        bank.open_account("alice"),
        bank.open_account("alice", kind="savings"),
        bank.open_account("bob"),
    )
    bank.fund(other, "100.00")
    bank.fund(bobs, "100.00")
    bank.fund(closing, "20.00")
    moved = bank.post(
        "alice",
        "/transactions/transfer",
        {"from_account_id": closing, "to_account_id": other, "amount": "20.00", "pin": PIN},
    )
    assert moved.status_code == 201, moved.text
    order = schedule(
        bank,
        "alice",
        from_account_id=closing,
        to_account_id=bobs,
        amount="5.00",
        first_date=JAN_31,
        description="Ends",
    )
    incoming = schedule(
        bank,
        "bob",
        from_account_id=bobs,
        to_account_id=closing,
        amount="5.00",
        first_date=JAN_31,
        description="Into a closed account",
    )

    closed = bank.post("alice", f"/accounts/{closing}/close", {"reason": "moving banks"})
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["account"]["status"] == "closed"
    assert body["moved_out"] is None
    assert sorted(body["standing_orders_ended"]) == sorted([order["id"], incoming["id"]])
    assert bank.get("alice", f"/payments/scheduled/{order['id']}").json()["status"] == "ended"
    assert "account_closed" in [
        n["kind"] for n in bank.get("alice", "/users/notices").json()["items"]
    ]
    assert "standing_order_ended" in [
        n["kind"] for n in bank.get("bob", "/users/notices").json()["items"]
    ]

    refused = [
        bank.post("alice", "/transactions/deposit", {"account_id": closing, "amount": "1.00"}),
        bank.post("admin", "/transactions/deposit", {"account_id": closing, "amount": "1.00"}),
        bank.post(
            "alice",
            "/transactions/withdraw",
            {"account_id": closing, "amount": "1.00", "pin": PIN},
        ),
        bank.post(
            "alice",
            "/transactions/transfer",
            {"from_account_id": closing, "to_account_id": other, "amount": "1.00", "pin": PIN},
        ),
        bank.post(
            "bob",
            "/transactions/transfer",
            {"from_account_id": bobs, "to_account_id": closing, "amount": "1.00", "pin": PIN},
        ),
        bank.post(
            "alice",
            "/transactions/batch",
            {
                "transfers": [{"from_account_id": other, "to_account_id": closing, "amount": "1"}],
                "pin": PIN,
            },
        ),
    ]
    for answer in refused:
        problem(answer, 422, "account_closed")
    assert bank.balance(closing) == 0
    problem(bank.post("alice", f"/accounts/{closing}/close", {}), 409, "invalid_transition")
    statement = bank.get("alice", f"/accounts/{closing}/statement")
    assert statement.status_code == 200, statement.text
    assert [e["amount"] for e in statement.json()["entries"]] == ["20.00", "-20.00"]
    assert run_job_at(bank, at(JAN_31)).items == 0  # its orders ended with it


def test_money_left_refuses_to_close_unless_moved_out_with_the_pin(bank: Bank) -> None:
    closing, savings = bank.open_account("alice"), bank.open_account("alice", kind="savings")
    bank.fund(closing, "75.50")
    before = bank.counts()
    problem(bank.post("alice", f"/accounts/{closing}/close", {}), 409, "balance_not_zero")
    problem(
        bank.post("alice", f"/accounts/{closing}/close", {"move_to_account_id": savings}),
        403,
        "pin_required",
    )
    assert bank.counts()["transactions"] == before["transactions"]
    assert bank.get("alice", f"/accounts/{closing}").json()["status"] == "active"

    closed = bank.post(
        "alice", f"/accounts/{closing}/close", {"move_to_account_id": savings, "pin": PIN}
    )
    assert closed.status_code == 200, closed.text
    body = closed.json()
    assert body["account"]["status"] == "closed"
    assert body["account"]["balance"] == "0.00"
    assert body["moved_out"]["amount"] == "75.50"
    assert body["moved_out"]["to_account_id"] == savings
    assert bank.balance(savings) == 7550


def test_another_customers_account_and_staff_moving_money_away(bank: Bank) -> None:
    alices, alices_savings, bobs = (
        bank.open_account("alice"),
        bank.open_account("alice", kind="savings"),
        bank.open_account("bob"),
    )
    bank.fund(alices, "10.00")
    problem(bank.post("bob", f"/accounts/{alices}/close", {}), 404, "not_found")
    problem(bank.post("auditor", f"/accounts/{alices}/close", {}), 403, "forbidden")
    # staff move the rest only to the same customer's accounts
    problem(
        bank.post("admin", f"/accounts/{alices}/close", {"move_to_account_id": bobs}),
        404,
        "not_found",
    )
    closed = bank.post(
        "admin",
        f"/accounts/{alices}/close",
        {"move_to_account_id": alices_savings, "reason": "deceased estate settled"},
    )
    assert closed.status_code == 200, closed.text
    assert bank.balance(alices_savings) == 1000
    assert bank.get("alice", f"/accounts/{alices}").json()["status"] == "closed"


def test_closing_pays_the_interest_accrued_to_the_closing_day_before_moving_out(
    bank: Bank,
) -> None:
    """7,300.00 at 5 % earns exactly 1.00 a day. The month 40 days ago is accrued and paid; the
    days since are accrued by the job up to three days ago. Closing accrues the last days and
    pays every unpaid month (whole minor units, as the monthly payment) before the move-out,
    once: the jobs and a replay afterwards add nothing."""
    zone = bank.app.state.settings.timezone
    today = datetime.now(UTC).astimezone(ZoneInfo(zone)).date()
    start = today - timedelta(days=40)
    savings = bank.open_account("alice", kind="savings")
    spent = bank.open_account("alice", kind="savings")  # 730.00 from 5 to 2 days ago
    checking = bank.open_account("alice")

    def back_date(conn: Connection) -> None:
        conn.execute(
            update(accounts)
            .where(accounts.c.id.in_([savings, spent]))
            .values(created_at=datetime.combine(start, time(), ZoneInfo(zone)))
        )
        interest.set_rate(
            conn, account_type="savings", annual_rate="0.05", valid_from=start, actor_id=None
        )
        noon = datetime.combine(start, time(12), ZoneInfo(zone))
        posting.deposit(conn, account_id=savings, amount="7300.00", actor_id=None, occurred_at=noon)
        five_days_ago = datetime.combine(today - timedelta(days=5), time(12), ZoneInfo(zone))
        posting.deposit(
            conn, account_id=spent, amount="730.00", actor_id=None, occurred_at=five_days_ago
        )
        posting.withdraw(
            conn,
            account_id=spent,
            amount="730.00",
            actor_id=None,
            occurred_at=datetime.combine(today - timedelta(days=2), time(12), ZoneInfo(zone)),
        )
        day = start
        while day <= today - timedelta(days=3):
            interest.accrue_interest(conn, day, timezone=zone)
            day += timedelta(days=1)
        interest.pay_interest(conn, start, today=today)

    bank.database.write(back_date)
    first_month = start.replace(day=1)
    paid_first = 100 * sum(1 for n in range(40) if (start + timedelta(n)).month == start.month)
    unpaid_days = [start + timedelta(n) for n in range(40)]
    owed = 100 * sum(1 for d in unpaid_days if d.replace(day=1) != first_month)
    assert bank.balance(savings) == 730000 + paid_first

    def rows() -> tuple[int, int]:
        def count(conn: Connection) -> tuple[int, int]:
            accruals = conn.execute(select(func.count()).select_from(interest_accruals))
            payments = conn.execute(select(func.count()).select_from(interest_payments))
            return int(accruals.scalar_one()), int(payments.scalar_one())

        result: tuple[int, int] = bank.database.write(count)
        return result

    # Empty now, but owed 3 days of 0.10: closing needs somewhere to put it; nothing written.
    before = rows()
    refused = bank.post("alice", f"/accounts/{spent}/close", {"reason": "done"})
    problem(refused, 409, "balance_not_zero")
    assert "0.30 USD interest" in refused.json()["detail"]
    assert rows() == before
    moved = bank.post(
        "alice", f"/accounts/{spent}/close", {"move_to_account_id": checking, "pin": PIN}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["interest_paid"]["amount"] == "0.30"
    assert moved.json()["moved_out"]["amount"] == "0.30"

    request = {"move_to_account_id": checking, "pin": PIN, "reason": "moving banks"}
    closed = bank.post("alice", f"/accounts/{savings}/close", request, key="close-savings")
    assert closed.status_code == 200, closed.text
    body = closed.json()
    paid = body["interest_paid"]
    assert (paid["type"], paid["to_account_id"], paid["amount"]) == (
        "journal",
        savings,
        f"{owed // 100}.00",
    )
    assert body["moved_out"]["amount"] == f"{(730000 + paid_first + owed) // 100}.00"
    assert (bank.balance(savings), bank.balance(checking)) == (0, 730000 + paid_first + owed + 30)
    statement = bank.get("alice", f"/accounts/{savings}/statement").json()["entries"]
    assert [e["type"] for e in statement[-2:]] == ["journal", "transfer"]  # interest first

    def accrued_days(conn: Connection) -> list[date]:
        query = select(interest_accruals.c.day).where(interest_accruals.c.account_id == savings)
        return sorted(conn.execute(query).scalars())

    days = bank.database.write(accrued_days)
    assert (days[0], days[-1], len(days)) == (start, today - timedelta(days=1), 40)

    # Idempotent: the jobs find nothing more to accrue or pay, a replay posts nothing.
    counted = bank.counts()
    bank.database.write(lambda c: interest.accrue_interest(c, today - timedelta(1), timezone=zone))
    last_month = today.replace(day=1) - timedelta(days=1)
    bank.database.write(lambda c: interest.pay_interest(c, last_month, today=today))
    again = bank.post("alice", f"/accounts/{savings}/close", request, key="close-savings")
    assert (again.status_code, again.json()) == (200, body)
    assert bank.counts() == counted
    assert bank.balance(checking) == 730000 + paid_first + owed + 30


def test_an_operator_closes_an_account_from_the_command_line(bank: Bank) -> None:
    alices, alices_savings = bank.open_account("alice"), bank.open_account("alice", kind="savings")
    bank.fund(alices, "10.00")
    url = bank.database.engine.url.render_as_string(hide_password=False)
    args = ("ledger", "close-account", str(alices), "--reason", "customer asked by letter")
    refused = run_cli(url, *args, "--as", "admin")  # money left, nowhere to go
    assert refused.exit_code == 2, refused.output
    assert "balance_not_zero" in refused.output
    closed = run_cli(url, *args, "--move-to", str(alices_savings), "--as", "admin")
    assert closed.exit_code == 0, closed.output
    assert "is closed" in closed.output
    assert "moved out: 10.00 USD" in closed.output
    assert bank.balance(alices_savings) == 1000
    assert bank.get("alice", f"/accounts/{alices}").json()["status"] == "closed"
    again = run_cli(url, *args, "--as", "admin")
    assert again.exit_code == 2, again.output
