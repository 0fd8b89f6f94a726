"""Shared request dependencies: DB session (unit of work), Temporal client, settings; and :func:`call_async`.

**The database is never used on the event loop.** SQLAlchemy sessions here are synchronous: a route that uses one is
a plain ``def`` (FastAPI runs it in its thread pool) and reaches the async world (the Temporal client, the request
body, the shared HTTP client) through :func:`call_async`, which runs the coroutine on the event loop and waits for
it. An ``async def`` route that queried the database would hold every other request of the process while PostgreSQL
answered or a row lock was waited for (``tests/unit/test_api_event_loop.py`` keeps it so, and
:func:`watch_event_loop` catches at run time what slips through: docs/architecture.md, "No database on the event
loop")."""

from __future__ import annotations

import asyncio
import functools
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated, Any, TypeVar

import anyio.from_thread
from fastapi import Depends, Request
from sqlalchemy import Engine, Select, event, func, select
from sqlalchemy.orm import Session
from temporalio.client import Client

from domain.errors import ServiceUnavailable
from los.settings import Settings
from los.temporal import connect


class TemporalHolder:
    """Connects on first use, so the API starts (and reports 503 on /health) while Temporal is down."""

    def __init__(self, settings: Settings, client: Client | None = None):
        self.settings = settings
        self.client = client
        self._lock = asyncio.Lock()

    async def get(self) -> Client:
        if self.client is not None:
            return self.client
        async with self._lock:
            if self.client is None:
                try:
                    self.client = await asyncio.wait_for(connect(self.settings), timeout=5)
                except Exception as exc:  # noqa: BLE001
                    raise ServiceUnavailable(f"workflow engine unavailable: {exc}") from exc
            return self.client


T = TypeVar("T")
log = logging.getLogger("los.api")


def call_async(fn: Callable[..., Awaitable[T]], /, *args: Any, **kwargs: Any) -> T:
    """``await fn(*args, **kwargs)`` on the API's event loop, from a sync route running in the thread pool; returns
    its result or raises its exception. Raises ``RuntimeError`` when called on the event loop itself (an ``async``
    route awaits instead)."""
    return anyio.from_thread.run(functools.partial(fn, *args, **kwargs))


def watch_event_loop(engine: Engine, strict: bool = False) -> None:
    """Catch a query run on an event loop (the API's: it would hold every other request): logged once per
    statement, or with ``strict`` refused with ``RuntimeError`` (the statement does not run)."""
    seen: set[str] = set()

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # a worker thread, as it should be
        if strict:
            raise RuntimeError(f"a database query ran on the event loop: {statement[:200]}")
        if statement not in seen:
            seen.add(statement)
            log.warning("a database query ran on the API's event loop: %s", statement[:200])

    event.listen(engine, "before_cursor_execute", before)


def db_session(request: Request) -> Iterator[Session]:
    with request.app.state.db.unit_of_work() as session:
        yield session


async def temporal(request: Request) -> Client:
    return await request.app.state.temporal.get()


def update_bound(request: Request) -> float:
    """Seconds the API waits for a loan's workflow to take an update (``Settings.workflow_call_timeout_seconds``),
    as a ``CallBound`` that also says whether updates carry their expiry (``Settings.workflow_update_expiry``)."""
    from api.workflow_calls import CallBound

    settings = request.app.state.settings
    return CallBound(settings.workflow_call_timeout_seconds, settings.workflow_update_expiry)


UpdateBound = Annotated[float, Depends(update_bound)]


MAX_PAGE = 10_000  # list pages: beyond this an OFFSET means nothing to a person and could overflow


def page_of(session: Session, query: Select, page: int, limit: int, *order: Any) -> tuple[list[Any], int]:
    """One page of ``query`` (in ``order``, if given) as rows, and the total number of rows."""
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    if order:
        query = query.order_by(*order)
    return list(session.execute(query.offset((page - 1) * limit).limit(limit)).all()), total


def is_uuid(value: str) -> bool:
    """Only the canonical 8-4-4-4-12 form (what PostgreSQL accepts and the API hands out)."""
    try:
        return isinstance(value, str) and str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False
