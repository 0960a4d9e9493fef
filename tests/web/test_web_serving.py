"""The web app's serving and its live-updates stream, over HTTP against a real server: the app
and Plotly come from ledgerbank itself, API paths keep answering problem+json, and the event
stream is authenticated and shows each caller only what it may see."""

from __future__ import annotations

import json
import queue
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_harness import LiveServer

from ledgerbank.identity.service import create_user
from ledgerbank.kit.db import Database
from ledgerbank.web.router import STATIC, plotly_bundle

pytestmark = pytest.mark.http

PASSWORD = "a-long-test-password"


def test_index_and_assets_are_served_by_ledgerbank(empty_server: LiveServer) -> None:
    with empty_server.client() as client:
        index = client.get("/")
        assert index.status_code == 200
        assert index.headers["content-type"].startswith("text/html")
        assert "script-src 'self'" in index.headers["content-security-policy"]
        assert '<script type="module" src="/static/js/app.js">' in index.text
        script = client.get("/static/js/app.js")
        assert script.status_code == 200
        assert "javascript" in script.headers["content-type"]
        plotly = client.get("/static/vendor/plotly.min.js")
        assert plotly.status_code == 200
        assert plotly.content == plotly_bundle().read_bytes()


def test_no_asset_is_loaded_from_elsewhere() -> None:
    """Nothing comes from a CDN: every URL in the app's files is relative or same-origin."""
    for path in STATIC.rglob("*"):
        if path.suffix in {".html", ".js", ".css"}:
            text = path.read_text()
            assert "http://" not in text.replace("http://www.w3.org", ""), path
            assert "https://" not in text, path
    assert not list(Path(STATIC).rglob("plotly*.js")), "Plotly is served from its package"


def test_api_paths_keep_their_problem_answers(empty_server: LiveServer) -> None:
    with empty_server.client() as client:
        missing = client.get("/no-such-endpoint")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json()["code"] == "not_found"
        assert client.get("/static/js/no-such-file.js").json()["code"] == "not_found"
        accounts = client.get("/accounts/")
        assert accounts.status_code == 401
        assert accounts.json()["code"] == "not_authenticated"


def _register(server: LiveServer, username: str) -> str:
    with server.client() as client:
        answer = client.post(
            "/auth/register",
            json={
                "username": username,
                "password": PASSWORD,
                "email": f"{username}@example.com",
                "full_name": username.title(),
                "date_of_birth": "1990-01-01",
            },
        )
        assert answer.status_code == 201, answer.text
    return server.token(username, PASSWORD)


def _open_account(server: LiveServer, token: str) -> int:
    with server.client(token) as client:
        answer = client.post("/accounts/", json={"account_type": "checking", "currency": "USD"})
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])


def _deposit(server: LiveServer, token: str, account_id: int, description: str) -> int:
    with server.client(token) as client:
        answer = client.post(
            "/transactions/deposit",
            json={"account_id": account_id, "amount": "10.00", "description": description},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert answer.status_code == 201, answer.text
        return int(answer.json()["id"])


@contextmanager
def event_stream(
    server: LiveServer, token: str, last_event_id: str | None = None
) -> Iterator[queue.Queue[tuple[str, Any, str | None]]]:
    """The stream's events (type, data, id) as they arrive, read by a background thread."""
    events: queue.Queue[tuple[str, Any, str | None]] = queue.Queue()
    headers = {"Authorization": f"Bearer {token}"}
    if last_event_id:
        headers["Last-Event-ID"] = last_event_id
    stop = threading.Event()
    opened: list[httpx.Response] = []
    client = httpx.Client(base_url=server.url, timeout=httpx.Timeout(30, read=60))

    def read() -> None:
        try:
            with client.stream("GET", "/events/stream", headers=headers) as answer:
                opened.append(answer)
                events.put(("status", answer.status_code, None))
                kind, data, event_id = "message", [], None
                for line in answer.iter_lines():
                    if stop.is_set():
                        return
                    if line.startswith("event:"):
                        kind = line[6:].strip()
                    elif line.startswith("data:"):
                        data.append(line[5:].strip())
                    elif line.startswith("id:"):
                        event_id = line[3:].strip()
                    elif line == "" and data:
                        events.put((kind, json.loads("\n".join(data)), event_id))
                        kind, data, event_id = "message", [], None
        except Exception as exc:  # the test closed the client, or the stream broke
            if not stop.is_set():
                events.put(("error", repr(exc), None))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield events
    finally:
        stop.set()
        for answer in opened:
            answer.close()
        client.close()
        # A read blocked on an idle stream returns when the server ends the stream (after its
        # lifetime, or at shutdown); the daemon reader then stops without reporting anything.
        reader.join(timeout=0.5)


def _next(events: queue.Queue[tuple[str, Any, str | None]], kind: str) -> tuple[Any, str | None]:
    while True:
        found, data, event_id = events.get(timeout=30)
        assert found != "error", data
        if found == "status":
            assert data == 200
        if found == kind:
            return data, event_id


def test_event_stream_requires_a_token(empty_server: LiveServer) -> None:
    with empty_server.client() as client:
        answer = client.get("/events/stream")
        assert answer.status_code == 401
        assert answer.json()["code"] == "not_authenticated"
        forged = client.get("/events/stream", headers={"Authorization": "Bearer not-a-token"})
        assert forged.status_code == 401


def test_customers_see_only_their_own_transactions_and_staff_see_all(
    empty_server: LiveServer,
) -> None:
    alice = _register(empty_server, f"alice{uuid.uuid4().hex[:6]}")
    bob = _register(empty_server, f"bob{uuid.uuid4().hex[:6]}")
    auditor_name = f"auditor{uuid.uuid4().hex[:6]}"
    database = Database.from_url(empty_server.database_url)
    database.write(
        lambda conn: create_user(
            conn,
            username=auditor_name,
            password=PASSWORD,
            email=f"{auditor_name}@example.com",
            full_name="Audrey Auditor",
            role="auditor",
        )
    )
    database.dispose()
    auditor = empty_server.enrolled_token(auditor_name, PASSWORD)  # staff: a second factor
    alice_account = _open_account(empty_server, alice)
    bob_account = _open_account(empty_server, bob)

    with (
        event_stream(empty_server, alice) as alice_events,
        event_stream(empty_server, auditor) as auditor_events,
    ):
        ready, _ = _next(alice_events, "ready")
        assert ready["role"] == "customer"
        _next(auditor_events, "ready")
        bobs = _deposit(empty_server, bob, bob_account, "bob's deposit")
        alices = _deposit(empty_server, alice, alice_account, "alice's deposit")
        # Events come in id order: had bob's deposit reached alice, it would come first.
        seen, _ = _next(alice_events, "transaction")
        assert seen["id"] == alices
        assert seen["description"] == "alice's deposit"
        assert seen["amount"] == "10.00"
        first, after_first = _next(auditor_events, "transaction")
        second, _ = _next(auditor_events, "transaction")
        assert (first["id"], second["id"]) == (bobs, alices)

    # A new stream resumes after the last event the old one delivered (its Last-Event-ID).
    with event_stream(empty_server, auditor, last_event_id=after_first) as resumed:
        data, _ = _next(resumed, "transaction")
        assert data["id"] == alices
