"""Routes of /reports/saved: a user's own named custom reports (financial managers, auditors)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from ledgerbank import errors
from ledgerbank.analytics import saved_reports
from ledgerbank.analytics.schemas import CustomReportRequest
from ledgerbank.identity.deps import DB, Principal, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.http import LedgerRoute, problem_responses

router = APIRouter(prefix="/reports/saved", tags=["reports"], route_class=LedgerRoute)

ReportsReader = Annotated[Principal, authorized(Permission.REPORTS_READ)]
ReportId = Annotated[int, Path(ge=1, le=2**63 - 1)]
_AUTH = (errors.NotAuthenticated, errors.Forbidden)


class SaveReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=120, pattern=r"\S")
    definition: CustomReportRequest = Field(description="a POST /reports/custom body")


class SavedReport(BaseModel):
    id: int
    name: str
    definition: CustomReportRequest
    created_at: datetime


class SavedReports(BaseModel):
    items: list[SavedReport]


@router.get(
    "",
    operation_id="reports-saved-list",
    summary="Your saved custom reports, by name",
    responses=problem_responses(*_AUTH, validation=False),
)
def list_saved(principal: ReportsReader, database: DB) -> SavedReports:
    with database.read() as conn:
        return SavedReports.model_validate({"items": saved_reports.list_saved(conn, principal.id)})


@router.post(
    "",
    status_code=201,
    operation_id="reports-saved-create",
    summary="Save a custom report under a name (audited)",
    responses=problem_responses(*_AUTH),
)
def save(body: SaveReport, principal: ReportsReader, database: DB) -> SavedReport:
    definition = body.definition.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    row = database.write(
        lambda conn: saved_reports.save(conn, principal.id, body.name.strip(), definition)
    )
    return SavedReport.model_validate(row)


@router.delete(
    "/{report_id}",
    status_code=204,
    operation_id="reports-saved-delete",
    summary="Delete one of your saved reports (audited)",
    responses=problem_responses(*_AUTH, errors.NotFound),
)
def delete(report_id: ReportId, principal: ReportsReader, database: DB) -> Response:
    database.write(lambda conn: saved_reports.remove(conn, principal.id, report_id))
    return Response(status_code=204)
