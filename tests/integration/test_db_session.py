"""The pool replaces a connection that died while idle (PostgreSQL restarted, a proxy dropped it) before use,
and hands out a recently used one without a round trip (db/session.py)."""

from __future__ import annotations

import json

from sqlalchemy import create_engine, event, text

from db.session import Database


def _backend_pid(db: Database) -> int:
    with db.unit_of_work() as session:
        return int(session.scalar(text("SELECT pg_backend_pid()")))


def _terminate(database_url: str, pid: int) -> None:
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()


def test_an_idle_connection_that_died_is_replaced_before_use(database_url: str) -> None:
    db = Database(database_url, pool_size=1, ping_after_idle=0.0)  # every checkout counts as idle
    try:
        dead = _backend_pid(db)
        _terminate(database_url, dead)
        assert _backend_pid(db) != dead  # no error: the ping found it dead and the pool opened another
    finally:
        db.dispose()


def test_a_recently_used_connection_is_not_pinged(database_url: str) -> None:
    db = Database(database_url, pool_size=1, ping_after_idle=60.0)
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    pings = []
    original = db.engine.dialect.do_ping
    db.engine.dialect.do_ping = lambda conn: pings.append(conn) or original(conn)  # type: ignore[method-assign]
    try:
        first = _backend_pid(db)
        assert len(pings) == 1  # a new connection: checked once
        assert _backend_pid(db) == first and _backend_pid(db) == first
        assert len(pings) == 1  # used a moment ago: handed out as is
        assert statements == ["SELECT pg_backend_pid()"] * 3
    finally:
        db.dispose()


def test_jsonb_reads_back_exactly(db: Database) -> None:
    """JSONB goes through orjson, except integers orjson would round (beyond 64 bits): those read exactly."""
    values = [
        {"brand": "demo", "bps": 2400, "rate": "24.00", "nested": [1, 2.5, None, True, "₹"]},
        {"amount": 10**30, "negative": -(10**25), "edge": 2**63 - 1},
    ]
    with db.unit_of_work() as session:
        for value in values:
            assert session.scalar(text("SELECT CAST(:v AS jsonb)"), {"v": json.dumps(value)}) == value
