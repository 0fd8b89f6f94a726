"""No route queries the database on the API's event loop (``api.deps``: such routes are plain ``def``, run in the
thread pool, and reach coroutines through ``call_async``).

Read from the source: an ``async def`` route (or an ``async`` helper of a route module) that takes a SQLAlchemy
session, opens a unit of work or calls a session method would hold every other request of the process while
PostgreSQL answers. ``tests/integration/test_api_event_loop.py`` shows the effect on the running API."""

from __future__ import annotations

import ast
from pathlib import Path

import anyio
import pytest

from api.deps import call_async

API = Path(__file__).resolve().parents[2] / "api"
ROUTE_METHODS = {"get", "post", "put", "patch", "delete", "api_route"}


def _is_route(fn: ast.AsyncFunctionDef) -> bool:
    return any(
        isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute) and d.func.attr in ROUTE_METHODS
        for d in fn.decorator_list
    )


def _own_nodes(fn: ast.AST) -> list[ast.AST]:
    """The function's nodes, not those of sync helpers defined inside it (run in a thread: run_in_threadpool)."""
    found, stack = [], list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        found.append(node)
        if not isinstance(node, (ast.FunctionDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))
    return found


def _touches_database(fn: ast.AsyncFunctionDef) -> str | None:
    for arg in fn.args.args:
        annotation = ast.unparse(arg.annotation) if arg.annotation else ""
        if annotation in ("Db", "Session") or "db_session" in annotation:
            return f"takes a session ({arg.arg}: {annotation})"
        # current_customer checks the token in the request's session, which then holds its connection for as long as
        # the route runs: an async route (a long poll) uses current_customer_own_session instead
        if annotation == "Me" or "Depends(current_customer)" in annotation:
            return f"checks the customer in the request's session ({arg.arg}: {annotation})"
    for node in _own_nodes(fn):
        if isinstance(node, ast.Attribute) and node.attr == "unit_of_work":
            return f"opens a unit of work (line {node.lineno})"
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "session":
            return f"calls session.{node.attr} (line {node.lineno})"
    return None


def _offenders() -> list[str]:
    found = []
    for path in sorted(API.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for fn in tree.body:
            if not isinstance(fn, ast.AsyncFunctionDef):
                continue
            why = _touches_database(fn)
            if why is not None:  # a route, or an async helper of one: either runs on the loop
                found.append(f"{path.relative_to(API.parent)}:{fn.lineno} {fn.name}: {why}")
    return found


def test_no_route_queries_the_database_on_the_event_loop() -> None:
    assert _offenders() == []


def test_the_check_finds_an_async_route_with_a_session(tmp_path: Path) -> None:
    source = "@router.get('/x')\nasync def x(session: Db) -> dict:\n    return {'n': session.scalar(select(1))}\n"
    fn = ast.parse(source).body[0]
    assert isinstance(fn, ast.AsyncFunctionDef) and _is_route(fn)
    assert _touches_database(fn) == "takes a session (session: Db)"


def test_the_check_finds_an_async_route_that_keeps_the_request_session_for_its_customer() -> None:
    source = "@router.get('/x')\nasync def x(me: Me) -> dict:\n    return {}\n"
    fn = ast.parse(source).body[0]
    assert isinstance(fn, ast.AsyncFunctionDef)
    assert _touches_database(fn) == "checks the customer in the request's session (me: Me)"


def test_call_async_runs_the_coroutine_on_the_loop_from_a_worker_thread() -> None:
    async def double(x: int) -> int:
        return 2 * x

    async def main() -> int:
        return await anyio.to_thread.run_sync(lambda: call_async(double, 21))

    assert anyio.run(main) == 42
    with pytest.raises(RuntimeError):
        anyio.run(lambda: _on_loop(double))


async def _on_loop(fn) -> int:  # noqa: ANN001
    return call_async(fn, 1)  # on the event loop itself: refused
