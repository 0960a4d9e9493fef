"""Routes of /ledgergpt: plain-English questions answered with read-only SQL."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request

from ledgerbank import errors
from ledgerbank.identity.deps import DB, Principal, ReadDB, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.ledgergpt import history
from ledgerbank.ledgergpt.schemas import AskAnswer, AskRequest, Examples, QuestionHistory
from ledgerbank.ledgergpt.service import Asker, LedgerGPT
from ledgerbank.ledgergpt.vocabulary import EXAMPLES

router = APIRouter(prefix="/ledgergpt", tags=["ledgergpt"], route_class=LedgerRoute)

LedgerAsk = Annotated[Principal, authorized(Permission.LEDGERGPT_ASK)]
ERRORS = (
    errors.NotAuthenticated,
    errors.Forbidden,
    errors.NotUnderstood,
    errors.UnsafeQuery,
    errors.QueryTimeout,
    errors.QueryFailed,
    errors.ResultTooLarge,
)


def engine_of(request: Request, database: DB, read_database: ReadDB) -> LedgerGPT:
    """One engine per app, made on first use (it keeps the read-only runner, on the replica
    when there is one; the audit record of each question goes to the primary)."""
    engine: LedgerGPT | None = getattr(request.app.state, "ledgergpt", None)
    if engine is None or engine.database is not database:
        engine = LedgerGPT(database, request.app.state.settings, read_database=read_database)
        request.app.state.ledgergpt = engine
    return engine


@router.post(
    "/ask",
    response_model=AskAnswer,
    operation_id="ledgergpt-ask",
    summary="Ask a question in plain English (or SQL)",
    responses=problem_responses(*ERRORS),
)
def ask(
    body: AskRequest, principal: LedgerAsk, request: Request, database: DB, read_database: ReadDB
) -> AskAnswer:
    """The question becomes one read-only SELECT over the views the caller's role may read.

    422 `not_understood` carries `suggestions`; 422 `unsafe_query` says why the safety gate
    refused. Every question is recorded in the audit trail.
    """
    engine = engine_of(request, database, read_database)
    asker = Asker(principal.id, principal.username, principal.role, "api")
    answer = engine.ask(body.question, asker, engine=body.engine)
    return AskAnswer(
        question=answer.question,
        sql=answer.sql,
        parameters=answer.parameters,
        columns=answer.columns,
        rows=answer.rows,
        row_count=answer.row_count,
        truncated=answer.truncated,
        engine="llm" if answer.engine == "llm" else "offline",
        explanation=answer.explanation,
    )


@router.get(
    "/examples",
    response_model=Examples,
    operation_id="ledgergpt-examples",
    summary="Example questions the offline engine answers",
    responses=problem_responses(errors.NotAuthenticated, errors.Forbidden, validation=False),
)
def examples(principal: LedgerAsk) -> Examples:
    return Examples(examples=[q for group in EXAMPLES.values() for q in group])


@router.get(
    "/history",
    response_model=QuestionHistory,
    operation_id="ledgergpt-history",
    summary="Your own latest questions, newest first (from the audit trail)",
    responses=problem_responses(errors.NotAuthenticated, errors.Forbidden, validation=False),
)
def question_history(principal: LedgerAsk, database: DB) -> QuestionHistory:
    with database.read() as conn:
        return QuestionHistory.model_validate({"items": history.questions_of(conn, principal.id)})
