"""Bad input answers 4xx naming the field and writes nothing; the database guards the ledger."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from db.models import Customer, LedgerEntry, LedgerTransaction, Loan, LoanProduct
from los.demo import Driver, demo_identity


def _loans(db) -> int:  # noqa: ANN001
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(Loan))


async def test_bad_input_is_refused_with_the_field_and_nothing_written(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        phone, pan = demo_identity(0, "auto")
        headers = await driver.register(phone)
        api = driver.api
        before = _loans(db)

        # apply before a PAN is on file
        r = await api.post("/api/v1/web/loans", json={"amount": "20000", "tenure": 3}, headers=headers)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "pan"

        r = await api.post("/api/v1/web/kyc/verify-pan", json={"pan": "ABCD1234F"}, headers=headers)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "pan"
        with db.unit_of_work() as s:
            assert s.scalars(select(Customer).where(Customer.phone == phone)).one().pan is None
        await driver._ok(await api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))

        cases = [
            ({"amount": "4999", "tenure": 3}, "amount"),  # below the product minimum
            ({"amount": "500001", "tenure": 3}, "amount"),  # above the maximum
            ({"amount": "20000", "tenure": 25}, "tenure"),  # tenure outside the product
            ({"amount": "20000", "tenure": "abc"}, "tenure"),  # wrong type
            ({"amount": "-5", "tenure": 3}, "amount"),  # negative
            ({"amount": "100.123", "tenure": 3}, "amount"),  # more than 2 decimals
            ({"tenure": 3}, "amount"),  # missing
            ({"amount": "20000", "tenure": 3, "rate": 1}, "rate"),  # unknown field
        ]
        for body, field in cases:
            r = await api.post("/api/v1/web/loans", json=body, headers=headers)
            assert r.status_code == 422, (body, r.text)
            payload = r.json()
            assert payload["statusCode"] == 422 and payload["path"] == "/api/v1/web/loans"
            assert field in [e["field"] for e in payload["errors"]], (body, payload)

        r = await api.post(
            "/api/v1/web/loans", content=b"{not json", headers={**headers, "Content-Type": "application/json"}
        )
        assert r.status_code == 422
        r = await api.post(
            "/api/v1/web/loans", json={"amount": "20000", "tenure": 3, "productCode": "NOPE"}, headers=headers
        )
        assert r.status_code == 404 and r.json()["errors"][0]["field"] == "productCode"
        assert (await api.post("/api/v1/web/loans", json={"amount": "20000", "tenure": 3})).status_code == 401
        assert _loans(db) == before

        # registration input
        r = await api.post("/api/v1/web/auth/register", json={"phoneNumber": "12345", "brand": brand["brand_code"]})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "phoneNumber"
        r = await api.post("/api/v1/web/auth/register", json={"phoneNumber": "9876543210", "brand": "no-such-brand"})
        assert r.status_code == 404
        r = await api.post(
            "/api/v1/web/auth/verify-otp", json={"phoneNumber": phone, "brand": brand["brand_code"], "otp": "000000"}
        )
        assert r.status_code in (401,)
    finally:
        await driver.close()


async def test_one_active_loan_per_customer(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        phone, pan = demo_identity(0, "review")
        headers = await driver.register(phone)
        await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
        first = await driver.api.post("/api/v1/web/loans", json={"amount": "20000", "tenure": 3}, headers=headers)
        assert first.status_code == 201
        second = await driver.api.post("/api/v1/web/loans", json={"amount": "20000", "tenure": 3}, headers=headers)
        assert second.status_code == 409
    finally:
        await driver.close()


async def test_health_reports_both_dependencies(app) -> None:  # noqa: ANN001
    async with httpx.AsyncClient() as http:
        r = await http.get(f"{app.api.url}/health")
    assert r.status_code == 200 and r.json() == {"status": "ok", "database": "up", "temporal": "up"}


async def test_health_is_503_when_temporal_is_down(database_url) -> None:  # noqa: ANN001
    from api.app import create_app
    from los.settings import Settings
    from tests.conftest import ThreadedServer, free_port

    settings = Settings(database_url=database_url, temporal_address=f"127.0.0.1:{free_port()}")
    with ThreadedServer(create_app(settings)) as api:
        async with httpx.AsyncClient(timeout=20) as http:
            r = await http.get(f"{api.url}/health")
    assert r.status_code == 503
    assert r.json()["database"] == "up" and r.json()["temporal"].startswith("down")


def test_database_refuses_an_unbalanced_ledger_transaction(db, brand) -> None:  # noqa: ANN001
    with db.unit_of_work() as s:
        product = s.scalars(select(LoanProduct).where(LoanProduct.brand_id == brand["brand_id"])).first()
        customer = Customer(brand_id=brand["brand_id"], phone="9000000001")
        s.add(customer)
        s.flush()
        loan = Loan(
            brand_id=brand["brand_id"],
            customer_id=customer.id,
            product_id=product.id,
            workflow_id=f"loan-ledger-{customer.id}",
            amount=1_000_00,
            tenure=1,
            annual_rate_bps=0,
            status="APPLIED",
        )
        s.add(loan)
        s.flush()
        loan_id = loan.id
    with pytest.raises(DBAPIError, match="does not balance"):
        with db.unit_of_work() as s:
            txn = LedgerTransaction(loan_id=loan_id, kind="TEST", idempotency_key=f"unbalanced-{loan_id}")
            s.add(txn)
            s.flush()
            s.add_all(
                [
                    LedgerEntry(transaction_id=txn.id, account="A", amount=100),
                    LedgerEntry(transaction_id=txn.id, account="B", amount=-99),
                ]
            )
    with db.unit_of_work() as s:
        assert (
            s.scalar(select(func.count()).select_from(LedgerTransaction).where(LedgerTransaction.loan_id == loan_id))
            == 0
        )
        # a balanced one is accepted
        txn = LedgerTransaction(loan_id=loan_id, kind="TEST", idempotency_key=f"balanced-{loan_id}")
        s.add(txn)
        s.flush()
        s.add_all(
            [
                LedgerEntry(transaction_id=txn.id, account="A", amount=100),
                LedgerEntry(transaction_id=txn.id, account="B", amount=-100),
            ]
        )


async def test_health_is_503_when_the_database_is_down(dev_env, tmp_path) -> None:  # noqa: ANN001
    from api.app import create_app
    from los.settings import Settings
    from tests.conftest import ThreadedServer

    target = dev_env.client.service_client.config.target_host
    settings = Settings(database_url=f"postgresql://postgres@/postgres?host={tmp_path}", temporal_address=target)
    with ThreadedServer(create_app(settings)) as api:
        async with httpx.AsyncClient(timeout=20) as http:
            r = await http.get(f"{api.url}/health")
    assert r.status_code == 503
    assert r.json()["temporal"] == "up" and r.json()["database"].startswith("down")
