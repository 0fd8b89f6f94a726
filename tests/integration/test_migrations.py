"""Migrations run forward from nothing, downgrade cleanly to nothing, and run forward again."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, inspect, text

from db.migrate import downgrade, upgrade
from los.settings import sqlalchemy_url


def test_upgrade_downgrade_upgrade(pg_server_url: str) -> None:
    name = f"los_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(sqlalchemy_url(pg_server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, query = sqlalchemy_url(pg_server_url).partition("?")
    url = base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    try:
        upgrade(url)
        engine = create_engine(url)
        assert {"loans", "ledger_entries", "customer_documents", "refresh_tokens"} <= set(
            inspect(engine).get_table_names()
        )
        downgrade(url, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        upgrade(url)
        assert "loan_decisions" in inspect(engine).get_table_names()
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
