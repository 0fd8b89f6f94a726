"""The OpenAPI document declares every status an operation can answer, error bodies as ``ErrorEnvelope``.

Route modules declare their success answers; the errors are declared here, in one place, by walking
``app.routes`` once when the document is first built. An operation gets:

- 400, 422, 500 and 503 always (malformed request, refused input, unexpected failure, the database unavailable);
- 401 and 403 when it authenticates (a bearer token, a brand API key or one of the access guards of
  ``api.access`` / ``api.security`` anywhere in its dependencies);
- 404 when its path carries ids;
- 413 when it takes a body or an upload (``api.hardening``'s limits);
- 429 on sign-in routes (``/auth/``);
- 409 when it sends a workflow update (503 also covers the workflow engine being down);
- and every status of a ``domain.errors.LosError`` its endpoint or dependencies can raise: their code and
  the project helpers they call (``api.*``, ``domain.*``) are read for the error classes they name, so a
  ``NotFound`` raised by a helper is declared on the routes that use it.

A status a route declared itself with a body schema (``/health``'s 503) is left as the route wrote it.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from http import HTTPStatus
from types import CodeType, ModuleType
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.security.base import SecurityBase

from api.errors import ErrorEnvelope
from domain.errors import LosError

ENVELOPE_REF = "#/components/schemas/ErrorEnvelope"
PROJECT_PACKAGES = ("api", "domain")
ALWAYS = frozenset({400, 422, 500, 503})  # 503: the database (or the workflow engine) is unavailable
AUTHENTICATED = frozenset({401, 403})
# Names whose presence in a route's code means it reaches the workflow engine (503 when it is down),
# and those that send a workflow update (409 when the loan's workflow refuses or has finished).
ENGINE_NAMES = frozenset({"temporal", "signal", "signal_active_loan", "execute_update", "start_workflow"})
UPDATE_NAMES = frozenset({"staff_update", "customer_update", "execute_update"})

DESCRIPTIONS = {
    400: "Malformed request (unreadable body or form, or a generic business refusal).",
    401: "Missing, invalid, expired or revoked credentials.",
    403: "Authenticated, but this principal may not do this.",
    404: "Not found, or not visible to this principal (ids of other brands are not confirmed).",
    409: "The resource is not in a state that allows this.",
    413: "The body (or the upload) is larger than allowed.",
    422: "Input refused: see `errors[]` for each field and why.",
    429: "Too many attempts; try again later.",
    500: "Unexpected failure; it has been logged.",
    503: "A dependency (database, workflow engine, provider) is unavailable; retry later (see Retry-After).",
}


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the document with every error status declared (built once, cached)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)  # builds and caches app.openapi_schema
            declare_errors(app, schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def declare_errors(app: FastAPI, schema: dict[str, Any]) -> None:
    """Add the envelope schema and each operation's error statuses to ``schema`` in place."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    envelope = ErrorEnvelope.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(envelope.pop("$defs", {}))
    components["ErrorEnvelope"] = envelope
    for route in iter_route_contexts(app.routes):  # routers are included lazily: their effective routes
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        statuses = error_statuses(route)
        path_item = schema["paths"].get(route.path_format, {})
        for method in route.methods:
            operation = path_item.get(method.lower())
            if operation is not None:
                _declare(operation.setdefault("responses", {}), statuses)
    _drop_unused(schema, ("HTTPValidationError", "ValidationError"))


def error_statuses(route: APIRoute | RouteContext) -> set[int]:
    """Every error status ``route`` can answer (see the module docstring for the rules)."""
    statuses = set(ALWAYS)
    calls = list(_calls(route.dependant))
    if any(_authenticates(call) for call in calls):
        statuses |= AUTHENTICATED
    if route.dependant.path_params:
        statuses.add(404)
    if _takes_upload(route) or route.dependant.body_params:  # api.hardening: a body over the limit
        statuses.add(413)
    if "/auth/" in route.path_format:
        statuses.add(429)
    names: set[str] = set()
    seen: set[int] = set()
    for call in calls:
        for fn in _functions_of(call):
            statuses |= _raised(fn, seen, names)
    if names & (ENGINE_NAMES | UPDATE_NAMES):
        statuses.add(503)
    if names & UPDATE_NAMES:
        statuses.add(409)
    return statuses


