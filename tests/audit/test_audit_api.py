"""GET /audit/logs and GET /audit/verify: every identity write leaves a record; tampering shows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from identity_bank import PASSWORD, Bank
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from ledgerbank.kit.clock import utcnow


def all_logs(bank: Bank, who: str = "auditor", **params: Any) -> list[dict[str, Any]]:
    """Every page of GET /audit/logs, in the order served."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = bank.call(who, "GET", "/audit/logs", params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def do_every_identity_write(bank: Bank) -> None:
    """One of each kind of write the identity API makes."""
    c = bank.client
    body = {
        "username": "newbie",
        "password": "a long enough passphrase",
        "email": "newbie@example.com",
        "full_name": "New Bie",
        "date_of_birth": "1991-03-03",
    }
    assert c.post("/auth/register", json=body).status_code == 201
    assert bank.login("customer").status_code == 200
    assert bank.login("nobody").status_code == 401
    for _ in range(6):  # five evaluated, the sixth refused unevaluated (and audited once)
        bank.login("financial_manager", "wrong")
    renamed = {"full_name": "C. Ustomer"}
    assert bank.call("customer", "PUT", "/users/profile", json=renamed).is_success
    wrong = {"pin": "4821", "password": "x"}
    assert bank.call("customer", "PUT", "/users/pin", json=wrong).status_code == 403
    right = {"pin": "4821", "password": PASSWORD}
    assert bank.call("customer", "PUT", "/users/pin", json=right).is_success
    customer = bank.users["customer"]
    verified = {"kyc_status": "verified"}
    assert bank.call("admin", "PUT", f"/admin/users/{customer}/kyc", json=verified).is_success
    account = bank.call("customer", "POST", "/accounts/", json={"account_type": "checking"})
    wrong_pin = {"account_id": account.json()["id"], "amount": "1.00", "pin": "0000"}
    for _ in range(5):  # invalid_pin four times, then pin_locked
        refused = bank.call("customer", "POST", "/transactions/withdraw", json=wrong_pin)
        assert refused.json()["code"] in ("invalid_pin", "pin_locked")
    target = bank.users["fraud_analyst"]
    admin = "admin"
    for change, body in [
        ("role", {"role": "customer"}),  # a staff role would wait for a second admin
        ("kyc", {"kyc_status": "rejected"}),
        ("active", {"is_active": False}),
    ]:
        assert bank.call(admin, "PUT", f"/admin/users/{target}/{change}", json=body).is_success


EVERY_ACTION = {
    "account.opened",  # the customer's account, to try wrong PINs on
    "user.created",
    "auth.login_succeeded",
    "auth.login_failed",
    "auth.login_throttled",
    "user.profile_updated",
    "auth.password_check_failed",
    "user.pin_set",
    "auth.pin_failed",
    "auth.pin_locked",
    "user.role_changed",
    "user.kyc_changed",
    "user.status_changed",
}


def test_every_kind_of_identity_write_is_in_the_audit_trail(bank: Bank) -> None:
    do_every_identity_write(bank)
    logs = all_logs(bank, limit=7)
    assert {item["action"] for item in logs} == EVERY_ACTION
    ids = [item["id"] for item in logs]
    assert ids == sorted(ids, reverse=True)  # newest first, no repeats across pages
    assert len(ids) == len(set(ids))
    role = next(item for item in logs if item["action"] == "user.role_changed")
    assert role["actor_id"] == bank.users["admin"]
    assert role["entity_type"] == "user"
    assert role["entity_id"] == str(bank.users["fraud_analyst"])
    assert role["before"] == {"role": "fraud_analyst"}
    assert role["after"] == {"role": "customer"}
    assert len(role["row_hash"]) == 64
    flat = str([(item["before"], item["after"]) for item in logs])
    for secret in (PASSWORD, "a long enough passphrase", "4821", "$argon2", "pin$"):
        assert secret not in flat


def test_a_record_carries_the_request_id_of_its_request(bank: Bank) -> None:
    target = bank.users["customer"]
    response = bank.client.put(
        f"/admin/users/{target}/kyc",
        json={"kyc_status": "rejected"},
        headers={**bank.headers("admin"), "X-Request-ID": "ticket-4711"},
    )
    assert response.headers["x-request-id"] == "ticket-4711"
    (record,) = all_logs(bank, action="user.kyc_changed")
    assert record["request_id"] == "ticket-4711"


