"""What a customer may tell the risk team: "I don't recognise this" about a transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from ledgerbank import errors as E
from ledgerbank.identity.deps import DB, Principal, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.ledger import policy
from ledgerbank.ledger.schemas import MAX_ID, Body
from ledgerbank.risk import customer_reports

router = APIRouter(tags=["risk"], route_class=LedgerRoute)

OwnTransactions = Annotated[Principal, authorized(Permission.TRANSACTIONS_READ_OWN)]
TransactionId = Annotated[int, Path(ge=1, le=MAX_ID)]


class UnrecognisedReport(Body):
    note: str | None = Field(default=None, max_length=500, description="what the customer saw")


class ReportReceived(BaseModel):
    transaction_id: int
    reported_at: datetime
    already_reported: bool
    next_steps: list[str]


@router.post(
    "/transactions/{transaction_id}/unrecognised",
    status_code=201,
    operation_id="transactions-report_unrecognised",
    summary="Tell the bank the customer does not recognise a transaction (opens a fraud case)",
    description="201 on the first report, 200 when it was already reported and is still open. "
    "The answer says what happens next and nothing about how the bank assesses it.",
    response_model=ReportReceived,
    responses={
        200: {"model": ReportReceived, "description": "already reported"},
        **problem_responses(E.NotAuthenticated, E.Forbidden, E.NotFound),
    },
)
def report_unrecognised(
    transaction_id: TransactionId,
    principal: OwnTransactions,
    database: DB,
    body: UnrecognisedReport | None = None,
) -> JSONResponse:
    note = (body.note or "").strip() or None if body else None

    def unit(conn: Connection) -> tuple[datetime, bool]:
        row = policy.visible_transaction(conn, principal, transaction_id)
        own = policy.own_accounts(conn, principal) or set()
        account = next(
            (a for a in (row["from_account_id"], row["to_account_id"]) if a in own), None
        )
        return customer_reports.report_unrecognised(
            conn, transaction=row, account_id=account, user_id=principal.id, note=note
        )

    reported_at, new = database.write(unit)
    answer = ReportReceived(
        transaction_id=transaction_id,
        reported_at=reported_at,
        already_reported=not new,
        next_steps=list(customer_reports.NEXT_STEPS),
    )
    return JSONResponse(answer.model_dump(mode="json"), status_code=201 if new else 200)
