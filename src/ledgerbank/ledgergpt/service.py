"""Answering a question: understand it (offline engine or language model), pass the SQL
through the safety gate, run it read-only, present the rows, and record it in the audit trail.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, or_, select

from ledgerbank import errors
from ledgerbank.audit import service as audit
from ledgerbank.config import Settings
from ledgerbank.identity.permissions import Role
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import as_utc, utcnow
from ledgerbank.kit.db import Database
from ledgerbank.kit.money import EXPONENTS, to_decimal_string
from ledgerbank.ledgergpt import allowlist, gate, llm
from ledgerbank.ledgergpt.compiler import CompiledQuery, MoneyColumn, compile_plan, escape_like
from ledgerbank.ledgergpt.facts import Person
from ledgerbank.ledgergpt.parser import parse
from ledgerbank.ledgergpt.plan import QueryPlan
from ledgerbank.ledgergpt.runner import ReadOnlyRunner, Rows
from ledgerbank.ledgergpt.vocabulary import suggestions

log = logging.getLogger(__name__)

# Statements no question starts with; other SQL is told by its marks (";", comments, FROM).
_SQL_START = re.compile(
    r"^\s*(?:\(\s*)*(?:insert|update|delete|drop|create|alter|truncate|grant|revoke|pragma"
    r"|attach|detach|copy|merge|replace\s+into|vacuum|reindex|savepoint|rollback|commit"
    r"|select\b.*\bfrom|with\s+(?:recursive\s+)?\w+\s*(?:\([^)]*\)\s*)?as\s*\()\b",
    re.IGNORECASE | re.DOTALL,
)
_SQL_MARKS = re.compile(
    r";|--|/\*|\*/|\bunion\s+(?:all\s+)?select\b|^\s*select\b(?=.*[(*,'\"=]|\s+\d)",
    re.IGNORECASE,
)
_STORED_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?$")


def looks_like_sql(question: str) -> bool:
    """A question typed as SQL goes straight to the gate instead of the parser."""
    return bool(_SQL_START.match(question) or _SQL_MARKS.search(question))


@dataclass(frozen=True)
class Asker:
    """Who asks: their id for the audit trail and the role that decides what they may read."""

    user_id: int | None
    username: str
    role: Role
    channel: str = "api"


@dataclass
class Answer:
    question: str
    sql: str
    columns: list[str]
    rows: list[list[Any]]
    row_count: int
    engine: str
    explanation: str
    parameters: dict[str, Any] = field(default_factory=dict)
    truncated: bool = False
    plan: QueryPlan | None = None
    answer_ms: float = 0.0  # understanding, checking, running and presenting
    elapsed_ms: float = 0.0  # the above and the audit record


class UsersDirectory:
    """The bank's people, looked up by the words of a question (for names in questions)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def find(self, words: Sequence[str]) -> list[Person]:
        if not words:
            return []
        lowered = [w.lower() for w in words]
        name = func.lower(users.c.full_name)
        conditions = [func.lower(users.c.username).in_(lowered), name.in_(lowered)]
        for word in lowered:
            literal = escape_like(word)
            conditions.append(name.like(f"{literal} %", escape="!"))
            conditions.append(name.like(f"% {literal}", escape="!"))
        rows = self.conn.execute(
            select(users.c.username, users.c.full_name, users.c.role).where(or_(*conditions))
        ).all()
        return [Person(str(r.username), str(r.full_name), str(r.role)) for r in rows]


