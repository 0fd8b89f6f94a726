"""Transport-level protections of every answer and request: security headers, the CORS allow-list and request
limits (docs/security.md). Installed by ``api.app.create_app`` through :func:`install`."""

from __future__ import annotations

from fastapi import FastAPI

from los.settings import Settings


def install(app: FastAPI, settings: Settings) -> None:
    """Add the protections to ``app`` (none yet beyond what each route checks)."""
