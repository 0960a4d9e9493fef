"""Admins create, list and revoke machine clients' API tokens (identity.api_tokens)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from ledgerbank import errors as E
from ledgerbank.identity import api_tokens
from ledgerbank.identity.deps import DB, AppSettings, Principal, authorized
from ledgerbank.identity.permissions import SCOPES, Permission
from ledgerbank.kit.http import LedgerRoute, problem_responses

router = APIRouter(prefix="/admin/api-tokens", tags=["api-tokens"], route_class=LedgerRoute)

TokensManage = Annotated[Principal, authorized(Permission.API_TOKENS_MANAGE)]
MAX_ID = 2**63 - 1
SIGNED_IN = (E.NotAuthenticated, E.Forbidden)


class ApiTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(
        min_length=1, max_length=len(SCOPES), description=f"some of {', '.join(sorted(SCOPES))}"
    )
    owner: int | None = Field(
        default=None, ge=1, le=MAX_ID, description="the user it acts as; default: its creator"
    )


class ApiToken(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="the token's first characters, to recognise it")
    scopes: list[str]
    owner_id: int
    created_by: int | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreated(ApiToken):
    token: str = Field(description="shown this once: send it as `Authorization: Bearer lbk_...`")


class ApiTokenList(BaseModel):
    items: list[ApiToken]
    next_cursor: str | None = None


@router.post(
    "",
    status_code=201,
    operation_id="api-tokens-create",
    summary="Create a scoped API token for a machine client (shown once)",
    response_model=ApiTokenCreated,
    responses=problem_responses(*SIGNED_IN, E.NotFound),
)
def create_token(
    body: ApiTokenCreate, principal: TokensManage, database: DB, settings: AppSettings
) -> ApiTokenCreated:
    keyring = settings.pin_keyring()
    view, secret = database.write(
        lambda conn: api_tokens.create(
            conn,
            name=body.name,
            scopes=body.scopes,
            owner_id=body.owner,
            created_by=principal.id,
            keyring=keyring,
        )
    )
    return ApiTokenCreated(**view, token=secret)


@router.get(
    "",
    operation_id="api-tokens-list",
    summary="Every API token (never their secrets)",
    response_model=ApiTokenList,
    responses=problem_responses(*SIGNED_IN),
)
def list_tokens(principal: TokensManage, database: DB) -> ApiTokenList:
    with database.read() as conn:
        rows = api_tokens.list_tokens(conn)
    return ApiTokenList(items=[ApiToken(**row) for row in rows])


@router.delete(
    "/{token_id}",
    status_code=204,
    operation_id="api-tokens-revoke",
    summary="Revoke an API token: refused from now on",
    responses=problem_responses(*SIGNED_IN, E.NotFound),
)
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=MAX_ID)], principal: TokensManage, database: DB
) -> Response:
    database.write(lambda conn: api_tokens.revoke(conn, token_id, actor_id=principal.id))
    return Response(status_code=204)
