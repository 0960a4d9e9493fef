"""The language-model backend, with the real client against a local server that speaks the
OpenAI chat-completions protocol: its SQL goes through the same gate, and on failure,
refusal or unsafe SQL the offline engine answers."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from ledgergpt_bank import NOW, build, snapshot
from sqlalchemy import text

from ledgerbank import errors
from ledgerbank.config import Settings
from ledgerbank.identity.permissions import Role
from ledgerbank.kit.db import Database
from ledgerbank.ledgergpt.llm import LlmUnavailable, read_proposal
from ledgerbank.ledgergpt.plan import Subject
from ledgerbank.ledgergpt.service import Asker, LedgerGPT


@dataclass
class ChatServer:
    """Canned replies by question: (HTTP status, message content)."""

    url: str
    replies: dict[str, tuple[int, str]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    server_state = ChatServer(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            server_state.requests.append(
                {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
            )
            question = body["messages"][-1]["content"]
            status, content = server_state.replies.get(question, (500, "no reply"))
            if self.path != "/v1/chat/completions":
                status = 404
            payload = {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "model": body.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": "stop",
                    }
                ],
            }
            data = json.dumps(payload if status == 200 else {"error": content}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server_state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server_state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _engine(database: Database, tmp_path: Path, base_url: str) -> LedgerGPT:
    settings = Settings(
        database_url=database.engine.url.render_as_string(hide_password=False),
        data_dir=tmp_path,
        llm_base_url=base_url,
        llm_model="test-model",
        llm_api_key="sk-test",
        llm_timeout_seconds=5,
    )
    return LedgerGPT(database, settings, clock=lambda: NOW)


def test_the_model_answers_through_the_gate_and_falls_back_when_it_must(
    database: Database, tmp_path: Path, chat_server: ChatServer
) -> None:
    bank = build(database)
    before = snapshot(database)
    auditor = Asker(bank.users["auditor"], "auditor", Role.AUDITOR)
    engine = _engine(database, tmp_path, chat_server.url)
    chat_server.replies.update(
        {
            "how many customers do we have": (
                200,
                "Here you are:\n```sql\nSELECT COUNT(*) AS customers FROM vw_customers "
                "WHERE role = 'customer'\n```",
            ),
            "which accounts are frozen": (200, "```sql\nDELETE FROM users\n```"),
            "find transfers over $500": (500, "overloaded"),
            "show all transactions for alice": (200, "CANNOT_ANSWER"),
            "list frozen accounts please": (
                200,
                '```json\n{"plan": {"subject": "accounts", "account_statuses": ["frozen"]}}\n```',
            ),
            "what are the customers' emails": (200, "SELECT email FROM vw_customers"),
        }
    )
    try:
        counted = engine.ask("how many customers do we have", auditor)
        assert counted.engine == "llm"
        assert counted.rows == [[3]]
        assert counted.sql.endswith("LIMIT 1000")

        # Unsafe SQL from the model: refused, and the offline engine answers instead.
        frozen = engine.ask("which accounts are frozen", auditor)
        assert frozen.engine == "offline"
        assert [row[frozen.columns.index("username")] for row in frozen.rows] == ["carol"]

        failed = engine.ask("find transfers over $500", auditor)  # HTTP 500
        assert failed.engine == "offline"
        assert failed.row_count == 2
        declined = engine.ask("show all transactions for alice", auditor)
        assert declined.engine == "offline"

        planned = engine.ask("list frozen accounts please", auditor)
        assert planned.engine == "llm"
        assert planned.plan is not None
        assert planned.plan.subject is Subject.ACCOUNTS
        assert planned.row_count == 1

        # The model reaching for a column the auditor may not read: refused, and the offline
        # engine does not understand the question either.
        with pytest.raises(errors.NotUnderstood):
            engine.ask("what are the customers' emails", auditor)

        # engine="offline" never calls the model.
        calls = len(chat_server.requests)
        offline = engine.ask("how many customers do we have", auditor, engine="offline")
        assert offline.engine == "offline"
        assert len(chat_server.requests) == calls
    finally:
        engine.close()

    assert snapshot(database) == before
    first = chat_server.requests[0]
    assert first["path"] == "/v1/chat/completions"
    assert first["auth"] == "Bearer sk-test"
    assert first["body"]["model"] == "test-model"
    prompt = first["body"]["messages"][0]["content"]
    assert "vw_transactions" in prompt
    assert "password_hash" not in prompt
    assert "email" not in prompt  # not a column the auditor may read
    with database.read() as conn:
        fallbacks = [
            json.loads(after)
            for after in conn.execute(
                text("SELECT after FROM audit_log WHERE action = 'ledgergpt.asked' ORDER BY id")
            ).scalars()
        ]
    refused = next(r for r in fallbacks if r["question"] == "which accounts are frozen")
    assert "UnsafeQuery" in refused["llm_fallback"]
    assert "DELETE FROM users" in refused["llm_proposal"]


def test_an_unreachable_model_falls_back(database: Database, tmp_path: Path) -> None:
    bank = build(database)
    engine = _engine(database, tmp_path, "http://127.0.0.1:9/v1")  # the discard port
    try:
        answer = engine.ask(
            "which accounts are frozen", Asker(bank.users["admin"], "admin", Role.ADMIN)
        )
    finally:
        engine.close()
    assert answer.engine == "offline"
    assert answer.row_count == 1


@pytest.mark.parametrize(
    ("content", "sql"),
    [
        ("```sql\nSELECT 1 FROM vw_accounts\n```", "SELECT 1 FROM vw_accounts"),
        ("SELECT id FROM vw_accounts", "SELECT id FROM vw_accounts"),
        ("Sure.\n```\nWITH x AS (SELECT 1) SELECT * FROM x\n```",
         "WITH x AS (SELECT 1) SELECT * FROM x"),
    ],
)  # fmt: skip
def test_reading_a_proposal(content: str, sql: str) -> None:
    assert read_proposal(content).sql == sql


@pytest.mark.parametrize(
    "content",
    ["", "CANNOT_ANSWER", "I am not sure.", '```json\n{"plan": {"subject": "nothing"}}\n```'],
)
def test_a_proposal_without_sql_or_a_valid_plan_is_unavailable(content: str) -> None:
    with pytest.raises(LlmUnavailable):
        read_proposal(content)
