"""Holds over HTTP: worked examples with `ledger verify` after every step, API tokens and their
scopes, what customers see, and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from api_helpers import Bank, api_settings, problem
from sqlalchemy import select, update
from tests.ledger.ledger_helpers import run_cli, run_ledger_verify

from ledgerbank.audit.tables import audit_log
from ledgerbank.jobs import registry
from ledgerbank.ledger import accounts as account_service
from ledgerbank.ledger import hold_orders, holds
from ledgerbank.ledger.closing import CloseAccount
from ledgerbank.ledger.money import Caller, MoneyRequest
from ledgerbank.ledger.tables import accounts, transactions
from ledgerbank.ledger.tables import holds as holds_table
from ledgerbank.risk.screen import build_screen
from ledgerbank.worker.registry import JobContext


def verified(url: str) -> None:
    result = run_ledger_verify(url)
    assert result.exit_code == 0, result.output


def account(bank: Bank, who: str, account_id: int) -> dict[str, Any]:
    response = bank.get(who, f"/accounts/{account_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def place(
    bank: Bank, who: str, account_id: int, amount: str, key: str | None = None, **extra: Any
) -> Any:
    body = {"account_id": account_id, "amount": amount, "description": "Card"} | extra
    return bank.post(who, "/holds", body, key=key)


def api_token(bank: Bank, *scopes: str, name: str = "card processor") -> tuple[int, str]:
    response = bank.post("admin", "/admin/api-tokens", {"name": name, "scopes": list(scopes)})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["token"].startswith("lbk_")
    assert body["prefix"] == body["token"][:12]
    return int(body["id"]), str(body["token"])


def as_token(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_worked_example_place_capture_partly_void(bank: Bank, database_url: str) -> None:
    alice = bank.open_account("alice")
    bob = bank.open_account("bob")
    bank.fund(alice, "100.00")
    verified(database_url)

    first = place(bank, "admin", alice, "30.00")
    assert first.status_code == 201, first.text
    hold = first.json()
    assert hold["status"] == "active"
    assert hold["amount"] == "30.00"
    seen = account(bank, "alice", alice)
    assert (seen["balance"], seen["available_balance"], seen["held"]) == (
        "100.00",
        "70.00",
        "30.00",
    )
    balance = bank.get("alice", f"/accounts/{alice}/balance").json()
    assert (balance["available_balance"], balance["held"]) == ("70.00", "30.00")
    verified(database_url)

    # A partial capture posts 20.00 to the card settlement account and releases the rest.
    captured = bank.post("admin", f"/holds/{hold['id']}/capture", {"amount": "20.00"})
    assert captured.status_code == 200, captured.text
    body = captured.json()
    assert body["status"] == "captured"
    assert body["captured_amount"] == "20.00"
    seen = account(bank, "alice", alice)
    assert (seen["balance"], seen["available_balance"], seen["held"]) == ("80.00", "80.00", "0.00")
    posted = bank.get("admin", f"/transactions/{body['transaction_id']}").json()
    assert (posted["type"], posted["amount"], posted["from_account_id"]) == (
        "capture",
        "20.00",
        alice,
    )
    settlement = bank.read(
        lambda conn: account_service.internal_account_id(conn, "USD", "card_settlement")
    )
    assert bank.read(lambda conn: account_service.get_account(conn, settlement))["balance"] == 2000
    verified(database_url)

    # A hold with a payee: the capture credits the payee.
    to_bob = place(bank, "admin", alice, "50.00", payee_account_id=bob).json()
    assert bank.post("admin", f"/holds/{to_bob['id']}/capture").status_code == 200
    assert bank.balance(bob) == 5000
    assert bank.balance(alice) == 3000
    verified(database_url)

    # A void releases without posting.
    voided = place(bank, "admin", alice, "25.00").json()
    assert account(bank, "alice", alice)["available_balance"] == "5.00"
    answer = bank.post("admin", f"/holds/{voided['id']}/void")
    assert answer.status_code == 200
    assert answer.json()["status"] == "voided"
    assert account(bank, "alice", alice)["available_balance"] == "30.00"
    problem(bank.post("admin", f"/holds/{voided['id']}/capture"), 409, "hold_not_active")
    problem(bank.post("admin", f"/holds/{hold['id']}/void"), 409, "hold_not_active")
    verified(database_url)
    actions = bank.read(
        lambda conn: list(
            conn.execute(
                select(audit_log.c.action).where(audit_log.c.entity_type == "hold")
            ).scalars()
        )
    )
    assert sorted(actions) == sorted(["hold.placed"] * 3 + ["hold.captured"] * 2 + ["hold.voided"])


def test_available_balance_refuses_holds_and_payments(bank: Bank, database_url: str) -> None:
    alice = bank.open_account("alice")
    bank.fund(alice, "100.00")
    assert place(bank, "admin", alice, "60.00").status_code == 201
    problem(place(bank, "admin", alice, "40.01"), 422, "insufficient_funds")
    # The customer's own payments see the available balance too.
    withdrawal = bank.post(
        "alice", "/transactions/withdraw", {"account_id": alice, "amount": "40.01", "pin": "2468"}
    )
    problem(withdrawal, 422, "insufficient_funds")
    assert place(bank, "admin", alice, "40.00").status_code == 201
    assert account(bank, "alice", alice)["available_balance"] == "0.00"
    assert bank.balance(alice) == 10000
    verified(database_url)


def test_frozen_account_refuses_new_holds_but_captures_earlier_ones(
    bank: Bank, database_url: str
) -> None:
    alice = bank.open_account("alice")
    bank.fund(alice, "100.00")
    earlier = place(bank, "admin", alice, "10.00").json()
    response = bank.post(
        "fraud_analyst", f"/accounts/{alice}/freeze", {"reason": "card used abroad"}
    )
    assert response.status_code == 200, response.text
    problem(place(bank, "admin", alice, "5.00"), 422, "account_frozen")
    assert bank.post("admin", f"/holds/{earlier['id']}/capture").status_code == 200
    assert bank.balance(alice) == 9000
    verified(database_url)


def test_expired_hold_releases_itself(bank: Bank, database_url: str) -> None:
    alice = bank.open_account("alice")
    bank.fund(alice, "100.00")
    hold = place(bank, "admin", alice, "70.00").json()
    later = datetime.now(UTC) + timedelta(days=2)
    assert place(bank, "admin", alice, "10.00", expires_at=later.isoformat()).status_code == 201
    past = datetime.now(UTC) - timedelta(minutes=1)
    bank.database.write(
        lambda conn: conn.execute(
            update(holds_table).where(holds_table.c.id == hold["id"]).values(expires_at=past)
        )
    )
    # Reads treat it as released at once; nothing has marked it yet.
    assert account(bank, "alice", alice)["available_balance"] == "90.00"
    assert bank.get("admin", f"/holds/{hold['id']}").json()["status"] == "expired"
    # The next hold on the account marks it expired in its own transaction.
    assert place(bank, "admin", alice, "90.00").status_code == 201
    problem(bank.post("admin", f"/holds/{hold['id']}/capture"), 409, "hold_not_active")
    verified(database_url)


def test_expire_command_marks_what_is_due(bank: Bank, database_url: str) -> None:
    alice = bank.open_account("alice")
    bank.fund(alice, "100.00")
    due = [place(bank, "admin", alice, "10.00").json()["id"] for _ in range(3)]
    kept = place(bank, "admin", alice, "10.00").json()["id"]
    past = datetime.now(UTC) - timedelta(seconds=1)
    bank.database.write(
        lambda conn: conn.execute(
            update(holds_table).where(holds_table.c.id.in_(due)).values(expires_at=past)
        )
    )
    result = run_cli(database_url, "holds", "expire")
    assert result.exit_code == 0, result.output
    assert "3" in result.output
    assert holds.expire_holds(bank.database) == 0
    statuses = bank.read(
        lambda conn: dict(conn.execute(select(holds_table.c.id, holds_table.c.status)).all())
    )
    assert [statuses[i] for i in due] == ["expired"] * 3
    assert statuses[kept] == "active"
    held = bank.read(
        lambda conn: conn.execute(select(accounts.c.held).where(accounts.c.id == alice)).scalar()
    )
    assert held == 1000
    # The worker's job does the same.
    bank.database.write(
        lambda conn: conn.execute(
            update(holds_table).where(holds_table.c.id == kept).values(expires_at=past)
        )
    )
    job = registry().get("holds.expire")
    assert job is not None
    context = JobContext(bank.database, bank.app.state.settings, None, datetime.now(UTC))
    assert job.run(context).items == 1
    assert account(bank, "alice", alice)["held"] == "0.00"
    verified(database_url)


def test_api_tokens_scopes_revocation_and_last_use(bank: Bank, database_url: str) -> None:
    alice = bank.open_account("alice")
    bank.fund(alice, "100.00")
    token_id, processor = api_token(bank, "holds")
    _, reader = api_token(bank, "transfers:read", name="reporting")

    placed = bank.client.post(
        "/holds",
        json={"account_id": alice, "amount": "12.50", "description": "Coffee"},
        headers=as_token(processor),
    )
    assert placed.status_code == 201, placed.text
    assert placed.json()["api_token_id"] == token_id
    # Scopes are enforced: a reporting token reads transfers but places no hold.
    problem(
        bank.client.post(
            "/holds",
            json={"account_id": alice, "amount": "1.00", "description": "x"},
            headers=as_token(reader),
        ),
        403,
        "forbidden",
    )
    assert bank.client.get("/transactions/history", headers=as_token(reader)).status_code == 200
    problem(bank.client.get("/admin/users", headers=as_token(processor)), 403, "forbidden")
    problem(bank.client.get("/admin/api-tokens", headers=as_token(processor)), 403, "forbidden")

    listed = bank.get("admin", "/admin/api-tokens").json()["items"]
    mine = next(t for t in listed if t["id"] == token_id)
    assert mine["last_used_at"] is not None
    assert "token" not in mine
    assert mine["scopes"] == ["holds"]

    assert bank.call("admin", "DELETE", f"/admin/api-tokens/{token_id}").status_code == 204
    problem(
        bank.client.post(f"/holds/{placed.json()['id']}/void", headers=as_token(processor)),
        401,
        "not_authenticated",
    )
    problem(
        bank.client.get("/holds", headers=as_token("lbk_not-a-token")), 401, "not_authenticated"
    )
    problem(bank.call("admin", "DELETE", "/admin/api-tokens/999999"), 404, "not_found")
    actions = bank.read(
        lambda conn: list(
            conn.execute(
                select(audit_log.c.action).where(audit_log.c.entity_type == "api_token")
            ).scalars()
        )
    )
    assert sorted(actions) == ["api_token.created", "api_token.created", "api_token.revoked"]
    verified(database_url)


def test_token_scopes_never_exceed_the_owner_role(bank: Bank) -> None:
    response = bank.post(
        "admin",
        "/admin/api-tokens",
        {"name": "x", "scopes": ["holds"], "owner": bank.users["auditor"]},
    )
    problem(response, 422, "validation_error")
    problem(
        bank.post("admin", "/admin/api-tokens", {"name": "x", "scopes": ["root"]}),
        422,
        "validation_error",
    )
    problem(
        bank.post("auditor", "/admin/api-tokens", {"name": "x", "scopes": ["holds"]}),
        403,
        "forbidden",
    )
    problem(
        bank.post("alice", "/admin/api-tokens", {"name": "x", "scopes": ["holds"]}),
        403,
        "forbidden",
    )


def test_customers_see_their_own_holds_only(bank: Bank) -> None:
    alice = bank.open_account("alice")
    bob = bank.open_account("bob")
    bank.fund(alice, "100.00")
    bank.fund(bob, "100.00")
    mine = place(bank, "admin", alice, "10.00").json()
    theirs = place(bank, "admin", bob, "10.00").json()

    listed = bank.get("alice", "/holds").json()["items"]
    assert [h["id"] for h in listed] == [mine["id"]]
    assert "placed_by" not in listed[0] or listed[0]["placed_by"] is None
    assert bank.get("alice", f"/holds?account_id={alice}").json()["items"][0]["id"] == mine["id"]
    assert bank.get("alice", f"/holds/{mine['id']}").status_code == 200
    problem(bank.get("alice", f"/holds/{theirs['id']}"), 404, "not_found")
    problem(bank.get("alice", f"/holds?account_id={bob}"), 404, "not_found")
    problem(place(bank, "alice", alice, "1.00"), 403, "forbidden")
    problem(bank.post("alice", f"/holds/{mine['id']}/void"), 403, "forbidden")
    staff = bank.get("auditor", f"/holds?account_id={bob}").json()["items"]
    assert [h["id"] for h in staff] == [theirs["id"]]
    problem(bank.post("auditor", f"/holds/{theirs['id']}/void"), 403, "forbidden")


def test_bad_input_changes_nothing(bank: Bank) -> None:
    alice = bank.open_account("alice")
    bob = bank.open_account("bob")
    euro = bank.open_account("bob", currency="EUR")
    bank.fund(alice, "100.00")
    before = bank.counts()
    for amount in ("-1.00", "0", "1.001", "abc", "1e3"):
        problem(place(bank, "admin", alice, amount), 422, "invalid_amount")
    problem(
        bank.post("admin", "/holds", {"account_id": alice, "amount": "1.00"}),
        422,
        "validation_error",
    )
    problem(place(bank, "admin", alice, "1.00", extra="x"), 422, "validation_error")
    problem(place(bank, "admin", 999999, "1.00"), 404, "not_found")
    problem(place(bank, "admin", alice, "1.00", payee_account_id=alice), 422, "same_account")
    problem(place(bank, "admin", alice, "1.00", payee_account_id=euro), 422, "currency_mismatch")
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    problem(place(bank, "admin", alice, "1.00", expires_at=past), 422, "validation_error")
    far = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    problem(place(bank, "admin", alice, "1.00", expires_at=far), 422, "validation_error")
    problem(bank.post("admin", "/holds/999999/capture"), 404, "not_found")
    problem(bank.post("admin", "/holds/0/void"), 422, "validation_error")
    hold = place(bank, "admin", alice, "10.00", payee_account_id=bob).json()
    problem(
        bank.post("admin", f"/holds/{hold['id']}/capture", {"amount": "10.01"}),
        422,
        "capture_exceeds_hold",
    )
    problem(
        bank.post("admin", f"/holds/{hold['id']}/capture", {"amount": "-1"}), 422, "invalid_amount"
    )
    assert bank.counts() == before
    assert account(bank, "alice", alice)["available_balance"] == "90.00"


def test_idempotent_place_and_capture(bank: Bank, database_url: str) -> None:
    alice = bank.open_account("alice")
    bank.fund(alice, "100.00")
    first = place(bank, "admin", alice, "10.00", key="hold-1")
    again = place(bank, "admin", alice, "10.00", key="hold-1")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    problem(place(bank, "admin", alice, "11.00", key="hold-1"), 409, "idempotency_conflict")
    hold_id = first.json()["id"]
    one = bank.post("admin", f"/holds/{hold_id}/capture", key="cap-1")
    two = bank.post("admin", f"/holds/{hold_id}/capture", key="cap-1")
    assert one.status_code == two.status_code == 200
    assert one.json() == two.json()
    assert bank.balance(alice) == 9000
    count = bank.read(
        lambda conn: conn.execute(
            select(transactions.c.id).where(transactions.c.type == "capture")
        ).all()
    )
    assert len(count) == 1
    assert account(bank, "alice", alice)["available_balance"] == "90.00"
    verified(database_url)


def test_captures_are_screened_by_risk(bank: Bank, database_url: str, tmp_path: Any) -> None:
    """The real risk screen, tuned so that a round 3,000.00 or more is CRITICAL: that capture
    is blocked (recorded, nothing moved) and the hold stands; a smaller one posts."""
    screening = api_settings(database_url, tmp_path).model_copy(
        update={
            "risk_enabled": True,
            "risk_rule_scores": {
                "round_amount": 0.95,
                "fan_in_network": 0.0,
                "card_testing": 0.0,
            },
        }
    )
    bank.set_screen(build_screen(screening))
    alice = bank.open_account("alice")
    bob = bank.open_account("bob")
    bank.fund(alice, "5000.00")
    hold = place(bank, "admin", alice, "3000.00", payee_account_id=bob).json()
    blocked = problem(bank.post("admin", f"/holds/{hold['id']}/capture"), 422, "blocked_by_risk")
    assert blocked["transaction_id"]
    assert bank.get("admin", f"/holds/{hold['id']}").json()["status"] == "active"
    assert (bank.balance(alice), bank.balance(bob)) == (500000, 0)
    assert account(bank, "alice", alice)["available_balance"] == "2000.00"
    verified(database_url)
    captured = bank.post("admin", f"/holds/{hold['id']}/capture", {"amount": "1234.56"})
    assert captured.status_code == 200, captured.text
    assert (bank.balance(alice), bank.balance(bob)) == (500000 - 123456, 123456)
    assert account(bank, "alice", alice)["available_balance"] == "3765.44"
    verified(database_url)


def test_each_holds_and_token_route_allows_and_denies_each_caller(bank: Bank) -> None:
    alice = bank.open_account("alice")
    bank.fund(alice, "100.00")
    hold = place(bank, "admin", alice, "1.00").json()["id"]
    staff = ("auditor", "fraud_analyst", "financial_manager", "compliance_officer")
    admin_only = {"admin": 200, "alice": 403, None: 401} | dict.fromkeys(staff, 403)
    readers = {"admin": 200, "alice": 200, None: 401} | dict.fromkeys(staff, 200)
    cases: list[tuple[str, str, Any, dict[str | None, int]]] = [
        ("GET", "/holds", None, readers),
        ("GET", f"/holds/{hold}", None, readers | {"alice": 200}),
        (
            "POST",
            "/holds",
            {"account_id": alice, "amount": "1.00", "description": "m"},
            admin_only | {"admin": 201},
        ),
        ("POST", f"/holds/{hold}/void", None, admin_only),
        ("GET", "/admin/api-tokens", None, admin_only),
        (
            "POST",
            "/admin/api-tokens",
            {"name": "m", "scopes": ["holds:read"]},
            admin_only | {"admin": 201},
        ),
    ]
    wrong = []
    for method, path, body, expected in cases:
        for who, status in expected.items():
            if method == "POST" and path.endswith("/void") and who == "admin":
                continue  # voided once below: a second void is hold_not_active
            got = bank.call(who, method, path, json=body).status_code
            if got != status:
                wrong.append((method, path, who, status, got))
    assert bank.post("admin", f"/holds/{hold}/void").status_code == 200
    assert wrong == [], "(method, route, caller, expected, got)"


def test_command_line(bank: Bank, database_url: str, tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("LEDGERBANK_DATA_DIR", str(tmp_path))  # the server's keys
    alice = bank.open_account("alice")
    bank.fund(alice, "100.00")
    made = run_cli(
        database_url, "tokens", "create", "--name", "processor", "--scope", "holds", "--as", "admin"
    )
    assert made.exit_code == 0, made.output
    token = made.output.strip().splitlines()[-1]
    assert token.startswith("lbk_")
    body = {"account_id": alice, "amount": "10.00", "description": "Fuel"}
    first = bank.client.post("/holds", json=body, headers=as_token(token)).json()["id"]
    second = bank.client.post("/holds", json=body, headers=as_token(token)).json()["id"]

    listed = run_cli(database_url, "holds", "list", "--account-id", str(alice))
    assert listed.exit_code == 0, listed.output
    assert "Fuel" in listed.output
    captured = run_cli(
        database_url, "holds", "capture", str(first), "--amount", "2.50", "--as", "admin"
    )
    assert captured.exit_code == 0, captured.output
    assert "captured" in captured.output
    voided = run_cli(database_url, "holds", "void", str(second), "--as", "admin")
    assert voided.exit_code == 0, voided.output
    assert "voided" in voided.output
    again = run_cli(database_url, "holds", "void", str(second), "--as", "admin")
    assert again.exit_code == 2, again.output
    assert "hold_not_active" in again.output
    assert bank.balance(alice) == 9750
    assert account(bank, "alice", alice)["available_balance"] == "97.50"

    tokens = run_cli(database_url, "tokens", "list")
    assert tokens.exit_code == 0, tokens.output
    assert "processor" in tokens.output
    assert token not in tokens.output
    token_id = bank.get("admin", "/admin/api-tokens").json()["items"][0]["id"]
    revoked = run_cli(database_url, "tokens", "revoke", str(token_id), "--as", "admin")
    assert revoked.exit_code == 0, revoked.output
    problem(bank.client.get("/holds", headers=as_token(token)), 401, "not_authenticated")
    verified(database_url)


def test_closing_an_account_voids_its_open_holds(bank: Bank, database_url: str) -> None:
    """An account with an overdraft can hold money at a zero balance; closing it voids the
    hold. Moving out money a hold reserves is refused (it is promised to the merchant)."""
    row = bank.database.write(
        lambda conn: account_service.open_account(
            conn,
            owner_id=bank.users["alice"],
            account_type="checking",
            currency="USD",
            overdraft_limit=5000,
        )
    )
    overdrawn = int(row["id"])
    hold = place(bank, "admin", overdrawn, "20.00").json()["id"]
    closed = bank.post("admin", f"/accounts/{overdrawn}/close", {"reason": "customer left"})
    assert closed.status_code == 200, closed.text
    assert closed.json()["holds_ended"] == [hold]
    assert bank.get("admin", f"/holds/{hold}").json()["status"] == "voided"
    assert account(bank, "alice", overdrawn)["held"] == "0.00"

    funded = bank.open_account("alice")
    other = bank.open_account("alice")
    bank.fund(funded, "100.00")
    place(bank, "admin", funded, "30.00")
    moving = bank.post(
        "alice",
        f"/accounts/{funded}/close",
        {"move_to_account_id": other, "pin": "2468"},
    )
    problem(moving, 422, "insufficient_funds")
    verified(database_url)


def test_a_hold_placed_and_its_account_closed_in_one_group_leaves_nothing_held(
    bank: Bank, database_url: str
) -> None:
    """Group commit decides several requests in one transaction: a hold placed, then its
    account closed, then another hold tried. The close voids the first hold through the books,
    so the `held` written with the group is 0 (not the placed hold's amount) and the closed
    account refuses the second hold."""
    overdrawn = int(
        bank.database.write(
            lambda conn: account_service.open_account(
                conn,
                owner_id=bank.users["alice"],
                account_type="checking",
                currency="USD",
                overdraft_limit=5000,
            )
        )["id"]
    )
    admin = Caller(bank.users["admin"], "admin")
    group = [
        MoneyRequest(admin, hold_orders.PlaceHold(overdrawn, "20.00", "Card")),
        MoneyRequest(admin, CloseAccount(overdrawn, "customer left")),
        MoneyRequest(admin, hold_orders.PlaceHold(overdrawn, "5.00", "Card")),
    ]
    placed, closed, refused = bank.app.state.money._run_transaction(group)  # one group
    assert (placed.status, closed.status, refused.status) == (201, 200, 422), refused.body
    assert refused.code == "account_closed"
    assert closed.body["holds_ended"] == [placed.body["id"]]
    assert bank.get("admin", f"/holds/{placed.body['id']}").json()["status"] == "voided"
    with bank.database.read() as conn:
        row = conn.execute(select(accounts).where(accounts.c.id == overdrawn)).mappings().one()
        active = conn.execute(
            select(holds_table.c.id).where(
                holds_table.c.account_id == overdrawn, holds_table.c.status == "active"
            )
        ).all()
    assert (row["status"], int(row["held"]), active) == ("closed", 0, [])
    assert account(bank, "admin", overdrawn)["available_balance"] == "50.00"
    verified(database_url)
