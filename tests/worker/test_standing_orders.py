"""Standing orders: set up with the PIN, paid by the worker month after month, a failing date
retried the same day and skipped after its last try, the 31st in short months, a declined
payment, a crash between paying and recording, cancelling."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from api_helpers import Bank, ThresholdScreen, problem
from standing_helpers import JAN_31, at, payments_of, run_job_at, schedule

from ledgerbank.kit.clock import frozen_at, utcnow
from ledgerbank.ledger import idempotency
from ledgerbank.ledger.money import Caller, MoneyRequest, MoneyService
from ledgerbank.ledger.orders import Transfer
from ledgerbank.payments import service
from ledgerbank.payments.calendar import due_date


def _order(bank: Bank, who: str, payment_id: int) -> dict[str, Any]:
    answer = bank.get(who, f"/payments/scheduled/{payment_id}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


def _runs(bank: Bank, who: str, payment_id: int) -> list[tuple[str, int, str, str | None]]:
    runs = _order(bank, who, payment_id)["runs"]
    return [(r["due_date"], r["attempt"], r["outcome"], r["code"]) for r in reversed(runs)]


def _notices(bank: Bank, who: str) -> list[str]:
    return [n["kind"] for n in bank.get(who, "/users/notices").json()["items"]]


def test_monthly_on_the_31st_falls_on_the_last_day_of_shorter_months() -> None:
    months = [due_date(JAN_31, "monthly", n) for n in range(5)]
    assert months == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
        date(2027, 5, 31),
    ]
    assert due_date(date(2028, 1, 31), "monthly", 1) == date(2028, 2, 29)  # a leap year
    assert due_date(JAN_31, "weekly", 2) == date(2027, 2, 14)
    assert due_date(JAN_31, "once", 1) is None


def test_rent_over_four_months_with_a_failing_date_and_its_retry(bank: Bank) -> None:
    rent_from, landlord = bank.open_account("alice"), bank.open_account("bob")
    bank.fund(rent_from, "1000.00")
    order = schedule(
        bank,
        "alice",
        from_account_id=rent_from,
        to_account_id=landlord,
        amount="400.00",
        first_date=JAN_31,
        until=date(2027, 4, 30),
        description="Rent",
    )
    assert (order["status"], order["next_due"], order["amount"]) == (
        "active",
        "2027-01-31",
        "400.00",
    )
    assert "standing_order_created" in _notices(bank, "alice")

    assert run_job_at(bank, at(date(2027, 1, 30))).items == 0  # not due yet
    assert run_job_at(bank, at(JAN_31)).items == 1
    assert run_job_at(bank, at(JAN_31, 15)).items == 0  # paid: next due in February
    assert bank.balance(rent_from) == 60000
    assert _order(bank, "alice", order["id"])["next_due"] == "2027-02-28"

    run_job_at(bank, at(date(2027, 2, 28)))
    assert bank.balance(rent_from) == 20000
    # March: 200.00 left, the rent fails; tried again an hour later, after the salary came in
    run_job_at(bank, at(date(2027, 3, 31)))
    failed = _order(bank, "alice", order["id"])
    assert (failed["next_due"], failed["failed_attempts"]) == ("2027-03-31", 1)
    assert run_job_at(bank, at(date(2027, 3, 31), 9, 30)).items == 0  # waits for its retry
    with frozen_at(at(date(2027, 3, 31), 9, 45)):
        bank.fund(rent_from, "500.00")
    run_job_at(bank, at(date(2027, 3, 31), 10, 1))
    assert bank.balance(rent_from) == 30000
    # April: 300.00 left; three tries in the day, then the date is skipped and she is told
    for hour in (9, 10, 11):
        run_job_at(bank, at(date(2027, 4, 30), hour, 2))
    assert run_job_at(bank, at(date(2027, 4, 30), 12, 3)).items == 0
    assert bank.balance(rent_from) == 30000

    assert _runs(bank, "alice", order["id"]) == [
        ("2027-01-31", 1, "posted", None),
        ("2027-02-28", 1, "posted", None),
        ("2027-03-31", 1, "failed", "insufficient_funds"),
        ("2027-03-31", 2, "posted", None),
        ("2027-04-30", 1, "failed", "insufficient_funds"),
        ("2027-04-30", 2, "failed", "insufficient_funds"),
        ("2027-04-30", 3, "skipped", "insufficient_funds"),
    ]
    done = _order(bank, "alice", order["id"])
    assert (done["status"], done["next_due"]) == ("completed", None)
    assert payments_of(bank, "Rent") == 3
    assert bank.balance(landlord) == 120000
    assert "standing_order_payment_skipped" in _notices(bank, "alice")


def test_a_date_missed_while_no_worker_ran_is_paid_once_late(bank: Bank) -> None:
    source, payee = bank.open_account("alice"), bank.open_account("bob")
    bank.fund(source, "100.00")
    order = schedule(
        bank,
        "alice",
        from_account_id=source,
        to_account_id=payee,
        amount="10.00",
        first_date=JAN_31,
        frequency="weekly",
        description="Pocket money",
    )
    # the worker was down for three weeks: each missed date is paid once, oldest first
    assert run_job_at(bank, at(date(2027, 2, 15))).items == 3
    assert payments_of(bank, "Pocket money") == 3
    assert _order(bank, "alice", order["id"])["next_due"] == "2027-02-21"


def test_setting_one_up_needs_the_pin_and_ones_own_account(bank: Bank) -> None:
    mine, theirs = bank.open_account("alice"), bank.open_account("bob")
    today = utcnow().date()
    body = {
        "from_account_id": mine,
        "to_account_id": theirs,
        "amount": "5.00",
        "first_date": today.isoformat(),
        "frequency": "once",
    }
    problem(bank.post("alice", "/payments/scheduled", {**body, "pin": "9999"}), 403, "invalid_pin")
    problem(
        bank.post("bob", "/payments/scheduled", {**body, "pin": "2468"}), 404, "not_found"
    )  # alice's account, to bob
    past = {**body, "first_date": (today - timedelta(days=2)).isoformat(), "pin": "2468"}
    problem(bank.post("alice", "/payments/scheduled", past), 422, "invalid_schedule")
    problem(
        bank.post("alice", "/payments/scheduled", {**body, "amount": "0", "pin": "2468"}),
        422,
        "invalid_amount",
    )
    assert bank.get("alice", "/payments/scheduled").json()["items"] == []
    made = schedule(bank, "alice", **body)
    assert bank.get("bob", f"/payments/scheduled/{made['id']}").status_code == 404
    assert [o["id"] for o in bank.get("alice", "/payments/scheduled").json()["items"]] == [
        made["id"]
    ]
    assert bank.get("bob", "/payments/scheduled").json()["items"] == []
    assert bank.get("admin", f"/payments/scheduled/{made['id']}").status_code == 200


def test_a_cancelled_order_pays_nothing_more(bank: Bank) -> None:
    source, payee = bank.open_account("alice"), bank.open_account("bob")
    bank.fund(source, "100.00")
    order = schedule(
        bank,
        "alice",
        from_account_id=source,
        to_account_id=payee,
        amount="10.00",
        first_date=JAN_31,
        description="Gym",
    )
    assert bank.call("bob", "DELETE", f"/payments/scheduled/{order['id']}").status_code == 404
    cancelled = bank.call("alice", "DELETE", f"/payments/scheduled/{order['id']}")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert run_job_at(bank, at(JAN_31)).items == 0
    assert payments_of(bank, "Gym") == 0


def test_a_declined_payment_is_not_retried_and_tells_the_customer_nothing_more(
    bank: Bank,
) -> None:
    source, payee = bank.open_account("alice"), bank.open_account("bob")
    bank.fund(source, "5000.00")
    order = schedule(
        bank,
        "alice",
        from_account_id=source,
        to_account_id=payee,
        amount="3000.00",
        first_date=JAN_31,
        description="Large",
    )
    bank.set_screen(ThresholdScreen(block_from=100000))
    run_job_at(bank, at(JAN_31))
    assert run_job_at(bank, at(JAN_31, 11)).items == 0
    assert _runs(bank, "alice", order["id"]) == [("2027-01-31", 1, "declined", "payment_declined")]
    seen = bank.get("alice", f"/payments/scheduled/{order['id']}").text
    for secret in ("risk", "score", "verdict", "threshold", "CRITICAL", "test_threshold"):
        assert secret not in seen
    assert _order(bank, "alice", order["id"])["next_due"] == "2027-02-28"
    assert bank.balance(source) == 500000


def test_a_worker_that_died_after_paying_records_the_payment_and_pays_nothing_twice(
    bank: Bank,
) -> None:
    source, payee = bank.open_account("alice"), bank.open_account("bob")
    bank.fund(source, "100.00")
    order = schedule(
        bank,
        "alice",
        from_account_id=source,
        to_account_id=payee,
        amount="25.00",
        first_date=JAN_31,
        description="Crash",
    )
    settings = bank.app.state.settings
    money = MoneyService.from_settings(bank.database, lambda: bank.app.state.screen, settings)
    # what the job does for this date, cut off after the money service committed
    with frozen_at(at(JAN_31)):
        first = money.run(
            MoneyRequest(
                caller=Caller(bank.users["alice"], "customer", pin_exempt=True),
                order=Transfer(source, payee, "25.00", "Crash"),
                key=service.idempotency_key(order["id"], JAN_31),
                fingerprint=idempotency.fingerprint(
                    "RUN",
                    "/payments/scheduled",
                    {"id": order["id"], "due_date": JAN_31.isoformat(), "amount": "25.00"},
                ),
            )
        )
    assert first.status == 201
    run_job_at(bank, at(JAN_31, 9, 5), money)  # the restarted worker
    assert payments_of(bank, "Crash") == 1
    assert bank.balance(source) == 7500
    assert _runs(bank, "alice", order["id"]) == [("2027-01-31", 1, "posted", None)]
    assert _order(bank, "alice", order["id"])["runs"][0]["transaction_id"] == first.transaction_id
