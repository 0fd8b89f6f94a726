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


def test_bank_account_numbers_are_sealed_in_place(pg_server_url: str) -> None:
    """0007 converts clear account numbers already stored into sealed ones (and back on downgrade)."""
    from los.crypto import fingerprint, unseal
    from los.settings import get_settings

    name = f"los_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(sqlalchemy_url(pg_server_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base, _, query = sqlalchemy_url(pg_server_url).partition("?")
    url = base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    engine = create_engine(url)
    try:
        upgrade(url, "0006")
        ids = {k: str(uuid.uuid4()) for k in ("brand", "customer", "account")}
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO brands (id, code, name, is_active, config) VALUES (:b, 'm', 'M', true, '{}')"),
                {"b": ids["brand"]},
            )
            conn.execute(
                text(
                    "INSERT INTO customers (id, brand_id, phone, phone_verified, onboarding_step, utm) "
                    "VALUES (:c, :b, '9876543210', true, 'REGISTERED', '{}')"
                ),
                {"c": ids["customer"], "b": ids["brand"]},
            )
            conn.execute(
                text(
                    "INSERT INTO bank_accounts (id, customer_id, account_number, ifsc, penny_drop_status, is_primary) "
                    "VALUES (:a, :c, '123456789012', 'HDFC0001234', 'PENDING', true)"
                ),
                {"a": ids["account"], "c": ids["customer"]},
            )
        upgrade(url)
        key = get_settings().field_key()
        with engine.connect() as conn:
            sealed, mark, last4 = conn.execute(
                text("SELECT account_sealed, account_fingerprint, account_last4 FROM bank_accounts")
            ).one()
            columns = {c["name"] for c in inspect(conn).get_columns("bank_accounts")}
        assert "account_number" not in columns and "123456789012" not in sealed
        assert unseal(key, "bank-account", sealed) == "123456789012" and last4 == "9012"
        assert mark == fingerprint(key, "bank-account", "123456789012")
        downgrade(url, "0006")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT account_number FROM bank_accounts")).scalar_one() == "123456789012"
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_migrations_make_exactly_the_schema_the_models_declare(db) -> None:  # noqa: ANN001
    """Every table, column, index and constraint of ``db.models`` is made by a migration, and nothing else is (an
    index declared on a model but never migrated, such as ``aa_consents.loan_id`` before 0027, fails here)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from db.models import Base

    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diffs == []
