"""Response models of the audit endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditRecord(BaseModel):
    id: int
    actor_id: int | None = Field(
        description="Who acted; null for the system or an anonymous caller."
    )
    action: str = Field(examples=["user.role_changed"])
    entity_type: str = Field(examples=["user", "account", "transaction"])
    entity_id: str | None
    before: Any = Field(description="The entity's changed fields before (JSON), or null.")
    after: Any = Field(description="The entity's changed fields after (JSON), or null.")
    request_id: str | None
    created_at: datetime
    row_hash: str
    sealed: bool = Field(description="Whether the record is linked into the hash chain yet.")


class Finding(BaseModel):
    check: str = Field(examples=["evidence_mismatch", "chain_rewritten", "unrecorded_rows"])
    subject: str = Field(examples=["transaction 42"])
    detail: str


class ChainVerification(BaseModel):
    ok: bool = Field(description="The chain, its checkpoints and the recorded postings all hold.")
    checked: int = Field(description="Sealed records whose hashes were checked.")
    first_broken_id: int | None = Field(description="The first audit record that fails, if any.")
    unsealed: int = Field(description="Records not yet sealed into the chain (checked on content).")
    detail: str
    checkpoints_checked: int = Field(0, description="Signed checkpoints checked.")
    checkpoint_problems: list[str] = Field(default_factory=list)
    newest_checkpoint_position: int | None = Field(
        None, description="The chain position the newest valid signed checkpoint covers."
    )
    uncovered_records: int = Field(
        0, description="Sealed records after the newest checkpoint: no signature covers them yet."
    )
    postings_checked: int = Field(0, description="Recorded postings compared with the ledger.")
    findings: list[Finding] = Field(
        default_factory=list, description="Where the ledger differs from what the chain records."
    )
