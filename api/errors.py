"""The one place errors become HTTP: {statusCode, message, error, timestamp, path, errors[]}.

Business errors (``domain.errors.LosError``), request validation and Starlette's HTTP errors map to the
envelope through exception handlers. Anything else that escapes a route is caught by ``CatchAll``, the
outermost middleware: it logs the exception with its traceback and answers a 500 in the same envelope, so
the client reads a documented body and its keep-alive connection stays open.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.errors import LosError

log = logging.getLogger(__name__)


class FieldError(BaseModel):
    """One refused input: the field (dotted path, or ``body``) and why."""

    model_config = ConfigDict(title="FieldError")

    field: str | None = Field(description="dotted path of the input, `body` for the whole body")
    reason: str


class ErrorEnvelope(BaseModel):
    """Every error answer of the API (documented on every operation by ``api.openapi``)."""

    model_config = ConfigDict(title="ErrorEnvelope")

    statusCode: int = Field(description="the HTTP status, repeated")  # noqa: N815 - the wire name
    message: str = Field(description="what went wrong, for people")
    error: str = Field(description="the status's reason phrase")
    timestamp: str = Field(description="ISO 8601 time of the answer", json_schema_extra={"format": "date-time"})
    path: str = Field(description="the request's path")
    errors: list[FieldError] = Field(default_factory=list, description="field errors; absent when none")


def _body(
    request: Request,
    status: int,
    message: str,
    errors: list[dict] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    payload = {
        "statusCode": status,
        "message": message,
        "error": HTTPStatus(status).phrase,
        "timestamp": datetime.now(UTC).isoformat(),
        "path": request.url.path,
    }
    if errors:
        payload["errors"] = errors
    return JSONResponse(payload, status_code=status, headers=headers)


class CatchAll:
    """Pure ASGI middleware: an exception no handler mapped is logged and answered as a 500 envelope.

    Starlette's own fallback re-raises after answering, and the server then closes the connection; here
    the exception ends with the answer. If the response had already started, a complete answer is no
    longer possible: the exception goes on to the server, which closes the connection so the client
    cannot take a truncated body for a whole one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error answering %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            response = _body(Request(scope), 500, "internal error; it has been logged")
            await response(scope, receive, send)


def _with_field(message: str, field: str | None) -> str:
    """``field: message``, unless the message already begins with the field's name ("amount must be more than
    zero" for ``amount``, "PAN must be ..." for ``pan``, "payload.payment: is required" for ``payload.payment``):
    a reason that names its field is not told it twice. A dotted field whose reason names only its last part keeps
    the rest as the prefix ("directors.1: PAN must be ..." for ``directors.1.pan``), so the message still says
    which one."""
    if not field:
        return message
    first = re.split(r"[\s:]", message.strip(), maxsplit=1)[0].strip("'\"`").lower()
    if first == field.lower():
        return message
    parent, _, leaf = field.rpartition(".")
    if first == leaf.lower():
        return f"{parent}: {message}" if parent else message
    return f"{field}: {message}"


def install(app: FastAPI) -> None:
    """Register the handlers that turn errors into the envelope. ``CatchAll`` is added by ``create_app``
    after every other middleware, so it is the outermost one."""

    @app.exception_handler(LosError)
    async def _los(request: Request, exc: LosError) -> JSONResponse:
        # "field: reason", as a request's validation errors read (the reason alone stays in ``errors``)
        return _body(request, exc.status_code, _with_field(exc.message, exc.field), exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            where = list(err.get("loc", ()))  # the part of the request first, then the field (which may be "query")
            loc = [str(p) for p in (where[1:] if where and where[0] in ("body", "query", "path") else where)]
            reason = str(err.get("msg", "invalid")).removeprefix("Value error, ")  # pydantic's prefix, not ours
            if err.get("type") == "json_invalid":  # its loc is the character offset, not a field
                loc, reason = [], f"not valid JSON ({(err.get('ctx') or {}).get('error', reason)})"
            errors.append({"field": ".".join(loc) or "body", "reason": reason})
        message = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        return _body(request, 422, message or "invalid request", errors)

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> JSONResponse:
        # the database is unreachable or restarting: nothing was done (the unit of work rolled back); ask the
        # client to send it again, as for the workflow engine
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc.orig).__name__)
        return _body(request, 503, "the database is unavailable; send it again shortly", headers={"Retry-After": "5"})

    @app.exception_handler(PoolTimeout)
    async def _database_busy(request: Request, exc: PoolTimeout) -> JSONResponse:
        # every pooled connection was in use for the pool's whole timeout: nothing was done; send it again
        log.warning("no database connection free for %s %s", request.method, request.url.path)
        return _body(request, 503, "the service is busy; send it again shortly", headers={"Retry-After": "5"})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _body(request, exc.status_code, str(exc.detail), headers=exc.headers)
