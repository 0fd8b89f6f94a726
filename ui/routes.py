"""Serves the console and the app: ``GET /console`` and ``GET /app`` answer each one's HTML shell, ``/ui/...``
the static modules, styles and vendored libraries. The pages use hash routes (``/console#/loans/<id>``), so the
server needs no fallback route; nothing here is part of the OpenAPI document."""

from __future__ import annotations

from html import escape
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.guards import GUARDS

STATIC = Path(__file__).parent / "static"
# The shells are small and name their modules by path: they must not be cached past a deployment.
NO_CACHE = {"Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False, dependencies=GUARDS)  # NUL refused, as on every route


LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def console_shell(page: str, temporal_ui: str | None) -> str:
    """The console's shell with the Temporal UI its workflow links open (``Settings.temporal_ui``), filled into the
    meta tags a deployer left empty: ``los up``'s dev server (``http://localhost:<port>``) by its port only
    (``los-temporal-ui-port``), so a console opened from another machine links this server's host, not its own
    localhost; any other UI by its URL (``los-temporal-ui``). A URL with a port out of range changes nothing."""
    if not temporal_ui:
        return page
    parts = urlsplit(temporal_ui)
    try:
        port = parts.port
    except ValueError:  # a port out of range: the page keeps its default rather than failing
        return page
    if parts.hostname in LOCAL_HOSTS and port and parts.scheme == "http" and parts.path in ("", "/"):
        return page.replace('<meta name="los-temporal-ui-port" content="">',
                            f'<meta name="los-temporal-ui-port" content="{port}">', 1)  # fmt: skip
    return page.replace('<meta name="los-temporal-ui" content="">',
                        f'<meta name="los-temporal-ui" content="{escape(temporal_ui)}">', 1)  # fmt: skip


@router.get("/console")
async def console(request: Request) -> HTMLResponse:
    """The staff console's shell, its Temporal UI links set from the API's settings (:func:`console_shell`)."""
    page = (STATIC / "console" / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(console_shell(page, request.app.state.settings.temporal_ui), headers=NO_CACHE)


@router.get("/app")
async def borrower_app() -> FileResponse:
    """The borrower's app's shell."""
    return FileResponse(STATIC / "app" / "index.html", headers=NO_CACHE)


@router.get("/")
async def home() -> RedirectResponse:
    """The root opens the staff console."""
    return RedirectResponse("/console")


def install(app: FastAPI) -> None:
    """Mount the static files under ``/ui`` and add the shells' routes."""
    app.mount("/ui", StaticFiles(directory=STATIC), name="ui")
    app.include_router(router)