def _declare(responses: dict[str, Any], statuses: Iterable[int]) -> None:
    for status in sorted(statuses):
        key = str(status)
        existing = responses.get(key)
        content = (existing or {}).get("content", {})
        refs = [media.get("schema", {}).get("$ref", "") for media in content.values()]
        if existing and content and not any(ref.endswith("/HTTPValidationError") for ref in refs):
            continue  # the route documented this status itself
        responses[key] = {
            "description": (existing or {}).get("description") or DESCRIPTIONS.get(status, HTTPStatus(status).phrase),
            "content": {"application/json": {"schema": {"$ref": ENVELOPE_REF}}},
        }


def _drop_unused(schema: dict[str, Any], names: Iterable[str]) -> None:
    """Remove FastAPI's own validation-error schemas once nothing refers to them (in order)."""
    components = schema.get("components", {}).get("schemas", {})
    rest = {k: v for k, v in schema.items() if k != "components"}
    for name in names:
        others = {k: v for k, v in components.items() if k != name}
        if name in components and f'"#/components/schemas/{name}"' not in json.dumps([rest, others]):
            del components[name]


# --- the walk over dependencies and code ----------------------------------------------------------


def _calls(dependant: Any) -> Iterator[Callable[..., Any]]:
    if dependant.call is not None:
        yield dependant.call
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _authenticates(call: Any) -> bool:
    from api.access import _Guard
    from api.security import current_customer, current_staff

    return isinstance(call, SecurityBase | _Guard) or call in (current_customer, current_staff)


def _takes_upload(route: APIRoute | RouteContext) -> bool:
    extra = (route.openapi_extra or {}).get("requestBody", {}).get("content", {})
    form = route.body_field is not None and "Form" in type(route.body_field.field_info).__name__
    files = any("File" in type(p.field_info).__name__ for p in route.dependant.body_params)
    return "multipart/form-data" in extra or form or files


def _in_project(obj: Any) -> bool:
    module = obj.__name__ if isinstance(obj, ModuleType) else getattr(obj, "__module__", None) or ""
    return module.split(".")[0] in PROJECT_PACKAGES


def _functions_of(obj: Any) -> list[Any]:
    """The plain functions behind a dependency or a name: functions, methods, partials, classes
    (their methods) and callable instances (their class's methods)."""
    if isinstance(obj, functools.partial):
        obj = obj.func
    if inspect.ismethod(obj):
        obj = obj.__func__
    if inspect.isfunction(obj):
        return [inspect.unwrap(obj)]
    if inspect.isclass(obj):
        if not _in_project(obj):
            return []
        found = []
        for member in vars(obj).values():
            if isinstance(member, staticmethod | classmethod):
                member = member.__func__
            if inspect.isfunction(member):
                found.append(member)
        return found
    if callable(obj) and _in_project(type(obj)):
        return _functions_of(type(obj))
    return []


def _codes(code: CodeType) -> Iterator[CodeType]:
    yield code
    for const in code.co_consts:
        if isinstance(const, CodeType):
            yield from _codes(const)


def _error_status(value: Any) -> int | None:
    if inspect.isclass(value) and issubclass(value, LosError):
        return int(value.status_code)
    return None


def _raised(fn: Any, seen: set[int], names: set[str]) -> set[int]:
    """Statuses of the ``LosError`` classes ``fn`` names, and of the project functions it calls."""
    if id(fn) in seen or not _in_project(fn):
        return set()
    seen.add(id(fn))
    statuses: set[int] = set()
    scope = dict(fn.__globals__)
    if fn.__closure__:
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__, strict=False):
            try:
                scope[name] = cell.cell_contents
            except ValueError:  # an empty cell
                continue
    for code in _codes(fn.__code__):
        used = set(code.co_names) | set(code.co_freevars)
        names |= used
        for name in used:
            value = scope.get(name, sys.modules.get(name))  # a module imported inside the function
            if isinstance(value, ModuleType):
                # ``module.helper(...)``: the attribute names sit beside the module's name
                candidates = [getattr(value, attr, None) for attr in used] if _in_project(value) else []
            else:
                candidates = [value]
            for candidate in candidates:
                statuses |= _statuses_of(candidate, seen, names)
    return statuses


def _statuses_of(value: Any, seen: set[int], names: set[str]) -> set[int]:
    status = _error_status(value)
    if status is not None:
        return {status}
    if isinstance(value, dict):
        return {s for v in value.values() if (s := _error_status(v)) is not None}
    if isinstance(value, tuple | list | set | frozenset):
        return {s for v in value if (s := _error_status(v)) is not None}
    found: set[int] = set()
    for fn in _functions_of(value):
        found |= _raised(fn, seen, names)
    return found
