"""Measuring the offline engine: execution accuracy and latency over the demo bank.

The evaluation bank is the demo bank (fixed seed, history ending at a fixed moment, scored by
the risk rules) plus a few staff actions (a role changed twice, accounts frozen, a reversal,
fees, transactions flagged by an analyst). Each question of the tuning set (`ledgergpt_questions`)
and of the held-out set (`ledgergpt_heldout`) carries gold SQL written by hand against the base
tables; the engine's answer and the gold answer are both executed and compared as
multisets of rows over the gold's columns (as sequences where the question asks for an order).
"""

from __future__ import annotations

import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import Connection, bindparam, select, text

from ledgerbank.config import Settings
from ledgerbank.evaluation.ledgergpt_heldout import HELDOUT_CASES
from ledgerbank.evaluation.ledgergpt_questions import CASES, Case
from ledgerbank.identity import service as identity
from ledgerbank.identity.permissions import Role
from ledgerbank.identity.tables import users
from ledgerbank.kit.clock import frozen_at
from ledgerbank.kit.db import Database, UTCDateTime
from ledgerbank.ledger import flags, posting
from ledgerbank.ledger.accounts import set_status
from ledgerbank.ledger.tables import accounts, transactions
from ledgerbank.ledgergpt.service import Asker, LedgerGPT

# The evaluation bank's "now": history ends here and "today" is this day.
EVALUATION_NOW = datetime(2026, 6, 17, 12, 0, tzinfo=UTC)
EVALUATION_SEED = 2026
# Large enough that no gold answer is cut short by the row limit.
EVALUATION_ROW_LIMIT = 100_000

_MONTH = {
    "sqlite": "strftime('%Y-%m', {})",
    "postgresql": "to_char({}, 'YYYY-MM')",
    "mysql": "date_format({}, '%Y-%m')",
}
_DAY = {
    "sqlite": "strftime('%Y-%m-%d', {})",
    "postgresql": "to_char({}, 'YYYY-MM-DD')",
    "mysql": "date_format({}, '%Y-%m-%d')",
}


def build_bank(database: Database, settings: Settings) -> None:
    """Load the demo bank as of EVALUATION_NOW, then the staff actions the questions ask about."""
    from ledgerbank.demo import service as demo
    from ledgerbank.risk.screen import RiskScreen

    demo.load(database, seed=EVALUATION_SEED, screen=RiskScreen(settings), now=EVALUATION_NOW)
    database.write(_staff_actions)


def _staff_actions(conn: Connection) -> None:
    ids = {row.username: int(row.id) for row in conn.execute(select(users.c.id, users.c.username))}

    def account(owner: str, account_type: str) -> int:
        return int(
            conn.execute(
                select(accounts.c.id).where(
                    accounts.c.owner_id == ids[owner], accounts.c.account_type == account_type
                )
            ).scalar_one()
        )

    identity.change_role(conn, actor_id=ids["admin"], user_id=ids["bob"], role="auditor")
    identity.change_role(conn, actor_id=ids["admin"], user_id=ids["bob"], role="customer")
    set_status(
        conn,
        account("mallory", "checking"),
        status="frozen",
        reason="AML review: pass-through and cash out",
        actor_id=ids["compliance"],
    )
    set_status(
        conn,
        account("mallory", "wallet"),
        status="frozen",
        reason="fan-in of many small payments",
        actor_id=ids["analyst"],
    )
    # Postings without an original moment take the clock's: place them in the story.
    with frozen_at(EVALUATION_NOW - timedelta(days=40)):
        posting.post_fee(
            conn,
            account_id=account("alice", "checking"),
            amount="25.00",
            actor_id=ids["admin"],
            description="Overdraft review fee",
        )
    with frozen_at(EVALUATION_NOW - timedelta(days=3)):
        posting.post_fee(
            conn,
            account_id=account("bob", "checking"),
            amount="12.50",
            actor_id=ids["admin"],
            description="Card replacement fee",
        )
    dinner = conn.execute(
        select(transactions.c.id)
        .where(transactions.c.type == "transfer", transactions.c.description == "Dinner")
        .order_by(transactions.c.id.desc())
        .limit(1)
    ).scalar_one()
    with frozen_at(EVALUATION_NOW - timedelta(hours=5)):
        posting.reverse(conn, int(dinner), reason="customer dispute", actor_id=ids["admin"])
    # Flagged by hand: two everyday payments the screen let through and one it had stopped.
    groceries = conn.execute(
        select(transactions.c.id)
        .join(accounts, accounts.c.id == transactions.c.from_account_id)
        .where(
            transactions.c.description == "Groceries",
            accounts.c.owner_id == ids["bob"],
            transactions.c.created_at >= EVALUATION_NOW - timedelta(days=60),
        )
        .order_by(transactions.c.id.desc())
        .limit(2)
    ).scalars()
    takeover = conn.execute(
        select(transactions.c.id)
        .where(transactions.c.description == "Payment")
        .order_by(transactions.c.id)
        .limit(1)
    ).scalars()
    for flagged in [*groceries, *takeover]:
        flags.flag_transaction(
            conn, int(flagged), reason="customer called about it", actor_id=ids["analyst"]
        )


@dataclass(frozen=True)
class CaseResult:
    case: Case
    correct: bool
    milliseconds: float  # until the answer was ready
    total_milliseconds: float  # with the audit record written
    detail: str = ""
    gold_rows: int = 0


