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

# The browser revalidates the app's files (ETag) before each use, so an upgrade shows at once.
# The security headers (a strict Content-Security-Policy among them) come from kit.security.
REVALIDATE = {"Cache-Control": "no-cache"}


def plotly_bundle() -> Path:
    """The `plotly.min.js` shipped inside the installed `plotly` Python package."""
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


class _RevalidatedStaticFiles(StaticFiles):
    """Static files the browser revalidates before each use."""

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.update(REVALIDATE)
        return response


def mount(app: FastAPI) -> None:
    """Add the web app's routes; call it after every API router so the API keeps precedence."""

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC / "index.html", headers=REVALIDATE)

    @app.get("/static/vendor/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(
            plotly_bundle(),
            media_type="text/javascript",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    app.mount("/static", _RevalidatedStaticFiles(directory=STATIC), name="web-static")