class LedgerGPT:
    """The engine behind POST /ledgergpt/ask and `ledgerbank ask`."""

    def __init__(
        self,
        database: Database,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        runner: ReadOnlyRunner | None = None,
        read_database: Database | None = None,
    ) -> None:
        self.database = database  # the primary: the audit record of each question
        self.read_database = read_database or database  # the replica the questions read
        self.settings = settings
        self.clock = clock
        self.dialect = "mysql" if database.dialect == "mariadb" else database.dialect
        self.runner = runner or ReadOnlyRunner(
            self.read_database.engine.url.render_as_string(False),
            max_result_bytes=settings.query_max_result_bytes,
            concurrency=settings.query_concurrency,
        )
        self.row_limit = settings.query_row_limit
        self.llm = llm.client_from(settings)

    def close(self) -> None:
        self.runner.dispose()

    # -- the whole question ------------------------------------------------------------------

    def ask(self, question: str, asker: Asker, *, engine: str = "auto") -> Answer:
        """Answer `question` for `asker`, recording it in the audit trail whatever happens."""
        question = question.strip()
        started = time.perf_counter()
        record: dict[str, Any] = {"question": question, "channel": asker.channel}
        try:
            answer = self._answer(question, asker, engine, record)
        except errors.LedgerbankError as exc:
            record.update(decision=_decision(exc), detail=exc.detail)
            self._audit(asker, record)
            raise
        answer.answer_ms = (time.perf_counter() - started) * 1000
        record.update(
            decision="answered",
            engine=answer.engine,
            sql=answer.sql,
            parameters=answer.parameters,
            row_count=answer.row_count,
        )
        self._audit(asker, record)
        answer.elapsed_ms = (time.perf_counter() - started) * 1000
        return answer

    def _answer(self, question: str, asker: Asker, engine: str, record: dict[str, Any]) -> Answer:
        if not question:
            raise errors.NotUnderstood("the question is empty", suggestions=suggestions())
        if looks_like_sql(question):
            record["sql"] = question[:2000]
            return self.run_sql(question, asker)
        if self.llm is not None and engine != "offline":
            try:
                return self._ask_llm(question, asker, record)
            except (llm.LlmUnavailable, errors.LedgerbankError) as exc:
                record["llm_fallback"] = f"{type(exc).__name__}: {getattr(exc, 'detail', exc)}"
                log.info("LedgerGPT falls back to the offline engine: %s", record["llm_fallback"])
        return self.ask_offline(question, asker)

    def ask_offline(self, question: str, asker: Asker) -> Answer:
        # One read-only connection serves the name lookup and the query.
        with self.runner.session(timeout_seconds=self.settings.query_timeout_seconds) as conn:
            plan = self.understand(question, conn)
            return self.answer_plan(question, plan, asker, engine="offline", conn=conn)

    def understand(self, question: str, conn: Connection) -> QueryPlan:
        """The offline engine's plan; names are looked up on `conn`."""
        return parse(question, today=self.today(), directory=UsersDirectory(conn))

    def today(self) -> date:
        return as_utc(self.clock()).date()

    def answer_plan(
        self,
        question: str,
        plan: QueryPlan,
        asker: Asker,
        *,
        engine: str,
        conn: Connection | None = None,
    ) -> Answer:
        readable = allowlist.readable_views(asker.role)
        try:
            compiled = compile_plan(plan, dialect=self.dialect, readable=readable)
        except ValueError as exc:
            raise errors.NotUnderstood(str(exc), suggestions=suggestions()) from None
        answer = self._run(
            question, compiled.sql, compiled.params, asker, compiled=compiled, conn=conn
        )
        answer.engine, answer.plan = engine, plan
        return answer

    def run_sql(self, sql: str, asker: Asker, *, engine: str = "offline") -> Answer:
        answer = self._run(sql, sql, {}, asker, compiled=None)
        answer.engine = engine
        return answer

    def _run(
        self,
        question: str,
        sql: str,
        params: dict[str, Any],
        asker: Asker,
        *,
        compiled: CompiledQuery | None,
        conn: Connection | None = None,
    ) -> Answer:
        checked = gate.check(
            sql,
            dialect=self.dialect,
            readable=allowlist.readable_views(asker.role),
            row_limit=self.row_limit,
            params=params.keys(),
        )
        timeout = self.settings.query_timeout_seconds
        rows = self.runner.run(checked, params, timeout_seconds=timeout, conn=conn)
        money = compiled.money if compiled else {}
        explanation = (
            compiled.explanation
            if compiled
            else "Your SQL, as the safety gate let it through (read-only, row limit added)."
        )
        return Answer(
            question=question,
            sql=checked.sql,
            columns=rows.columns,
            rows=present(rows, money),
            row_count=len(rows.rows),
            engine="offline",
            explanation=explanation,
            parameters={k: _shown(v) for k, v in params.items()},
            truncated=len(rows.rows) >= checked.row_limit,
        )

    def _ask_llm(self, question: str, asker: Asker, record: dict[str, Any]) -> Answer:
        assert self.llm is not None
        proposal = self.llm.propose(
            question,
            views=allowlist.describe(asker.role),
            dialect=self.dialect,
            today=self.today(),
        )
        record["llm_proposal"] = proposal.raw[:2000]
        if proposal.plan is not None:
            return self.answer_plan(question, proposal.plan, asker, engine="llm")
        assert proposal.sql is not None
        answer = self.run_sql(proposal.sql, asker, engine="llm")
        answer.question = question
        answer.explanation = "SQL proposed by the language model, checked by the safety gate."
        return answer

    def _audit(self, asker: Asker, record: dict[str, Any]) -> None:
        """Record the question in its own write transaction (the query ran read-only)."""
        self.database.write(
            lambda conn: audit.record(
                conn,
                actor_id=asker.user_id,
                action="ledgergpt.asked",
                entity_type="ledgergpt",
                entity_id=None,
                after=record,
            )
        )


def _decision(exc: errors.LedgerbankError) -> str:
    return {
        "not_understood": "not_understood",
        "unsafe_query": "refused",
        "query_timeout": "timed_out",
        "result_too_large": "too_large",
    }.get(exc.code, "failed")


def _shown(value: Any) -> Any:
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# --- presenting rows ----------------------------------------------------------------------


def present(rows: Rows, money: dict[str, MoneyColumn]) -> list[list[Any]]:
    """Rows as JSON-ready values: money as exact decimal strings, times as ISO 8601 UTC."""
    index = {name: i for i, name in enumerate(rows.columns)}
    shaped = []
    for row in rows.rows:
        values = []
        for position, name in enumerate(rows.columns):
            value = row[position]
            column = money.get(name)
            if column is not None and value is not None:
                currency = None
                if column.currency_column and column.currency_column in index:
                    currency = row[index[column.currency_column]]
                values.append(money_text(value, currency, minor=column.minor))
            else:
                values.append(plain(name, value))
        shaped.append(values)
    return shaped


def money_text(value: Any, currency: Any, *, minor: bool) -> str:
    """Exact decimal text in the currency's minor-unit places (2 when the currency is unknown)."""
    places = EXPONENTS.get(str(currency), 2) if currency else 2
    if minor and isinstance(value, int) and str(currency) in EXPONENTS:
        return to_decimal_string(value, str(currency))
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if minor:
        number = number.scaleb(-places)
    return str(number.quantize(Decimal(1).scaleb(-places)))


def plain(name: str, value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return bool(value) if name.startswith("is_") and value in (0, 1) else value
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    text = str(value)
    if 19 <= len(text) <= 26 and text[:1].isdigit() and _STORED_DATETIME.match(text):
        return as_utc(datetime.fromisoformat(text)).isoformat()
    return text
