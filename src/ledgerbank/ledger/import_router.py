"""POST /admin/import: upload a CSV of transaction history; the import report answers."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile

from ledgerbank import errors
from ledgerbank.identity.deps import DB, AppSettings, Principal, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.ledger.importer import import_transactions
from ledgerbank.ledger.schemas import ImportReport

router = APIRouter(prefix="/admin", tags=["admin"], route_class=LedgerRoute)

Importer = Annotated[Principal, authorized(Permission.IMPORT)]


@router.post(
    "/import",
    operation_id="admin-import",
    summary="Import transaction history from a CSV file (multipart upload)",
    description=(
        "Columns: `external_id, timestamp, type, from_account, to_account, amount, currency, "
        "description`; accounts are named by account number. Rows already imported (same "
        "`external_id`) are skipped. A file with a refused row posts nothing (422 "
        "`import_rejected` with the report) unless `partial` is set. `dry_run` reports what "
        "would be posted. Both flags may be given as query or form fields."
    ),
    responses=problem_responses(errors.NotAuthenticated, errors.Forbidden, errors.ImportRejected),
)
def import_history(
    request: Request,
    principal: Importer,
    database: DB,
    settings: AppSettings,
    file: Annotated[UploadFile, File(description="the CSV file")],
    dry_run: Annotated[bool, Query()] = False,
    partial: Annotated[bool, Query()] = False,
    dry_run_field: Annotated[bool | None, Form(alias="dry_run")] = None,
    partial_field: Annotated[bool | None, Form(alias="partial")] = None,
) -> ImportReport:
    limit = settings.import_max_mb * 1024 * 1024
    content = file.file.read(limit + 1)
    if len(content) > limit:
        raise errors.ValidationFailed(f"the file is larger than {settings.import_max_mb} MB")
    report = import_transactions(
        database,
        content,
        file_name=file.filename or "upload.csv",
        actor_id=principal.id,
        dry_run=dry_run if dry_run_field is None else dry_run_field,
        partial=partial if partial_field is None else partial_field,
        screen=request.app.state.screen,
        max_major=Decimal(settings.max_amount),
    )
    answer = report.as_dict()
    if report.errors and not (report.partial or report.dry_run):
        raise errors.ImportRejected(
            f"{len(report.errors)} row(s) refused; nothing of the file was posted",
            report=answer,
        )
    return ImportReport.model_validate(answer)
