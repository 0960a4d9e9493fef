"""POST /admin/import: upload a CSV of transaction history; the import report answers."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from ledgerbank import errors
from ledgerbank.approvals import service as approvals
from ledgerbank.approvals.schemas import ApprovalProposed, proposed_response
from ledgerbank.identity.deps import DB, AppSettings, Principal, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.ledger.approval_actions import IMPORT
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
        "would be posted. Both flags may be given as query or form fields. A file that would "
        "move money waits for a second administrator: 202 `{approval_id, preview}`, the "
        "preview being the dry run's report."
    ),
    response_model=ImportReport,
    responses={
        202: {"model": ApprovalProposed, "description": "money would move: proposed"},
        **problem_responses(
            errors.NotAuthenticated, errors.Forbidden, errors.ImportRejected, errors.Conflict
        ),
    },
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
) -> ImportReport | JSONResponse:
    limit = settings.import_max_mb * 1024 * 1024
    content = file.file.read(limit + 1)
    if len(content) > limit:
        raise errors.ValidationFailed(f"the file is larger than {settings.import_max_mb} MB")
    dry = dry_run if dry_run_field is None else dry_run_field
    partly = partial if partial_field is None else partial_field
    common = {
        "file_name": file.filename or "upload.csv",
        "actor_id": principal.id,
        "partial": partly,
        "screen": request.app.state.screen,
        "max_major": Decimal(settings.max_amount),
    }
    # Four eyes: what would move money is first tried as a dry run, then proposed.
    report = import_transactions(database, content, dry_run=True, **common)
    if not dry and report.posted and not (report.errors and not partly):
        approval = database.write(
            lambda conn: approvals.propose(
                conn,
                action_name=IMPORT,
                params={"file_name": common["file_name"], "partial": partly},
                proposed_by=principal.id,
                summary=f"Import {report.posted} transaction(s) from {common['file_name']}",
                hours=settings.approval_hours,
                entity_type="import",
                entity_id=hashlib.sha256(content).hexdigest(),
                payload=content,
            )
        )
        return proposed_response(approval, preview=report.as_dict())
    if not dry:
        report = import_transactions(database, content, dry_run=False, **common)
    answer = report.as_dict()
    if report.errors and not (report.partial or report.dry_run):
        raise errors.ImportRejected(
            f"{len(report.errors)} row(s) refused; nothing of the file was posted",
            report=answer,
        )
    return ImportReport.model_validate(answer)
