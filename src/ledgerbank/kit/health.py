"""Liveness, readiness and metrics endpoints for orchestrators and Prometheus."""

from __future__ import annotations

import logging
from collections.abc import Callable

from fastapi import APIRouter, Request, Response

from ledgerbank.errors import Forbidden, NotAuthenticated, ServiceUnavailable
from ledgerbank.kit import metrics
from ledgerbank.kit.db import Database
from ledgerbank.kit.http import LedgerRoute, problem_responses
from ledgerbank.kit.read_database import replica_status

router = APIRouter(tags=["health"], route_class=LedgerRoute)
log = logging.getLogger(__name__)


@router.get(
    "/ready",
    operation_id="health-readiness",
    summary="Readiness: the database is reachable and fully migrated",
    description="`replica` says how the read replica is (`no_replica` without one); an "
    "unreachable replica is reported, not a reason to stop taking payments.",
    responses=problem_responses(ServiceUnavailable, validation=False),
)
def ready(request: Request) -> dict[str, str]:
    from ledgerbank.migrations import is_current

    database: Database = request.app.state.db
    try:
        current = is_current(database.engine)
    except Exception as exc:  # any driver error means: not ready
        log.warning("readiness: database unreachable (%s)", type(exc).__name__)
        raise ServiceUnavailable("the database is unreachable") from None
    if not current:
        raise ServiceUnavailable("the database is not migrated to the newest revision")
    return {"status": "ready", "replica": replica_status(database, request.app.state.read_db).state}


@router.get(
    "/metrics",
    operation_id="health-metrics",
    summary="Prometheus metrics (text format): a scrape token or a staff role",
    description="`Authorization: Bearer <LEDGERBANK_METRICS_TOKEN>` (for Prometheus) or a "
    "staff user's access token.",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        **problem_responses(NotAuthenticated, Forbidden, validation=False),
    },
)
def prometheus_metrics(request: Request) -> Response:
    # The app factory installs who may scrape (kit knows no users): a token or a staff role.
    allow: Callable[[Request], None] = request.app.state.metrics_access
    allow(request)
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
