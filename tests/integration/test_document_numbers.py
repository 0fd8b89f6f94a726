"""Receipt and certificate numbers from the brand's counter (``db.numbering``) on the real PostgreSQL: distinct and
gapless under concurrent issuers, given back by a rolled-back transaction, never one a document already has, and
continuing from the numbers issued before the counters existed (migration 0028)."""

from __future__ import annotations

import threading
import uuid

from sqlalchemy import select

from db.migrate import upgrade
from db.models import (
    Brand,
    ClosureCertificate,
    Customer,
    DocumentSequence,
    Loan,
    LoanProduct,
    PaymentTransaction,
)
from db.numbering import next_number
from db.session import Database
from tests.conftest import scratch_database


def _brand(db: Database) -> str:
    with db.unit_of_work() as session:
        brand = Brand(code=f"n{uuid.uuid4().hex[:8]}", name="Numbers")
        session.add(brand)
        session.flush()
        return brand.id


def _never(number: str) -> bool:
    return False


def test_concurrent_issuers_take_distinct_gapless_numbers(db: Database) -> None:
    brand_id = _brand(db)
    taken: list[str] = []
    start = threading.Barrier(12)

    def issue() -> None:
        start.wait()
        with db.unit_of_work() as session:
            taken.append(next_number(session, brand_id, "DEMO/2026-27/", _never))

    threads = [threading.Thread(target=issue) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(taken) == [f"DEMO/2026-27/{n:06d}" for n in range(1, 13)]
    # another prefix (the next financial year) and another brand count on their own
    with db.unit_of_work() as session:
        assert next_number(session, brand_id, "DEMO/2027-28/", _never) == "DEMO/2027-28/000001"
    with db.unit_of_work() as session:
        assert next_number(session, _brand(db), "DEMO/2026-27/", _never) == "DEMO/2026-27/000001"


def test_a_rolled_back_number_is_given_back_and_a_taken_one_skipped(db: Database) -> None:
    brand_id = _brand(db)
    with db.unit_of_work() as session:
        assert next_number(session, brand_id, "X/2026-27/", _never) == "X/2026-27/000001"
    try:
        with db.unit_of_work() as session:
            assert next_number(session, brand_id, "X/2026-27/", _never) == "X/2026-27/000002"
            raise RuntimeError("the receipt's transaction fails after numbering")
    except RuntimeError:
        pass
    with db.unit_of_work() as session:
        # 000002 again (no gap); 000003 and 000004 already written by a process numbering the old way: skipped
        assert next_number(session, brand_id, "X/2026-27/", _never) == "X/2026-27/000002"
        old = {"X/2026-27/000003", "X/2026-27/000004"}
        assert next_number(session, brand_id, "X/2026-27/", lambda n: n in old) == "X/2026-27/000005"
        counter = session.get_one(DocumentSequence, (brand_id, "X/2026-27/"))
        assert counter.last_value == 5


def test_the_counters_start_from_the_numbers_already_issued(pg_server_url: str) -> None:
    with scratch_database(pg_server_url) as url:
        db = Database(url, pool_size=2)
        try:
            _counters_start_from_the_issued_numbers(db, url)
        finally:
            db.dispose()


def _counters_start_from_the_issued_numbers(db: Database, url: str) -> None:
    """Receipts and a certificate numbered before 0028; the counters continue from the highest of each prefix."""
    upgrade(url, "0027")
    with db.unit_of_work() as session:
        brand = Brand(code="dm", name="Demo")
        session.add(brand)
        session.flush()
        customer = Customer(brand_id=brand.id, phone="9876543210")
        product = LoanProduct(
            brand_id=brand.id,
            code="PL",
            name="Personal",
            min_amount=1,
            max_amount=10,
            min_tenure=1,
            max_tenure=12,
            annual_rate_bps=2400,
        )
        session.add_all([customer, product])
        session.flush()
        loan = Loan(
            brand_id=brand.id,
            customer_id=customer.id,
            product_id=product.id,
            workflow_id="loan-x",
            amount=100,
            tenure=3,
            annual_rate_bps=2400,
            status="COMPLETED",
        )
        session.add(loan)
        session.flush()
        for n, receipt in enumerate(("DM/2026-27/000041", "DM/2026-27/000007", "DM/2025-26/000300", None)):
            session.add(
                PaymentTransaction(
                    loan_id=loan.id, gateway="razorpay", gateway_payment_id=f"pay_{n}", amount=1, receipt_no=receipt
                )
            )
        session.add(
            ClosureCertificate(
                brand_id=brand.id,
                loan_id=loan.id,
                certificate_no="NOC/DM/2026-27/000003",
                kind="NO_DUES",
                storage_key="k",
                sha256="s",
            )
        )
        brand_id = brand.id
    upgrade(url)
    with db.unit_of_work() as session:
        counters = {
            row.prefix: row.last_value
            for row in session.scalars(select(DocumentSequence).where(DocumentSequence.brand_id == brand_id))
        }
        assert counters == {"DM/2026-27/": 41, "DM/2025-26/": 300, "NOC/DM/2026-27/": 3}
        assert next_number(session, brand_id, "DM/2026-27/", _never) == "DM/2026-27/000042"
        assert next_number(session, brand_id, "NOC/DM/2026-27/", _never) == "NOC/DM/2026-27/000004"
