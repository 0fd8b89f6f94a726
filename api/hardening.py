"""Transport-level protections of every answer and request: security headers, the CORS allow-list and request
limits (docs/security.md, "Request limits, headers and CORS"). Installed by ``api.app.create_app`` through
:func:`install`, as three pure ASGI middlewares, outermost first:

- ``SecurityHeaders``: Content-Security-Policy (per area: the console and the app, /docs, the codec's sign-in page,
  everything else), X-Content-Type-Options, Referrer-Policy, X-Frame-Options, Permissions-Policy on every answer,
  and Strict-Transport-Security on answers to https requests (or requests a proxy says came over https). A header
  a route set itself (the private files' own CSP) is kept.
- ``CorsAllowList``: CORS answers for ``Settings.cors_origins`` only (none by default: same-origin only); the
  codec endpoint keeps its own list (``api.codec.cors``).
- ``RequestLimits``: a body over ``max_body_bytes`` (or a multipart upload to an upload route over
  ``max_upload_bytes``) is 413; a JSON body nested deeper than ``max_json_depth``, with a string longer than
  ``max_json_string_chars``, or holding ``NaN``, ``Infinity`` or a number beyond the float range (``1e309``) is 422
  naming the field. All before any route code runs, in the error envelope (``api.errors``).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from activities.storage import FILES_ROUTE
from api.codec.cors import PREFIX as CODEC_PREFIX
from api.errors import _body as envelope
from domain.errors import ValidationError
from los.settings import Settings

DOCS_PATHS = ("/docs",)
UI_PATHS = ("/console", "/app", "/ui/")
CODEC_BODY_BYTES = 16 * 1024 * 1024  # a decode batch of the Temporal UI: up to 1000 encrypted payloads
HSTS = "max-age=31536000; includeSubDomains"
PERMISSIONS = "camera=(), microphone=(), geolocation=(self), payment=(), usb=(), interest-cohort=()"
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
CODEC_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyTooLarge(ValidationError):
    """A request body over the configured limit: 413, naming ``body`` (or ``file`` for an upload)."""

    status_code = 413


def field_error(cls: type[ValidationError], field: str, reason: str) -> ValidationError:
    """``cls`` in the envelope's usual shape: message ``field: reason``, one entry in ``errors``."""
    return cls(f"{field}: {reason}", field=field, details=[{"field": field, "reason": reason}])


# --- security headers -----------------------------------------------------------------------------------------
def _origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


def _storage_origins(settings: Settings) -> str:
    """Where presigned document links point besides this API: the S3 endpoint (or AWS) when a bucket is set."""
    if not settings.s3_bucket:
        return ""
    return _origin(settings.s3_endpoint_url) or "https://*.amazonaws.com"


def policies(settings: Settings) -> dict[str, str]:
    """The Content-Security-Policy of each area: ``ui`` (the console and the app: ES modules and styles from /ui,
    no inline script), ``docs`` (Swagger UI: FastAPI's inline start-up script, its assets from /docs/assets,
    nothing from elsewhere: ``api.docs_pages``), ``codec``
    (the codec's sign-in page: an inline style, a form posting to itself) and ``api`` (everything else: nothing
    to load, never framed)."""
    frames = " ".join(filter(None, ["'self'", "blob:", _storage_origins(settings)]))
    ui = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
        f"connect-src 'self'; frame-src {frames}; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    docs = (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    )
    return {key: " ".join(value.split()) for key, value in {"ui": ui, "docs": docs, "codec": CODEC_CSP}.items()} | {
        "api": API_CSP
    }


def _https(scope: Scope, headers: dict[bytes, bytes]) -> bool:
    forwarded = headers.get(b"x-forwarded-proto", b"").split(b",")[0].strip().lower()
    return scope.get("scheme") == "https" or forwarded == b"https"


class SecurityHeaders:
    """Pure ASGI middleware: the security headers on every HTTP answer (a header the route set is kept)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.csp = policies(settings)

    def area(self, path: str) -> str:
        """Which policy a path gets: ``ui``, ``docs``, ``codec`` or ``api``."""
        if path == "/" or path.startswith(UI_PATHS):
            return "ui"
        if path.startswith(DOCS_PATHS):
            return "docs"
        return "codec" if path.startswith(CODEC_PREFIX) else "api"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        wanted = {
            b"content-security-policy": self.csp[self.area(path)].encode(),
            b"x-content-type-options": b"nosniff",
            b"referrer-policy": b"no-referrer",
            # the console previews private files in a frame of its own page: those alone may be framed by it
            b"x-frame-options": b"SAMEORIGIN" if path.startswith(FILES_ROUTE) else b"DENY",
            b"permissions-policy": PERMISSIONS.encode(),
            b"cross-origin-opener-policy": b"same-origin",
        }
        if _https(scope, dict(scope.get("headers", []))):
            wanted[b"strict-transport-security"] = HSTS.encode()

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in wanted.items() if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, with_headers)


# --- CORS -----------------------------------------------------------------------------------------------------
class CorsAllowList:
    """Pure ASGI middleware: Starlette's CORS answers for the configured origins, on every path but the codec
    endpoint's (which answers its own list). Installed only when ``Settings.cors_origins`` names any."""

    def __init__(self, app: ASGIApp, origins: list[str]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=[o.rstrip("/") for o in origins],
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["authorization", "content-type", "x-api-key", "idempotency-key", "if-none-match", "prefer"],
            expose_headers=[
                "content-disposition",
                "x-receipt-no",
                "x-certificate-no",
                "x-kfs-hash",
                "etag",
                "preference-applied",
            ],
            allow_credentials=False,  # bearer tokens, never cookies, cross-origin
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope.get("path", "").startswith(CODEC_PREFIX):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)


