"""The FastAPI app factory: routers, middleware, error handlers and the web app."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ledgerbank import __version__
from ledgerbank.audit import service as audit
from ledgerbank.config import Settings, get_settings
from ledgerbank.kit.db import Database
from ledgerbank.kit.http import LedgerRoute, RequestIdMiddleware, install_error_handlers
from ledgerbank.ledger.screening import NO_SCREEN

log = logging.getLogger("ledgerbank")


def _audit_sealer(database: Database, stop: threading.Event, every: float = 1.0) -> None:
    """Seal audit records into the hash chain shortly after they commit."""
    while not stop.wait(every):
        try:
            audit.try_seal(database.write)
        except Exception:  # the next round retries; sealing never blocks postings
            log.exception("audit sealing failed")


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database.from_url(
            settings.resolved_database_url, pool_size=settings.db_pool_size
        )
        app.state.db = database
        app.state.screen = NO_SCREEN
        stop = threading.Event()
        sealer = threading.Thread(
            target=_audit_sealer, args=(database, stop), name="audit-sealer", daemon=True
        )
        sealer.start()
        try:
            yield
        finally:
            stop.set()
            sealer.join(timeout=5)
            database.dispose()

    app = FastAPI(
        title="ledgerbank",
        version=__version__,
        description="A double-entry bank core: ledger, customers, risk, analytics, LedgerGPT.",
        lifespan=lifespan,
    )
    app.router.route_class = LedgerRoute
    app.state.settings = settings
    app.add_middleware(RequestIdMiddleware)
    install_error_handlers(app)

    @app.get("/health", tags=["health"], operation_id="health-liveness")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
