"""Serves the console and the app: ``GET /console`` and ``GET /app`` answer each one's HTML shell, ``/ui/...``
the static modules, styles and vendored libraries. The pages use hash routes (``/console#/loans/<id>``), so the
server needs no fallback route; nothing here is part of the OpenAPI document."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.guards import GUARDS

STATIC = Path(__file__).parent / "static"
# The shells are small and name their modules by path: they must not be cached past a deployment.
NO_CACHE = {"Cache-Control": "no-cache"}

router = APIRouter(include_in_schema=False, dependencies=GUARDS)  # NUL refused, as on every route


@router.get("/console")
async def console() -> FileResponse:
    """The staff console's shell."""
    return FileResponse(STATIC / "console" / "index.html", headers=NO_CACHE)


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
