"""The codec routes' router and CORS: every answer to an allowed origin (the Temporal UI's), errors
included, carries the CORS headers with credentials allowed; see ``api.codec``."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from api.deps import db_session

PREFIX = "/api/v1/codec"
COOKIE = "los_codec"
TOKEN_TYPE = "codec"
ALLOWED_HEADERS = "authorization, authorization-extras, content-type, x-namespace"


def _exception_handler(request: Request, exc: Exception) -> Callable[..., Any] | None:
    """The app's handler for ``exc`` (the one that writes the error envelope), looked up as Starlette does."""
    handlers = request.app.exception_handlers
    return next((handlers[cls] for cls in type(exc).__mro__ if cls in handlers), None)


class _CorsRoute(APIRoute):
    """A codec route whose every answer, errors included (401, 403, 422 from guards, validation and the
    route), carries the CORS headers for an allowed origin: a browser shows a refused decode as that
    refusal, not as a network error."""

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def with_cors(request: Request) -> Response:
            try:
                response = await handler(request)
            except Exception as exc:
                mapped = _exception_handler(request, exc)
                if mapped is None:
                    raise
                response = mapped(request, exc)
                if inspect.isawaitable(response):
                    response = await response
            return _cors(request, response)

        return with_cors


router = APIRouter(prefix=PREFIX, tags=["codec (Temporal UI)"], route_class=_CorsRoute)
Db = Annotated[Session, Depends(db_session, scope="function")]


def _allowed_origins(request: Request) -> set[str]:
    """The UI's origin and the configured ones; a loopback UI is the same whether opened as localhost or
    127.0.0.1, so both spellings are allowed."""
    settings = request.app.state.settings
    origins = {o.rstrip("/") for o in [settings.temporal_ui, *settings.codec_cors_origins] if o}
    for host, twin in (("//localhost:", "//127.0.0.1:"), ("//127.0.0.1:", "//localhost:")):
        origins |= {o.replace(host, twin) for o in origins if host in o}
    return origins


def _allowed_origin(request: Request) -> str | None:
    origin = request.headers.get("origin")
    return origin if origin and origin.rstrip("/") in _allowed_origins(request) else None


def _cors(request: Request, response: Response) -> Response:
    response.headers["Vary"] = "Origin"  # the answer differs by origin: no cache may serve it to another
    origin = _allowed_origin(request)
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Credentials"] = "true"
        response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"
    return response