def test_logs_filter_by_entity_actor_action_and_time(bank: Bank) -> None:
    do_every_identity_write(bank)
    admin = bank.users["admin"]
    target = str(bank.users["fraud_analyst"])
    by_actor = all_logs(bank, actor_id=admin)
    assert {item["action"] for item in by_actor} == {
        "user.created",  # its own: users created by the service are their own actors
        "user.role_changed",
        "user.kyc_changed",
        "user.status_changed",
    }
    on_target = all_logs(bank, entity_type="user", entity_id=target)
    assert {item["entity_id"] for item in on_target} == {target}
    assert "user.created" in {item["action"] for item in on_target}
    locks = all_logs(bank, action="auth.login_throttled")
    assert [item["action"] for item in locks] == ["auth.login_throttled"]
    assert {i["action"] for i in all_logs(bank, entity_type="account")} == {"account.opened"}
    now = utcnow()

    def ids(**params: Any) -> list[int]:  # ids only: `sealed` flips as the sealer runs
        return [item["id"] for item in all_logs(bank, **params)]

    everything = ids()
    assert ids(**{"from": (now + timedelta(minutes=1)).isoformat()}) == []
    assert ids(**{"from": (now - timedelta(hours=1)).isoformat()}) == everything
    assert ids(to=(now - timedelta(hours=1)).isoformat()) == []
    naive = (now + timedelta(hours=1)).replace(tzinfo=None).isoformat()  # naive means UTC
    assert ids(to=naive) == everything
    assert bank.call("auditor", "GET", "/audit/logs", params={"from": "soon"}).status_code == 422
    assert bank.call("auditor", "GET", "/audit/logs", params={"cursor": "x"}).status_code == 422
    assert bank.call("auditor", "GET", "/audit/logs", params={"limit": 0}).status_code == 422


@contextmanager
def audit_log_unguarded(conn: Connection, dialect: str) -> Iterator[None]:
    """Lift the append-only trigger on audit_log for an attacker's UPDATE, then restore it."""
    message = "UPDATE on audit_log is refused: the table is append-only"
    if dialect == "postgresql":
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        yield
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
    elif dialect == "sqlite":
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        yield
        conn.execute(
            text(
                "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
        )
    else:  # mysql: the database outlives this test, so the trigger must come back
        conn.execute(text("DROP TRIGGER audit_log_no_update"))
        try:
            yield
        finally:
            conn.execute(
                text(
                    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW "
                    f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{message}'"
                )
            )


@pytest.mark.parametrize("column", ["after", "actor_id", "created_at"])
def test_verify_names_the_first_altered_record(bank: Bank, column: str) -> None:
    do_every_identity_write(bank)
    intact = bank.call("auditor", "GET", "/audit/verify")
    assert intact.status_code == 200
    report = intact.json()
    assert report["ok"] is True
    assert report["first_broken_id"] is None
    assert report["unsealed"] == 0  # verify seals first
    total = len(bank.audit())
    assert report["checked"] == total
    role_change = bank.audit(action="user.role_changed")[0]["id"]
    later = bank.audit(action="user.status_changed")[0]["id"]
    assert later > role_change
    new_value = {
        "after": '\'{"role":"admin"}\'',
        "actor_id": str(bank.users["auditor"]),
        "created_at": "created_at",  # a rewrite of the same value must not break anything
    }[column]
    with bank.database.engine.begin() as conn, audit_log_unguarded(conn, bank.database.dialect):
        for audit_id in (later, role_change):
            conn.execute(
                text(f"UPDATE audit_log SET {column} = {new_value} WHERE id = :id"),
                {"id": audit_id},
            )
    report = bank.call("compliance_officer", "GET", "/audit/verify").json()
    if column == "created_at":
        assert report["ok"] is True
        return
    assert report["ok"] is False
    assert report["first_broken_id"] == role_change
    assert report["checked"] == sorted(r["id"] for r in bank.audit()).index(role_change)
    assert str(role_change) in report["detail"]
    # the trigger is back: the trail refuses changes again
    with pytest.raises(DBAPIError, match="append-only"), bank.database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET action = 'x' WHERE id = :id"), {"id": later})
