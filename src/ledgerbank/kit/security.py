"""HTTP hardening: security headers with a strict Content-Security-Policy, and the CORS list."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

# The web app and the docs pages load only their own scripts. Inline styles are allowed for
# Plotly and Swagger UI (they set style attributes); images may be data:/blob: URLs (Plotly's
# PNG export, Swagger UI's icons); ReDoc runs its search in a blob: worker.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
_JSON_TYPES = (b"application/json", b"application/problem+json")
_DOWNLOAD_TYPES = (
    b"text/csv",
    b"application/pdf",
    b"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)


class SecurityHeadersMiddleware:
    """Adds the security headers to every response (a route's own value wins).

    API answers (JSON) that set no Cache-Control get `no-store`: balances and profiles must
    not sit in shared or browser caches. Downloads (CSV, XLSX, PDF, anything sent as an
    attachment) always get `no-store`, whatever the route said.
    """

    def __init__(self, app: Any, *, hsts: bool = False) -> None:
        self.app = app
        self.headers = SECURITY_HEADERS + ((HSTS,) if hsts else ())

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in self.headers if h[0] not in present)
                content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
                if content_type.startswith(_DOWNLOAD_TYPES) or b"content-disposition" in present:
                    # statements, exports and reports: never kept by a browser or a proxy
                    headers = [(n, v) for n, v in headers if n.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                elif b"cache-control" not in present and content_type.startswith(_JSON_TYPES):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def install_cors(app: FastAPI, origins: list[str]) -> None:
    """Allow exactly the configured origins; bearer tokens, never cookies, so no credentials."""
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_credentials=False,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Location"],
        max_age=600,
    )
