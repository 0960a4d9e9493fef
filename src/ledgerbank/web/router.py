"""Serves the web app: `index.html` at `/`, its files under `/static`, Plotly from its package.

Only these explicit paths belong to the web app, so every other path stays the API's: an
unknown API path still answers problem+json, and the API's trailing-slash redirects still work.
The app routes with the URL hash (`/#/accounts`), so `/` is the only page a browser navigates to.
"""

from __future__ import annotations

import os
from importlib import resources
from os import PathLike
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response
from starlette.types import Scope

STATIC = Path(__file__).parent / "static"

# The scripts of the app come from ledgerbank itself; Plotly draws its charts with inline
# styles, so styles may be inline while scripts may not.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def plotly_bundle() -> Path:
    """The `plotly.min.js` shipped inside the installed `plotly` Python package."""
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


class _RevalidatedStaticFiles(StaticFiles):
    """Static files the browser revalidates (ETag) before each use, so an upgrade shows at once."""

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


def mount(app: FastAPI) -> None:
    """Add the web app's routes; call it after every API router so the API keeps precedence."""

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=PAGE_HEADERS)

    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(
            plotly_bundle(),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
        )

    app.mount("/static", _RevalidatedStaticFiles(directory=STATIC), name="web-static")
