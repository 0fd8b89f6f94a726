"""Request-wide input guards that hold for every route, whatever its own models say.

``refuse_nul`` refuses a NUL character (``\\u0000`` in JSON, ``%00`` in a path or query) anywhere in a
request's path parameters, query parameters or JSON body (values and keys, at any depth): PostgreSQL cannot
store NUL in ``text`` or ``jsonb``, and no name, PAN, comment or filter legitimately holds one. It is a
router-level dependency of every router (``dependencies=GUARDS``), so it runs before authentication and
before any route code, and answers 422 naming the field (``errors: [{field, reason}]``) with nothing done.
``has_guards(route)`` lets a test prove that every route carries it.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Depends, Request

from domain.errors import ValidationError

NUL = "\x00"
NUL_REASON = "must not contain a NUL character (\\u0000)"


def _clean(name: str) -> str:
    return name.replace(NUL, "\\u0000")


def _find_nul(value: Any, path: str) -> str | None:
    """The dotted path of the first string (value or key) holding a NUL in a parsed JSON document."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                return _clean(here)
            found = _find_nul(item, here)
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = _find_nul(item, f"{path}.{i}" if path else str(i))
            if found is not None:
                return found
    return None


async def refuse_nul(request: Request) -> None:
    """Raise ``ValidationError`` (422) naming the path parameter, query parameter or JSON body field that
    holds a NUL character. Multipart uploads are checked by the upload code (``api.web.documents``)."""
    for name, value in request.path_params.items():
        if isinstance(value, str) and NUL in value:
            raise ValidationError(NUL_REASON, field=name)
    for key, value in request.query_params.multi_items():
        if NUL in key or NUL in value:
            raise ValidationError(NUL_REASON, field=_clean(key))
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type and content_type != "application/json" and not content_type.endswith("+json"):
        return  # (no content type at all: looked at too, in case a route parses it as JSON anyway)
    body = await request.body()  # cached on the request: the route reads the same bytes
    if b"\\u0000" not in body:  # the only way a NUL fits in valid JSON
        return
    try:
        document = json.loads(body)
    except ValueError:
        return  # not JSON: the route's own parsing answers 422
    field = _find_nul(document, "")
    if field is not None:
        raise ValidationError(NUL_REASON, field=field or "body")


def check_text(value: str | None, field: str) -> None:
    """Refuse (422) a NUL in text that arrives outside JSON, path and query (a multipart form field)."""
    if value is not None and NUL in value:
        raise ValidationError(NUL_REASON, field=field)


GUARDS = [Depends(refuse_nul)]


def has_guards(route: Any) -> bool:
    """Whether a FastAPI route runs ``refuse_nul`` (declared on its router, the app or itself)."""

    def walk(dependant: Any) -> bool:
        return dependant.call is refuse_nul or any(walk(sub) for sub in dependant.dependencies)

    return walk(route.dependant)
