"""The optional language-model backend: any OpenAI-compatible chat endpoint proposes SQL (or
a query plan as JSON) for a question. Whatever it proposes goes through the same safety gate;
when it fails, declines or proposes nothing usable, the offline engine answers instead."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
from pydantic import ValidationError

from ledgerbank.config import Settings
from ledgerbank.ledgergpt.plan import QueryPlan

DECLINE = "CANNOT_ANSWER"
_SQL_BLOCK = re.compile(r"```(?:sql|SQL)?\s*\n?(?P<sql>.*?)```", re.DOTALL)
_JSON_BLOCK = re.compile(r"```json\s*\n?(?P<json>.*?)```", re.DOTALL)

SYSTEM_PROMPT = """\
You turn a bank auditor's question into ONE read-only SQL SELECT statement for {dialect}.
Use only these views and columns (nothing else exists for you):
{views}
Today is {today}; every timestamp is UTC. `amount` and `balance` are in major units (e.g.
dollars); `*_minor` columns are integer minor units (cents).
Answer with the statement in a ```sql``` block and nothing else: no comments, no writes, no
other statements. If the views cannot answer the question, answer exactly {decline}."""


class LlmUnavailable(Exception):
    """The model could not or would not answer; the offline engine takes over."""


@dataclass(frozen=True)
class Proposal:
    raw: str
    sql: str | None = None
    plan: QueryPlan | None = None


class ChatClient:
    """A minimal client for POST {base_url}/chat/completions (the OpenAI wire format)."""

    def __init__(
        self,
        base_url: str,
        *,
        model: str,
        api_key: str = "",
        timeout_seconds: float = 20.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout = timeout_seconds
        self.transport = transport

    def propose(self, question: str, *, views: str, dialect: str, today: date) -> Proposal:
        system = SYSTEM_PROMPT.format(
            dialect={"postgresql": "PostgreSQL", "mysql": "MySQL/MariaDB"}.get(dialect, "SQLite"),
            views=views,
            today=today.isoformat(),
            decline=DECLINE,
        )
        body = {
            "model": self.model,
            "temperature": 0,
            "messages": [
                {"role": "system", "content": system},
                {"role": "user", "content": question},
            ],
        }
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
                response = client.post(self.url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            reason = f"the model endpoint is unreachable ({type(exc).__name__})"
            raise LlmUnavailable(reason) from None
        if response.status_code != 200:
            raise LlmUnavailable(f"the model endpoint answered HTTP {response.status_code}")
        try:
            message = response.json()["choices"][0]["message"]
            content = message.get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise LlmUnavailable("the model's answer is not a chat completion") from None
        if message.get("refusal"):
            raise LlmUnavailable("the model refused")
        return read_proposal(str(content))


def read_proposal(content: str) -> Proposal:
    """The SQL or plan in a model's answer; LlmUnavailable when there is neither."""
    text = content.strip()
    if not text or text.strip("`. ").upper() == DECLINE or text.upper().startswith(DECLINE):
        raise LlmUnavailable("the model declined to answer")
    if (block := _JSON_BLOCK.search(text)) or text.startswith("{"):
        return Proposal(text, plan=_plan(block.group("json") if block else text))
    if block := _SQL_BLOCK.search(text):
        sql = block.group("sql").strip()
    elif re.match(r"^(?:select|with)\b", text, re.IGNORECASE):
        sql = text
    else:
        raise LlmUnavailable("the model's answer holds no SQL")
    if not sql:
        raise LlmUnavailable("the model's answer holds no SQL")
    return Proposal(text, sql=sql)


def _plan(text: str) -> QueryPlan:
    try:
        data: Any = json.loads(text)
        return QueryPlan.model_validate(data.get("plan", data) if isinstance(data, dict) else data)
    except (ValueError, ValidationError, AttributeError) as exc:
        raise LlmUnavailable(f"the model's plan is not valid ({type(exc).__name__})") from None


def client_from(settings: Settings) -> ChatClient | None:
    """The configured client, or None when no endpoint is set (offline only)."""
    if not settings.llm_base_url:
        return None
    return ChatClient(
        settings.llm_base_url,
        model=settings.llm_model,
        api_key=settings.llm_api_key,
        timeout_seconds=settings.llm_timeout_seconds,
    )
