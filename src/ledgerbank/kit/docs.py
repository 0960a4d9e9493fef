"""The API docs pages (/docs, /redoc) with their assets served from here, not from a CDN.

The pages carry no inline script, so the strict Content-Security-Policy holds for them too.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/docs/assets"

_SWAGGER_INIT = """window.ui = SwaggerUIBundle({
  url: %s,
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  showExtensions: true,
  showCommonExtensions: true,
  persistAuthorization: false,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""


def install_docs(app: FastAPI, *, openapi_url: str = "/openapi.json") -> None:
    """Serve Swagger UI at /docs and ReDoc at /redoc (create the app with both urls None)."""
    title = escape(app.title)
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return HTMLResponse(
            f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} – API</title>
<link rel="stylesheet" href="{ASSETS_URL}/swagger-ui.css">
<link rel="icon" href="{ASSETS_URL}/favicon.png"></head>
<body><div id="swagger-ui"></div>
<script src="{ASSETS_URL}/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-init.js"></script></body></html>"""
        )

    @app.get("/docs/swagger-init.js", include_in_schema=False)
    def swagger_init() -> Response:
        script = _SWAGGER_INIT % f'"{openapi_url}"'
        return Response(script, media_type="text/javascript")

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return HTMLResponse(
            f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} – API reference</title>
<link rel="icon" href="{ASSETS_URL}/favicon.png"></head>
<body><redoc spec-url="{openapi_url}"></redoc>
<script src="{ASSETS_URL}/redoc.standalone.js"></script></body></html>"""
        )
