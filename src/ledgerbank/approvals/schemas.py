"""Request and response models of the four-eyes inbox."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import RowMapping

from ledgerbank.identity.deps import Principal
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.clock import utcnow

ApprovalStatus = Literal["pending", "approved", "rejected", "expired", "failed"]


class Decide(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=500)


class ApprovalProposed(BaseModel):
    """The answer (202) to a sensitive action: it waits for a second person."""

    approval_id: int
    status: Literal["pending"] = "pending"
    action: str
    summary: str
    expires_at: datetime
    preview: dict[str, Any] | None = Field(
        default=None, description="what it would do, when that can be told (an import's dry run)"
    )


class Approval(BaseModel):
    id: int
    action: str
    status: ApprovalStatus
    summary: str
    params: dict[str, Any]
    payload_bytes: int | None = Field(description="size of an attached file (an import)")
    entity_type: str | None
    entity_id: str | None
    checker_permission: str = Field(description="what the approving person needs")
    proposed_by: int
    proposed_by_username: str | None = None
    proposed_at: datetime
    proposal_note: str | None
    expires_at: datetime
    decided_by: int | None
    decided_by_username: str | None = None
    decided_at: datetime | None
    decision_note: str | None
    result: dict[str, Any] | None
    can_decide: bool = Field(description="whether the caller may approve or reject it now")

    @classmethod
    def from_row(cls, row: RowMapping, viewer: Principal) -> Approval:
        status = row["status"]
        pending = status == "pending" and row["expires_at"] > utcnow()
        if status == "pending" and not pending:
            status = "expired"
        return cls(
            id=row["id"],
            action=row["action"],
            status=status,
            summary=row["summary"],
            params=json.loads(row["params"]),
            payload_bytes=None if row["payload"] is None else len(row["payload"]),
            entity_type=row["entity_type"],
            entity_id=row["entity_id"],
            checker_permission=row["checker_permission"],
            proposed_by=row["proposed_by"],
            proposed_by_username=row.get("proposed_by_username"),
            proposed_at=row["proposed_at"],
            proposal_note=row["proposal_note"],
            expires_at=row["expires_at"],
            decided_by=row["decided_by"],
            decided_by_username=row.get("decided_by_username"),
            decided_at=row["decided_at"],
            decision_note=row["decision_note"],
            result=json.loads(row["result"]) if row["result"] else None,
            can_decide=pending
            and viewer.id != row["proposed_by"]
            and viewer.can(Permission(row["checker_permission"])),
        )


class ApprovalDecided(Approval):
    shown_once: dict[str, Any] | None = Field(
        default=None, description="shown to the approver once and never again (a reset link)"
    )


def proposed_response(approval: RowMapping, preview: dict[str, Any] | None = None) -> JSONResponse:
    """The 202 of a route whose action now waits for a second person."""
    answer = ApprovalProposed(
        approval_id=approval["id"],
        action=approval["action"],
        summary=approval["summary"],
        expires_at=approval["expires_at"],
        preview=preview,
    )
    return JSONResponse(answer.model_dump(mode="json"), status_code=202)
