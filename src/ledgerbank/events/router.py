"""/webhooks: admins register receivers of the bank's events and look after their deliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from ledgerbank import errors as E
from ledgerbank.events import webhooks
from ledgerbank.events.addresses import Allowed
from ledgerbank.events.schemas import (
    DeliveryStatus,
    Webhook,
    WebhookCreate,
    WebhookCreated,
    WebhookDelivery,
    WebhookDeliveryList,
    WebhookList,
)
from ledgerbank.identity.deps import DB, Principal, authorized
from ledgerbank.identity.permissions import Permission
from ledgerbank.kit.http import LedgerRoute, problem_responses

router = APIRouter(prefix="/webhooks", tags=["webhooks"], route_class=LedgerRoute)

Admins = Annotated[Principal, authorized(Permission.WEBHOOKS_MANAGE)]
WebhookId = Annotated[int, Path(ge=1, le=2**63 - 1)]
DeliveryId = Annotated[int, Path(ge=1, le=2**63 - 1)]
SIGNED_IN = (E.NotAuthenticated, E.Forbidden)


def _allowed(request: Request) -> Allowed:
    return Allowed.parse(request.app.state.settings.webhook_allowed_hosts)


@router.post(
    "",
    status_code=201,
    operation_id="webhooks-create",
    summary="Register a webhook; the answer shows its signing secret once",
    responses=problem_responses(*SIGNED_IN, E.WebhookUrlRefused, E.Conflict),
)
def create_webhook(
    body: WebhookCreate, principal: Admins, database: DB, request: Request
) -> WebhookCreated:
    allowed = _allowed(request)
    created = database.write(
        lambda conn: webhooks.register(
            conn,
            url=body.url,
            kinds=body.events,
            actor_id=principal.id,
            allowed=allowed,
            sealer=request.app.state.settings.sealer(),
        )
    )
    return WebhookCreated(**created)


@router.get(
    "",
    operation_id="webhooks-list",
    summary="The registered webhooks (never their secrets)",
    responses=problem_responses(*SIGNED_IN, validation=False),
)
def list_webhooks(principal: Admins, database: DB) -> WebhookList:
    with database.read() as conn:
        return WebhookList(items=[Webhook(**row) for row in webhooks.list_webhooks(conn)])


@router.delete(
    "/{webhook_id}",
    status_code=204,
    operation_id="webhooks-delete",
    summary="Stop a webhook; its pending deliveries become dead letters",
    responses=problem_responses(*SIGNED_IN, E.NotFound),
)
def delete_webhook(webhook_id: WebhookId, principal: Admins, database: DB) -> Response:
    database.write(lambda conn: webhooks.delete(conn, webhook_id, actor_id=principal.id))
    return Response(status_code=204)


@router.get(
    "/{webhook_id}/deliveries",
    operation_id="webhooks-deliveries",
    summary="A webhook's deliveries, newest first (status=dead: its dead letters)",
    responses=problem_responses(*SIGNED_IN, E.NotFound),
)
def list_deliveries(
    webhook_id: WebhookId,
    principal: Admins,
    database: DB,
    status: DeliveryStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> WebhookDeliveryList:
    with database.read() as conn:
        rows = webhooks.list_deliveries(conn, webhook_id, status=status, limit=limit)
    return WebhookDeliveryList(items=[WebhookDelivery(**row) for row in rows])


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/redeliver",
    operation_id="webhooks-redeliver",
    summary="Send a delivery again now (a dead letter gets another day of retries)",
    responses=problem_responses(*SIGNED_IN, E.NotFound),
)
def redeliver(
    webhook_id: WebhookId, delivery_id: DeliveryId, principal: Admins, database: DB
) -> WebhookDelivery:
    row = database.write(
        lambda conn: webhooks.redeliver(conn, webhook_id, delivery_id, actor_id=principal.id)
    )
    return WebhookDelivery(**row)
