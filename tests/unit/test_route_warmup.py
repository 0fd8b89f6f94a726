"""Route matching is prepared at startup (api/route_warmup.py): after ``warm_routes`` a request to the route
registered last (``/health``) prepares nothing more, where on a fresh app it prepares route dependants on the
request's own time (and the event loop's)."""

from __future__ import annotations

from typing import Any

import fastapi.routing
import pytest
from starlette.routing import Match

from api.app import create_app
from api.route_warmup import warm_routes
from los.settings import Settings


def _match(app: Any, path: str, method: str = "GET") -> int:
    """Match ``path`` as Starlette's router does (first full match wins); the index of the route matched."""
    scope = {"type": "http", "path": path, "root_path": "", "method": method, "headers": [], "query_string": b"",
             "app": app}  # fmt: skip
    for index, route in enumerate(app.router.routes):
        if route.matches(scope)[0] == Match.FULL:
            return index
    raise AssertionError(f"nothing matches {method} {path}")


@pytest.fixture
def prepared(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The dependants FastAPI builds from now on (a route being prepared for matching), by endpoint name."""
    built: list[str] = []
    real = fastapi.routing.get_dependant

    def counting(*args: Any, **kwargs: Any) -> Any:
        built.append(getattr(kwargs.get("call"), "__name__", "?"))
        return real(*args, **kwargs)

    monkeypatch.setattr(fastapi.routing, "get_dependant", counting)
    return built


def test_a_fresh_app_prepares_routes_on_a_request(prepared: list[str]) -> None:
    app = create_app(Settings())
    prepared.clear()  # what building the app itself prepared
    _match(app, "/health")
    assert prepared, "FastAPI prepared nothing lazily: warm_routes has nothing left to do (keep it harmless)"


def test_after_warm_routes_no_request_prepares_anything(prepared: list[str]) -> None:
    app = create_app(Settings())
    assert warm_routes(app) == len(app.router.routes)
    prepared.clear()
    _match(app, "/health")
    _match(app, "/api/v1/webhooks/6f1f0ad4-9c47-4c55-8a7e-2f3e1b0c9d11/razorpay", "POST")
    _match(app, "/metrics")
    _match(app, "/api/v1/partner/brand/6f1f0ad4-9c47-4c55-8a7e-2f3e1b0c9d11/loans/6f1f0ad4-9c47-4c55-8a7e-2f3e1b0c9d12",
           "GET")  # fmt: skip
    assert prepared == []


async def test_the_api_warms_its_routes_when_it_starts(prepared: list[str], tmp_path: Any) -> None:
    """The API's lifespan runs warm_routes before it serves (it connects to nothing at startup)."""
    app = create_app(Settings(storage_dir=tmp_path, database_url="postgresql://nobody@127.0.0.1:1/none"))
    async with app.router.lifespan_context(app):
        prepared.clear()
        _match(app, "/health")
    assert prepared == []
