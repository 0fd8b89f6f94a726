"""Route matching prepared when the API process starts, not on its first requests.

FastAPI prepares each included router's routes for matching (their dependants, one pydantic model per
parameter) the first time a request is matched against that router, on the event loop. Across the API's ~70
routers that is about half a second of CPU: paid by whichever request first reaches the routers registered last
(``/health``, ``/metrics``, the console), and every request in flight on that process waits meanwhile (on a
due-date storm, a few hundred webhooks). :func:`warm_routes` makes one request-less pass over every route at
startup instead, through Starlette's public ``BaseRoute.matches``; where a FastAPI version prepares routes
eagerly the pass costs nothing.
"""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute

#: A path no route matches, so the pass reaches every route (and, inside an included router, every route of it).
NO_ROUTE = "/\x00route-warmup"


def warm_routes(app: Any) -> int:
    """Match a request-less scope for :data:`NO_ROUTE` against every route of ``app`` (a FastAPI or Starlette
    app); returns how many routes were visited. FastAPI prepares a router's routes whatever the method asked, so
    one pass does. Raises nothing a route's matching would not raise on a real request."""
    scope: dict[str, Any] = {
        "type": "http", "path": NO_ROUTE, "raw_path": NO_ROUTE.encode(), "root_path": "", "method": "GET",
        "headers": [], "query_string": b"", "app": app,
    }  # fmt: skip
    routes: list[BaseRoute] = app.router.routes
    for route in routes:
        route.matches(scope)
    return len(routes)
