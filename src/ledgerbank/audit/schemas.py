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


class ChainVerification(BaseModel):
    ok: bool
    checked: int = Field(description="Sealed records whose hashes were checked.")
    first_broken_id: int | None = Field(description="The first audit record that fails, if any.")
    unsealed: int = Field(description="Records not yet sealed into the chain (checked on content).")
    detail: str
