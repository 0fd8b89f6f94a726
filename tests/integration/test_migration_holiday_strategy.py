"""0008 adds loan_products.holiday_strategy: existing products get the default, downgrade drops it cleanly."""

from __future__ import annotations

import uuid

from sqlalchemy import create_engine, inspect, text

from db.migrate import downgrade, upgrade
from los.settings import sqlalchemy_url


def test_existing_products_get_the_default_and_downgrade_drops_it(pg_server_url: str) -> None:
    name = f"los_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(sqlalchemy_url(pg_server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, query = sqlalchemy_url(pg_server_url).partition("?")
    url = base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    engine = create_engine(url)

    def columns() -> set[str]:
        return {c["name"] for c in inspect(engine).get_columns("loan_products")}

    try:
        upgrade(url, "0007")
        brand, product = str(uuid.uuid4()), str(uuid.uuid4())
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO brands (id, code, name, is_active, config) VALUES (:b, 'h', 'H', true, '{}')"),
                {"b": brand},
            )
            conn.execute(
                text(
                    "INSERT INTO loan_products (id, brand_id, code, name, min_amount, max_amount, min_tenure, "
                    "max_tenure, annual_rate_bps, repay_every, repay_unit, is_active) "
                    "VALUES (:p, :b, 'PL', 'PL', 100000, 500000, 1, 12, 2400, 1, 'MONTHS', true)"
                ),
                {"p": product, "b": brand},
            )
        assert "holiday_strategy" not in columns()
        upgrade(url, "0008")
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT holiday_strategy FROM loan_products WHERE id = :p"), {"p": product})
            assert stored.scalar_one() == "NEXT_WORKING_DAY_EXTEND_TERM"
        downgrade(url, "0007")
        assert "holiday_strategy" not in columns()
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM loan_products")).scalar_one() == 1
        engine.dispose()
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
