"""A server process's pool keeps every connection it opened: a burst of transactions past ten at once does not
start (and end) a PostgreSQL backend per transaction, and the pool never opens more than ``SERVER_POOL``."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout

from db.session import SERVER_POOL, Database, server_database


def _burst(db: Database, n: int) -> None:
    """``n`` transactions open at the same moment, then all closed."""
    barrier = threading.Barrier(n)

    def one() -> None:
        with db.unit_of_work() as s:
            s.execute(text("select 1"))
            barrier.wait(timeout=30)

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _backends(db: Database) -> set[int]:
    with db.engine.connect() as conn:
        return set(conn.execute(text("select pid from pg_stat_activity where datname = current_database()")).scalars())


def test_a_burst_keeps_its_connections(database_url: str) -> None:
    db = server_database(database_url)
    try:
        _burst(db, 20)
        assert db.engine.pool.checkedin() == 20  # every connection the burst opened is kept
        first = _backends(db)
        _burst(db, 20)
        assert _backends(db) == first  # the second burst used the same backends: none started, none ended
    finally:
        db.dispose()


def test_the_old_shape_closed_what_it_opened_past_ten(database_url: str) -> None:
    db = Database(database_url)  # the default (scripts, tests): 10 kept, 20 more opened and closed on demand
    try:
        _burst(db, 20)
        assert db.engine.pool.checkedin() == 10
    finally:
        db.dispose()


def test_never_more_than_the_server_pool(database_url: str) -> None:
    db = server_database(database_url)
    db.engine.pool._timeout = 0.5  # noqa: SLF001 - wait briefly for a connection in this test
    held = [db.engine.connect() for _ in range(SERVER_POOL)]
    try:
        with pytest.raises(PoolTimeout):
            db.engine.connect()
    finally:
        for conn in held:
            conn.close()
        db.dispose()
