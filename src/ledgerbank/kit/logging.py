"""Structured logging: JSON lines in production, readable lines elsewhere, a request id on each.

Every request gets one access line (method, route, path, status, duration). Nothing here logs
headers or bodies, and a redacting filter scrubs bearer tokens, JWTs and `password=` / `pin=`
style values from any message that would carry one by mistake.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

from ledgerbank.kit import context, metrics

access_log = logging.getLogger("ledgerbank.access")

# The extra attributes the access line carries; formatters print them when present.
ACCESS_FIELDS = ("method", "path", "route", "status", "duration_ms", "client")

_SECRETS = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [redacted]"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"), "[redacted-jwt]"),
    (
        re.compile(
            r"(?i)([\"']?\b(?:password|passwd|pin|token|access_token|secret|authorization|api_key)"
            r"\b[\"']?\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&}]+)"
        ),
        r"\1[redacted]",
    ),
]


def redact(text: str) -> str:
    """The text with bearer tokens, JWTs and password/PIN/token values replaced."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class ContextFilter(logging.Filter):
    """Adds the request id and scrubs secrets; attach it to handlers, not loggers."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.request_id.get() or "-"
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        for field in ACCESS_FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class ReadableFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s")

    def formatException(self, ei: Any) -> str:
        return redact(super().formatException(ei))


class _LedgerbankHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Marks the handler ledgerbank installed, so configuring again replaces it."""


def configure_logging(*, level: str = "INFO", json_lines: bool = False) -> None:
    """Install ledgerbank's handler on the root logger (again: replace it), keep others."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler, _LedgerbankHandler):
            root.removeHandler(handler)
    handler = _LedgerbankHandler(sys.stderr)
    handler.setFormatter(JSONFormatter() if json_lines else ReadableFormatter())
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    root.setLevel(level.upper())
    # SQL with its parameters (hashes included) never reaches the logs, whatever the level.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    for noisy in ("uvicorn.access", "httpx", "httpcore", "multipart", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _route_template(scope: dict[str, Any]) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "unmatched"


class AccessLogMiddleware:
    """One access line and the HTTP metrics per request (by route template, never raw path)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_watch(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_watch)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope.get("method", "")
            metrics.http_requests.labels(method, route, str(status)).inc()
            metrics.http_request_duration.labels(method, route).observe(elapsed)
            client = scope.get("client")
            access_log.info(
                "%s %s %d %.1fms",
                method,
                scope.get("path", ""),
                status,
                elapsed * 1000,
                extra={
                    "method": method,
                    "path": scope.get("path", ""),
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "client": client[0] if client else None,
                },
            )