@dataclass(frozen=True)
class Report:
    outcomes: list[CaseResult]

    @property
    def accuracy(self) -> float:
        return sum(o.correct for o in self.outcomes) / len(self.outcomes)

    def percentile(self, fraction: float, *, total: bool = False) -> float:
        times = sorted(o.total_milliseconds if total else o.milliseconds for o in self.outcomes)
        if len(times) < 2:
            return times[0] if times else 0.0
        return statistics.quantiles(times, n=100, method="inclusive")[int(fraction * 100) - 1]

    @property
    def failures(self) -> list[CaseResult]:
        return [o for o in self.outcomes if not o.correct]


# The question sets: `tuning` is what the parser was developed against, `heldout` was written
# before the second round's parser work and is never tuned on.
QUESTION_SETS: dict[str, list[Case]] = {"tuning": CASES, "heldout": HELDOUT_CASES}


def evaluate(
    database: Database,
    settings: Settings,
    *,
    cases: list[Case] | None = None,
    progress: Callable[[CaseResult], None] | None = None,
) -> Report:
    """Ask every question of a set (as an auditor) and compare with the gold answers."""
    settings = settings.model_copy(
        update={"query_row_limit": EVALUATION_ROW_LIMIT, "llm_base_url": ""}
    )
    engine = LedgerGPT(database, settings, clock=lambda: EVALUATION_NOW)
    asker = Asker(None, "evaluation", Role.AUDITOR, "evaluation")
    outcomes = []
    try:
        engine.ask("how many accounts are there", asker)  # warm caches: imports, first parse
        for case in CASES if cases is None else cases:
            outcome = _run_case(engine, database, asker, case)
            outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
    finally:
        engine.close()
    return Report(outcomes)


def _run_case(engine: LedgerGPT, database: Database, asker: Asker, case: Case) -> CaseResult:
    question = _fill(case.question, database)
    started = time.perf_counter()
    try:
        answer = engine.ask(question, asker, engine="offline")
    except Exception as exc:  # a refusal or failure is a wrong answer, reported as such
        elapsed = (time.perf_counter() - started) * 1000
        return CaseResult(case, False, elapsed, elapsed, f"{type(exc).__name__}: {exc}")
    elapsed, total = answer.answer_ms, answer.elapsed_ms
    gold_columns, gold_rows = gold(database, case)
    missing = [c for c in gold_columns if c not in answer.columns]
    if missing:
        return CaseResult(
            case, False, elapsed, total, f"answer lacks column(s) {missing}: {answer.sql}"
        )
    positions = [answer.columns.index(c) for c in gold_columns]
    ours = [tuple(normal(row[i]) for i in positions) for row in answer.rows]
    theirs = [tuple(normal(value) for value in row) for row in gold_rows]
    same = ours == theirs if case.ordered else Counter(ours) == Counter(theirs)
    detail = "" if same else f"{answer.sql} -> {ours[:5]} vs gold {theirs[:5]}"
    return CaseResult(case, same, elapsed, total, detail, gold_rows=len(theirs))


def gold(database: Database, case: Case) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run the case's hand-written SQL (with its dates bound as typed parameters)."""
    dialect = "mysql" if database.dialect == "mariadb" else database.dialect
    sql = case.sql.replace("{month}", _MONTH[dialect].format("t.created_at"))
    sql = sql.replace("{day}", _DAY[dialect].format("t.created_at"))
    statement = text(sql).bindparams(
        *(bindparam(name, type_=UTCDateTime()) for name in case.params)
    )
    with database.read() as conn:
        result = conn.execute(statement, dict(case.params))
        return list(result.keys()), [tuple(row) for row in result]


def _fill(question: str, database: Database) -> str:
    """Replace {owner.account_type} with that account's number."""

    def number(match: re.Match[str]) -> str:
        owner, account_type = match.group(1), match.group(2)
        with database.read() as conn:
            return str(
                conn.execute(
                    select(accounts.c.account_number)
                    .join(users, users.c.id == accounts.c.owner_id)
                    .where(users.c.username == owner, accounts.c.account_type == account_type)
                ).scalar_one()
            )

    return re.sub(r"\{(\w+)\.(\w+)\}", number, question)


_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")


def normal(value: Any) -> Any:
    """One form for values that mean the same on every database and in either answer."""
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float | Decimal) or (
        isinstance(value, str) and _NUMBER.match(value) and len(value) < 12
    ):
        try:
            return Decimal(repr(value) if isinstance(value, float) else str(value)).quantize(
                Decimal("0.01")
            )
        except InvalidOperation:
            return str(value)
    if isinstance(value, datetime):
        return value.replace(tzinfo=None).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    text_value = str(value)
    if re.match(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}", text_value):
        parsed = datetime.fromisoformat(text_value)
        return parsed.replace(tzinfo=None).isoformat(timespec="seconds")
    return text_value


def describe(report: Report) -> Iterator[str]:
    yield f"questions: {len(report.outcomes)}"
    yield f"execution accuracy: {report.accuracy:.1%}"
    yield (
        f"answer latency p50: {report.percentile(0.50):.1f} ms, "
        f"p95: {report.percentile(0.95):.1f} ms"
    )
    yield (
        f"with the audit record written, p50: {report.percentile(0.50, total=True):.1f} ms, "
        f"p95: {report.percentile(0.95, total=True):.1f} ms"
    )
