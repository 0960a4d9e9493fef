"""The FastAPI app factory: routers, middleware, error handlers and the web app."""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from ledgerbank import __version__, errors, jobs
from ledgerbank.analytics.categories_router import router as categories_router
from ledgerbank.analytics.router import router as analytics_router
from ledgerbank.analytics.saved_router import router as saved_reports_router
from ledgerbank.approvals.router import router as approvals_router
from ledgerbank.audit import checkpoints, keys
from ledgerbank.audit import service as audit
from ledgerbank.audit.router import router as audit_router
from ledgerbank.casework.router import router as casework_router
from ledgerbank.config import Settings, get_settings
from ledgerbank.events.router import router as webhooks_router
from ledgerbank.fx.router import router as fx_router
from ledgerbank.identity import deps as identity_deps
from ledgerbank.identity import passwords
from ledgerbank.identity.api_tokens_router import router as api_tokens_router
from ledgerbank.identity.router import router as identity_router
from ledgerbank.identity.trust_router import router as trust_router
from ledgerbank.interest.router import router as interest_router
from ledgerbank.kit.db import Database
from ledgerbank.kit.docs import install_docs
from ledgerbank.kit.health import router as health_router
from ledgerbank.kit.http import LedgerRoute, RequestIdMiddleware, install_error_handlers
from ledgerbank.kit.logging import AccessLogMiddleware, configure_logging
from ledgerbank.kit.read_database import open_read_database
from ledgerbank.kit.security import SecurityHeadersMiddleware, install_cors
from ledgerbank.ledger.money import MoneyService
from ledgerbank.ledger.router import router as ledger_router
from ledgerbank.ledgergpt.router import router as ledgergpt_router
from ledgerbank.payments.router import router as payments_router
from ledgerbank.proof.router import router as proof_router
from ledgerbank.replica.router import router as replica_router
from ledgerbank.risk.customer_router import router as risk_customer_router
from ledgerbank.risk.router import router as risk_router
from ledgerbank.risk.scores import stored_scores
from ledgerbank.risk.screen import build_screen
from ledgerbank.web import events as web_events
from ledgerbank.web import router as web
from ledgerbank.worker.router import router as worker_router

log = logging.getLogger("ledgerbank")


def _audit_sealer(database: Database, stop: threading.Event, every: float = 1.0) -> None:
    """Seal audit records into the hash chain shortly after they commit."""
    while not stop.wait(every):
        try:
            audit.try_seal(database.write)
        except Exception:  # the next round retries; sealing never blocks postings
            log.exception("audit sealing failed")


def _audit_checkpoints(
    database: Database, signer: keys.Signer, settings: Settings, stop: threading.Event
) -> None:
    """Sign the chain's head every `audit_checkpoint_seconds`, or sooner once
    `audit_checkpoint_records` records were sealed since (until a worker does it)."""
    while not stop.wait(min(1.0, settings.audit_checkpoint_seconds)):
        try:
            checkpoints.checkpoint_if_due(
                database,
                signer,
                every_seconds=settings.audit_checkpoint_seconds,
                every_records=settings.audit_checkpoint_records,
            )
        except Exception:  # the next round retries
            log.exception("audit checkpoint failed")


def _start_audit_checkpoints(
    database: Database, settings: Settings, stop: threading.Event
) -> threading.Thread | None:
    signer = keys.signer(settings)  # a misplaced key stops the start: better than no proof
    if signer is None:
        log.warning(
            "no audit signing key (LEDGERBANK_AUDIT_SIGNING_KEY[_FILE]): no signed checkpoints"
        )
        return None
    thread = threading.Thread(
        target=_audit_checkpoints,
        args=(database, signer, settings, stop),
        name="audit-checkpoints",
        daemon=True,
    )
    thread.start()
    return thread


def _metrics_access(settings: Settings) -> Callable[[Request], None]:
    """Who may read /metrics: the scrape token (constant-time compared) or a staff user."""

    def allow(request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise errors.NotAuthenticated("metrics need the scrape token or a staff sign-in")
        if settings.metrics_token and hmac.compare_digest(
            token.encode(), settings.metrics_token.encode()
        ):
            return
        principal = identity_deps.current_principal(settings, request.app.state.db, token)
        if principal.role == "customer":
            raise errors.Forbidden("metrics are for the bank's staff")

    return allow


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(level=settings.log_level, json_lines=settings.environment == "production")
    passwords.configure(
        time_cost=settings.password_hash_time_cost,
        memory_kib=settings.password_hash_memory_kib,
        parallelism=settings.password_hash_parallelism,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database.from_url(
            settings.resolved_database_url, pool_size=settings.db_pool_size
        )
        app.state.db = database
        app.state.read_db = read_database = open_read_database(
            settings.read_database_url, database, pool_size=settings.db_pool_size
        )
        app.state.screen = build_screen(settings)  # the newest model, or the rules alone
        app.state.stored_scores = stored_scores  # what staff read of each transaction's risk
        app.state.money = money = MoneyService.from_settings(
            database, lambda: app.state.screen, settings
        )
        committers = settings.group_commit_committers or (1 if database.dialect == "sqlite" else 4)
        money.start_group_commit(
            max_group=settings.group_commit_max,
            window=settings.group_commit_window_ms / 1000,
            committers=committers,
        )
        stop = threading.Event()
        sealer = threading.Thread(
            target=_audit_sealer, args=(database, stop), name="audit-sealer", daemon=True
        )
        sealer.start()
        checkpointer = _start_audit_checkpoints(database, settings, stop)
        try:
            yield
        finally:
            money.close()
            stop.set()
            sealer.join(timeout=5)
            if checkpointer is not None:
                checkpointer.join(timeout=5)
            if read_database is not database:
                read_database.dispose()
            database.dispose()

    app = FastAPI(
        title="ledgerbank",
        version=__version__,
        description="A double-entry bank core: ledger, customers, risk, analytics, LedgerGPT.",
        lifespan=lifespan,
        docs_url=None,  # served by install_docs with local assets, under the strict CSP
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        # one schema per model: a model both sent and answered (a saved report's definition)
        # would otherwise be two schemas of one title, which client generators cannot tell apart
        separate_input_output_schemas=False,
    )
    app.router.route_class = LedgerRoute
    app.state.settings = settings
    app.state.jobs = jobs.registry()  # what GET /admin/jobs lists (the worker runs them)
    app.state.metrics_access = _metrics_access(settings)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.environment == "production")
    install_cors(app, settings.cors_origins)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(RequestIdMiddleware)  # outermost: every log line has the request id
    install_error_handlers(app)

    @app.get("/health", tags=["health"], operation_id="health-liveness")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    app.include_router(ledger_router)
    app.include_router(health_router)
    app.include_router(identity_router)
    app.include_router(audit_router)
    app.include_router(proof_router)
    app.include_router(analytics_router)
    app.include_router(categories_router)
    app.include_router(ledgergpt_router)
    app.include_router(risk_router)
    app.include_router(casework_router)
    app.include_router(saved_reports_router)
    app.include_router(risk_customer_router)
    app.include_router(trust_router)
    app.include_router(approvals_router)
    app.include_router(api_tokens_router)
    app.include_router(fx_router)
    app.include_router(interest_router)
    app.include_router(replica_router)
    app.include_router(worker_router)
    app.include_router(payments_router)
    install_docs(app)
    app.include_router(web_events.router)
    app.include_router(webhooks_router)
    web.mount(app)  # the web app last: its few explicit paths never shadow an API route
    return app
