"""/webhooks over the API: admin only and audited, a secret shown once, no private addresses,
deliveries listed, dead letters redelivered."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from api_helpers import STAFF_ROLES, Bank, api_settings, problem
from events_helpers import Receiver
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from ledgerbank import errors
from ledgerbank.app import create_app
from ledgerbank.audit.tables import audit_log
from ledgerbank.events.addresses import Allowed, check_url
from ledgerbank.events.delivery import Deliverer, verify
from ledgerbank.events.publisher import Publisher
from ledgerbank.events.tables import events, webhook_deliveries
from ledgerbank.kit.clock import utcnow


def _register(bank: Bank, url: str, kinds: list[str] | None = None) -> dict[str, object]:
    answer = bank.post("admin", "/webhooks", {"url": url, "events": kinds or ["*"]})
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _deliver(bank: Bank) -> None:
    Publisher(bank.database, None).run_once()
    deliverer = Deliverer(
        bank.database, Allowed.parse("127.0.0.1/32"), sealer=bank.app.state.settings.sealer()
    )
    try:
        deliverer.run_once()
    finally:
        deliverer.close()


def test_only_admins_manage_webhooks_and_the_secret_is_shown_once(
    bank: Bank, receiver: Receiver
) -> None:
    for who, status in (("alice", 403), (None, 401)):
        assert (
            bank.post(who, "/webhooks", {"url": receiver.url, "events": ["*"]}).status_code
            == status
        )
        assert bank.get(who, "/webhooks").status_code == status
    created = _register(bank, receiver.url, ["transaction.posted", "account.frozen"])
    assert str(created["secret"]).startswith("whsec_")
    listed = bank.get("admin", "/webhooks").json()["items"]
    assert listed == [{k: v for k, v in created.items() if k != "secret"}]
    with bank.database.read() as conn:
        records = conn.execute(
            select(audit_log.c.action, audit_log.c.after).where(
                audit_log.c.entity_type == "webhook"
            )
        ).all()
    assert [r.action for r in records] == ["webhook.created"]
    assert str(created["secret"]) not in str(records[0].after)
    assert bank.call("admin", "DELETE", f"/webhooks/{created['id']}").status_code == 204
    assert bank.get("admin", "/webhooks").json()["items"] == []
    gone = bank.get("admin", f"/webhooks/{created['id']}/deliveries")
    problem(gone, 404, "not_found")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
        "ftp://example.com/hook",
        "http://user:pass@example.com/hook",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(url: str) -> None:
    with pytest.raises(errors.WebhookUrlRefused):
        check_url(url, Allowed())


def test_the_api_refuses_a_private_address_unless_the_setting_allows_it(bank: Bank) -> None:
    refused = bank.post("admin", "/webhooks", {"url": "http://10.0.0.8/hook", "events": ["*"]})
    problem(refused, 422, "webhook_url_refused")
    allowed = bank.post("admin", "/webhooks", {"url": "http://127.0.0.1:9/h", "events": ["*"]})
    assert allowed.status_code == 201  # 127.0.0.1/32 is allowed in these tests
    bad = bank.post("admin", "/webhooks", {"url": "http://127.0.0.1:9/h", "events": ["DROP TABLE"]})
    problem(bad, 422, "validation_error")


def test_a_failing_receiver_is_retried_then_dead_lettered_and_redelivered(
    bank: Bank, receiver: Receiver
) -> None:
    hook = _register(bank, receiver.url, ["transaction.posted"])
    account = bank.open_account("alice")
    receiver.status = 500
    bank.fund(account, "12.00")
    _deliver(bank)
    deliveries = bank.get("admin", f"/webhooks/{hook['id']}/deliveries").json()["items"]
    (failed,) = deliveries
    assert (failed["status"], failed["attempts"], failed["last_status_code"]) == ("pending", 1, 500)
    assert failed["event_type"] == "transaction.posted"
    # A day of retries goes by: the next failure makes it a dead letter.
    bank.database.write(
        lambda conn: conn.execute(
            update(webhook_deliveries).values(
                next_attempt_at=utcnow() - timedelta(seconds=1), retry_until=utcnow()
            )
        )
    )
    _deliver(bank)
    dead = bank.get("admin", f"/webhooks/{hook['id']}/deliveries?status=dead").json()["items"]
    assert [d["id"] for d in dead] == [failed["id"]]
    assert dead[0]["attempts"] == 2
    receiver.status = 204
    again = bank.post("admin", f"/webhooks/{hook['id']}/deliveries/{failed['id']}/redeliver")
    assert again.status_code == 200, again.text
    assert again.json()["status"] == "pending"
    _deliver(bank)
    (done,) = bank.get("admin", f"/webhooks/{hook['id']}/deliveries").json()["items"]
    assert (done["status"], done["attempts"]) == ("delivered", 3)
    bodies = {body for body, _ in receiver.received}
    assert len(bodies) == 1  # the same event each time: the receiver dedupes by its id
    body, signature = receiver.received[-1]
    at = float(signature.split(",")[0][2:])
    assert verify(str(hook["secret"]), body, signature, now=at)
    missing = bank.post("admin", f"/webhooks/{hook['id']}/deliveries/999999/redeliver")
    problem(missing, 404, "not_found")


def test_only_the_admin_role_may_touch_webhooks(database_url: str, tmp_path: Path) -> None:
    """Every webhook route x the six roles and no token: admins alone (403 for the others)."""
    app = create_app(api_settings(database_url, tmp_path))
    with TestClient(app) as client:
        world = Bank(app=app, client=client, database=app.state.db)
        world.add_users({"alice": "customer"} | {role: role for role in STAFF_ROLES})
        routes = [
            ("GET", "/webhooks"),
            ("POST", "/webhooks"),
            ("DELETE", "/webhooks/1"),
            ("GET", "/webhooks/1/deliveries"),
            ("POST", "/webhooks/1/deliveries/1/redeliver"),
        ]
        for who in ("alice", *STAFF_ROLES, None):
            for method, path in routes:
                body = {"url": "https://example.com/hook", "events": ["*"]}
                answer = world.call(who, method, path, json=body if method == "POST" else None)
                expected = {None: {401}, "admin": {200, 201, 404, 422}}.get(who, {403})
                assert answer.status_code in expected, (who, method, path, answer.text)


def test_closing_an_account_tells_its_owner(bank: Bank) -> None:
    """`account.closed` is written in the closing request's transaction, for the owner."""
    account = bank.open_account("alice")
    closed = bank.post("alice", f"/accounts/{account}/close", {"reason": "moving banks"})
    assert closed.status_code == 200, closed.text
    with bank.database.read() as conn:
        found = conn.execute(
            select(events.c.type, events.c.owner_id, events.c.body).where(
                events.c.account_id == account
            )
        ).all()
    assert [(row.type, row.owner_id) for row in found] == [("account.closed", bank.users["alice"])]
    assert "moving banks" not in found[0].body


def test_hold_changes_write_their_events(bank: Bank) -> None:
    """hold.placed, hold.captured and hold.voided, each in its request's transaction."""
    account = bank.open_account("alice")
    bank.fund(account, "100.00")
    body = {"account_id": account, "amount": "30.00", "description": "Card"}
    first = bank.post("admin", "/holds", body)
    second = bank.post("admin", "/holds", body)
    assert first.status_code == second.status_code == 201, first.text
    assert (
        bank.post("admin", f"/holds/{first.json()['id']}/capture", {"amount": "20.00"}).status_code
        == 200
    )
    assert bank.post("admin", f"/holds/{second.json()['id']}/void").status_code == 200
    with bank.database.read() as conn:
        found = conn.execute(
            select(events.c.type, events.c.owner_id)
            .where(events.c.account_id == account, events.c.type.like("hold.%"))
            .order_by(events.c.id)
        ).all()
    assert [row.type for row in found] == [
        "hold.placed",
        "hold.placed",
        "hold.captured",
        "hold.voided",
    ]
    assert {row.owner_id for row in found} == {bank.users["alice"]}
