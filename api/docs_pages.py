"""The API's documentation page, served from this API alone: Swagger UI at ``/docs``, its script and styles under
``/docs/assets`` from the ``fastapi-offline`` package (Swagger UI 5, which reads the OpenAPI 3.1 document FastAPI
writes). FastAPI's own page loads them from a public CDN, which a lender's network without internet egress (or a
newcomer's offline machine) cannot reach: the page stayed blank. The page is FastAPI's (``fastapi.openapi.docs``),
only pointed here; its Content-Security-Policy is ``docs`` (``api.hardening``: its inline start-up script, nothing
from elsewhere). No ReDoc page: its bundle loads its maker's logo from the maker's CDN. Other tools read
``/openapi.json``."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs/assets"
STATIC = Path(fastapi_offline.__file__).parent / "static"


def install(app: FastAPI, docs_url: str = "/docs") -> None:
    """Add ``docs_url`` (Swagger UI, with its OAuth2 redirect page) to ``app``, created with ``docs_url=None,
    redoc_url=None``, and mount its assets at :data:`ASSETS`."""
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"
    redirect = app.swagger_ui_oauth2_redirect_url or f"{docs_url}/oauth2-redirect"

    @app.get(docs_url, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=redirect,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get(redirect, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
