"""The one place errors become HTTP: {statusCode, message, error, timestamp, path, errors[]}."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.errors import LosError


def _body(request: Request, status: int, message: str, errors: list[dict] | None = None) -> JSONResponse:
    payload = {
        "statusCode": status,
        "message": message,
        "error": HTTPStatus(status).phrase,
        "timestamp": datetime.now(UTC).isoformat(),
        "path": request.url.path,
    }
    if errors:
        payload["errors"] = errors
    return JSONResponse(payload, status_code=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(LosError)
    async def _los(request: Request, exc: LosError) -> JSONResponse:
        return _body(request, exc.status_code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
            errors.append({"field": ".".join(loc) or "body", "reason": err.get("msg", "invalid")})
        message = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        return _body(request, 422, message or "invalid request", errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _body(request, exc.status_code, str(exc.detail))
