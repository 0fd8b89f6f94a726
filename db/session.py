"""Engine and unit of work. One engine per process; ``unit_of_work()`` commits or rolls back.

A pooled connection that sat idle may be dead (PostgreSQL restarted, a proxy or firewall dropped it): it is
checked with the dialect's own ping (SQLAlchemy's ``pool_pre_ping`` check) before use, and replaced when it does
not answer. A connection used less than ``ping_after_idle`` seconds ago is handed out unchecked: pinging every
checkout cost a database round trip per transaction (13 % of the API's CPU under the lifecycle benchmark). If
PostgreSQL went away within that moment, the statement fails once and SQLAlchemy invalidates every connection of
the pool opened before the failure (its disconnect handling); activities retry, the API answers that request 5xx.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import orjson
from sqlalchemy import Connection, Engine, Table, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

PING_AFTER_IDLE_SECONDS = 2.0
_CHECKED_IN = "los_checked_in_at"


_LONG_DIGITS = re.compile(r"\d{19}")


def json_loads(text: str | bytes) -> object:
    """JSONB values as Python: orjson, several times faster than ``json`` on the brand configuration every
    activity reads. A value with a run of 19 or more digits goes to ``json`` instead: orjson reads an integer
    beyond 64 bits as a float, which would silently round it (a raw vendor payload may hold one)."""
    probe = text if isinstance(text, str) else text.decode()
    if _LONG_DIGITS.search(probe):
        return json.loads(text)
    return orjson.loads(text)


# A server process's connections (the API, a worker): as many as its threads run transactions at once (the
# worker's 32-thread executor, the API's thread pool), all kept between transactions. A pool of 10 with 20 more
# "overflow" connections opened and closed on demand started a PostgreSQL backend for each transaction past the
# tenth at once: a constant churn of connections on a due date's storm.
SERVER_POOL = 30


def make_engine(
    url: str, pool_size: int = 10, ping_after_idle: float = PING_AFTER_IDLE_SECONDS, max_overflow: int = 20
) -> Engine:
    """An engine whose pool keeps ``pool_size`` connections (up to ``max_overflow`` more are opened when all are
    out, and closed when handed back), hands out the most recently used first (so the rest may idle and be
    pinged, below), checks a connection idle for ``ping_after_idle`` seconds or more before use, and reads JSONB
    with :func:`json_loads`."""
    engine = create_engine(
        url, pool_size=pool_size, max_overflow=max_overflow, pool_use_lifo=True, json_deserializer=json_loads
    )

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get(_CHECKED_IN)
        if since is not None and time.monotonic() - since < ping_after_idle:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # The pool discards this connection and checks out (or opens) another, up to three times.
            raise DisconnectionError(f"pooled connection did not answer: {exc}") from exc

    return engine


class Database:
    def __init__(
        self,
        url: str,
        pool_size: int = 10,
        ping_after_idle: float = PING_AFTER_IDLE_SECONDS,
        max_overflow: int = 20,
    ):
        self.engine = make_engine(url, pool_size, ping_after_idle, max_overflow)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def server_database(url: str) -> Database:
    """The database of a long-running server process (the API, a worker): ``SERVER_POOL`` connections, all kept
    between transactions, none opened past them (the same most at once as a pool of 10 plus 20 overflow)."""
    return Database(url, pool_size=SERVER_POOL, max_overflow=0)


def core(session: Session) -> Connection:
    """The session's connection, for a Core statement built once at import (on a table, with bound parameters):
    no ORM statement to build, compile and cache-key per call. What the session holds pending is flushed first, as
    the ORM's autoflush would before any statement of its own."""
    session.flush()
    return session.connection()


def table(model: Any) -> Table:
    """A mapped class's ``Table``, typed as one (for the Core statements run through :func:`core`)."""
    return cast(Table, model.__table__)


def insert_once(model: Any, *keys: str) -> Any:
    """``INSERT … ON CONFLICT (keys) DO NOTHING RETURNING id`` on ``model``'s table, for :func:`core`: the new row's
    id, or no row when one with the same keys is there."""
    from sqlalchemy.dialects.postgresql import insert

    rows = table(model)
    return insert(rows).on_conflict_do_nothing(index_elements=list(keys)).returning(rows.c.id)
