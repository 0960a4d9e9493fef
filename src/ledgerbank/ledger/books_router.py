"""GET /ledger/balance-sheet and /ledger/integrity: the bank's books, for auditors and managers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from ledgerbank import errors
from ledgerbank.identity.deps import DB, Principal, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.clock import utcnow
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.kit.money import to_decimal_string
from ledgerbank.ledger import integrity

router = APIRouter(prefix="/ledger", tags=["ledger"], route_class=LedgerRoute)

BooksReader = Annotated[Principal, authorized(Permission.AUDIT_READ, Permission.REPORTS_READ)]


class BalanceSheetLine(BaseModel):
    currency: str
    assets: str
    liabilities: str
    equity: str
    difference: str
    balanced: bool
    fx_position: str = "0"  # the bank's FX position account in this currency (part of equity)


class BalanceSheet(BaseModel):
    as_of: str
    balanced: bool
    items: list[BalanceSheetLine]


class IntegrityViolation(BaseModel):
    check: str
    entity_type: str
    entity_id: int
    difference_minor: int
    meaning: str


class IntegrityReport(BaseModel):
    ok: bool
    checked_at: str
    violations: list[IntegrityViolation]


@router.get(
    "/balance-sheet",
    operation_id="ledger-balance-sheet",
    summary="Assets, liabilities and equity per currency (from vw_balance_sheet)",
    responses=problem_responses(errors.NotAuthenticated, errors.Forbidden, validation=False),
)
def balance_sheet(principal: BooksReader, database: DB) -> BalanceSheet:
    with database.read() as conn:
        rows = conn.execute(
            text(
                "SELECT currency, assets_minor, liabilities_minor, equity_minor, "
                "difference_minor, fx_position_minor FROM vw_balance_sheet ORDER BY currency"
            )
        ).all()
    items = [
        BalanceSheetLine(
            currency=currency,
            assets=to_decimal_string(int(assets), currency),
            liabilities=to_decimal_string(int(liabilities), currency),
            equity=to_decimal_string(int(equity), currency),
            difference=to_decimal_string(int(difference), currency),
            balanced=int(difference) == 0,
            fx_position=to_decimal_string(int(fx_position), currency),
        )
        for currency, assets, liabilities, equity, difference, fx_position in rows
    ]
    return BalanceSheet(
        as_of=utcnow().isoformat(), balanced=all(i.balanced for i in items), items=items
    )


@router.get(
    "/integrity",
    operation_id="ledger-integrity",
    summary="Every ledger invariant checked (vw_ledger_integrity_check); ok while it is empty",
    responses=problem_responses(errors.NotAuthenticated, errors.Forbidden, validation=False),
)
def ledger_integrity(principal: BooksReader, database: DB) -> IntegrityReport:
    with database.read() as conn:
        found = integrity.violations(conn)
    return IntegrityReport(
        ok=not found,
        checked_at=utcnow().isoformat(),
        violations=[
            IntegrityViolation(
                check=v.check,
                entity_type=v.entity_type,
                entity_id=v.entity_id,
                difference_minor=v.difference,
                meaning=v.meaning,
            )
            for v in found
        ],
    )