# --- request limits -------------------------------------------------------------------------------------------
class _NonFinite:
    """Stands in for a NaN, an Infinity or a number beyond the float range while the body is looked at."""


NON_FINITE = _NonFinite()
NON_FINITE_REASON = "must be a finite number (NaN, Infinity and numbers beyond the float range are refused)"


def _parse_float(text: str) -> float | _NonFinite:
    value = float(text)
    return NON_FINITE if math.isinf(value) else value


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def find_refused(document: Any, max_depth: int, max_chars: int) -> tuple[str, str] | None:
    """The first (field, reason) a parsed JSON body is refused for: nested deeper than ``max_depth``, a string or
    key longer than ``max_chars``, a non-finite number. Walked without recursion."""
    stack: list[tuple[Any, str, int]] = [(document, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if value is NON_FINITE:
            return path or "body", NON_FINITE_REASON
        if isinstance(value, str):
            if len(value) > max_chars:
                return path or "body", f"must be at most {max_chars} characters"
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > max_depth:
            return "body", f"is nested deeper than {max_depth} levels"
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(key, str) and len(key) > max_chars:
                return path or "body", f"has a key longer than {max_chars} characters"
            stack.append((item, _join(path, key), depth + 1))
    return None


def upload_paths(app: Any) -> list[re.Pattern[str]]:
    """The paths of the routes that declare no JSON body: the uploads, which stream their multipart body through
    ``api.web.documents.read_upload`` (counted here as it arrives), and actions that never read one."""
    found = []
    for context in iter_route_contexts(getattr(app, "routes", [])):
        route = context.original_route
        if isinstance(route, APIRoute) and route.body_field is None and route.methods & BODY_METHODS:
            found.append(compile_path(context.path)[0])
    return found


class RequestLimits:
    """Pure ASGI middleware: body size, JSON depth, string length and number checks before any route runs."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.uploads: list[re.Pattern[str]] | None = None  # read from the app's routes at the first request

    def is_upload(self, scope: Scope) -> bool:
        """Whether the request goes to a route that streams its own (multipart) body."""
        if self.uploads is None:
            self.uploads = upload_paths(scope.get("app"))
        path = scope.get("path", "")
        return any(pattern.match(path) for pattern in self.uploads)

    async def refuse(self, scope: Scope, receive: Receive, send: Send, error: ValidationError) -> None:
        """Answer ``error`` in the envelope without running the app."""
        response = envelope(Request(scope), error.status_code, error.message, error.details)
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers", []))
        kind = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower().decode("latin-1")
        path = scope.get("path", "")
        upload = kind == "multipart/form-data" and self.is_upload(scope)
        limit = self.settings.max_body_bytes
        if upload:
            limit = self.settings.max_upload_bytes
        elif path.startswith(CODEC_PREFIX):
            limit = max(limit, CODEC_BODY_BYTES)
        field = "file" if upload else "body"
        too_large = field_error(BodyTooLarge, field, f"the request body is larger than {limit} bytes")
        declared = headers.get(b"content-length", b"")
        if declared.isdigit() and int(declared) > limit:
            await self.refuse(scope, receive, send, too_large)  # before a byte of the body is read
            return
        if upload:  # streamed by the route: counted as it arrives, refused past the limit
            await self.app(scope, _counting(receive, limit, too_large), send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                await self.refuse(scope, receive, send, too_large)
                return
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body and (not kind or kind == "application/json" or kind.endswith("+json")):
            refused = self.check_json(body)
            if refused is not None:
                await self.refuse(scope, receive, send, refused)
                return
        await self.app(scope, _replay(body, receive), send)

    def check_json(self, body: bytes) -> ValidationError | None:
        """Why a JSON body is refused (422 naming the field), or None; a body that is not JSON is left to the
        route's own parsing."""
        s = self.settings
        try:
            document = json.loads(body, parse_constant=lambda _: NON_FINITE, parse_float=_parse_float)
        except RecursionError:
            return field_error(ValidationError, "body", f"is nested deeper than {s.max_json_depth} levels")
        except ValueError:
            return None
        found = find_refused(document, s.max_json_depth, s.max_json_string_chars)
        if found is None:
            return None
        return field_error(ValidationError, *found)


def _counting(receive: Receive, limit: int, error: ValidationError) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise error  # inside the route: the app's handler answers it in the envelope
        return message

    return counted


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # after the body: the client's disconnect, as the server reports it

    return replayed


def install(app: FastAPI, settings: Settings) -> None:
    """Add the protections to ``app``: the limits innermost, then CORS (when configured), the headers outermost so
    that every answer of theirs carries the headers too."""
    app.add_middleware(RequestLimits, settings=settings)
    if settings.cors_origins:
        app.add_middleware(CorsAllowList, origins=settings.cors_origins)
    app.add_middleware(SecurityHeaders, settings=settings)
