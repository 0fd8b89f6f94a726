"""Every route documents its response: a pydantic ``response_model`` (JSON) or, for the few routes that answer
with a file or a redirect, the media type in ``responses``. /docs then shows what each route returns.

A bare ``-> dict`` annotation does not count: FastAPI turns it into ``{"type": "object"}``, which tells a reader
nothing; the JSON schema of a success response must name a model (a ``$ref``)."""

from __future__ import annotations

from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from api.app import create_app
from los.settings import Settings

JSON = "application/json"


def _routes() -> list[tuple[str, APIRoute]]:
    app = create_app(Settings())
    return [
        (context.path_format, context.original_route)
        for context in iter_route_contexts(app.routes)  # routers are included lazily
        if isinstance(context.original_route, APIRoute) and context.include_in_schema
    ]


def _names_a_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_names_a_model(arg) for arg in getattr(annotation, "__args__", ()))


def _has_ref(node: Any) -> bool:
    if isinstance(node, dict):
        return "$ref" in node or any(_has_ref(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_ref(v) for v in node)
    return False


def _success(operation: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(code, body) for code, body in operation["responses"].items() if code.startswith("2")]


def test_every_route_declares_its_response() -> None:
    missing = []
    for path, route in _routes():
        if _names_a_model(route.response_model):
            continue
        documented = [
            media
            for status in route.responses.values()
            for media in (status.get("content") or {})
            if media != JSON
        ]
        if route.status_code == 204 or documented:
            continue  # no body, or a file / redirect documented by its media type
        missing.append(f"{sorted(route.methods)} {path}")
    assert not missing, "routes without a response_model:\n" + "\n".join(missing)


def test_openapi_shows_a_schema_for_every_success_response() -> None:
    schema = create_app(Settings()).openapi()
    bare = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            for code, body in _success(operation):
                if code == "204":
                    continue
                content = body.get("content") or {}
                json_schema = (content.get(JSON) or {}).get("schema")
                others = [m for m in content if m != JSON]
                if not _has_ref(json_schema) and not others:
                    bare.append(f"{method.upper()} {path} {code}")
    assert not bare, "success responses with no schema in /openapi.json:\n" + "\n".join(bare)
