"""Global search through the real API and PostgreSQL with pg_trgm (docs/operations.md, "Global search"): a name with a
typo found by trigram similarity, phone, PAN, e-mail, loan id and UTR found exactly, the PAN masked in every answer,
another brand's customer never found, and bad input refused naming the field."""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any

from sqlalchemy import select, text

from api.partner.search import SearchResult
from db.models import Customer, Loan, LoanProduct, OfflinePayment, StaffUser
from los.demo import Driver
from los.seed import seed_brand

PAN = "BXKPS4321Q"


def seed(db, brand_id: str, name: str, phone: str, **extra: Any) -> tuple[str, str]:  # noqa: ANN001, ANN401
    """A customer and one disbursed loan of theirs: (customer id, loan id)."""
    with db.unit_of_work() as s:
        product = s.scalars(select(LoanProduct).where(LoanProduct.brand_id == brand_id)).first()
        c = Customer(brand_id=brand_id, phone=phone, full_name=name, **extra)
        s.add(c)
        s.flush()
        loan_id = str(uuid.uuid4())
        s.add(
            Loan(
                id=loan_id,
                brand_id=brand_id,
                customer_id=c.id,
                product_id=product.id,
                workflow_id=f"loan-{loan_id}",
                amount=20_000_00,
                tenure=3,
                annual_rate_bps=2400,
                status="DISBURSED",
                disbursal_utr=f"UTR{uuid.uuid4().hex[:12].upper()}",
            )
        )
        return c.id, loan_id


async def test_global_search(app, brand, sandbox, db) -> None:  # noqa: ANN001
    b = brand["brand_id"]
    other = seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:7]}")
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    url = f"/api/v1/partner/brand/{b}/global-search"
    suffix = f"{uuid.uuid4().int % 10**6:06d}"
    try:
        sid, sloan = seed(db, b, "Siddharth Venkataraman", f"9871{suffix}", pan=PAN, email="Sid.V@Example.org")
        seed(db, b, "Priya Raghunathan", f"9872{suffix}")
        # the same person, name, PAN and phone in another brand: never found from this one
        foreign, foreign_loan = seed(db, other["brand_id"], "Siddharth Venkataraman", f"9871{suffix}", pan=PAN)
        with db.unit_of_work() as s:
            utr = s.get_one(Loan, sloan).disbursal_utr
            foreign_utr = s.get_one(Loan, foreign_loan).disbursal_utr
            # the name match can use the GIN trigram index (bench/search.py shows it chosen at 100,000 customers)
            s.execute(text("SET LOCAL enable_seqscan = off"))
            plan = "\n".join(
                row[0]
                for row in s.execute(text("EXPLAIN SELECT id FROM customers WHERE full_name % 'Sidharth Venkatram'"))
            )
            assert "ix_customers_full_name_trgm" in plan, plan
        headers = await driver.staff_headers("COLLECTION_EXECUTIVE")  # customers.view is enough

        async def found(query: str, limit: int = 20) -> list[tuple[str, str, str]]:
            r = await driver.api.post(url, json={"query": query, "limit": limit}, headers=headers)
            assert r.status_code == 200, r.text
            assert PAN not in r.text and PAN.lower() not in r.text  # the PAN only ever masked
            items = json.dumps(r.json()["items"])
            assert foreign not in items and foreign_loan not in items  # nothing of the other brand
            result = SearchResult.model_validate(r.json())
            assert result.count == len(result.items)
            for item in result.items:
                if item.customer_id == sid:
                    assert item.pan_masked == "BXXXXXX21Q"
            return [(i.type, i.id, i.matched_on) for i in result.items]

        hits = await found("Sidharth Venkatram")  # two letters missing: trigram similarity
        assert hits[0] == ("customer", sid, "name")
        assert ("customer", sid, "name") in await found("venkataraman siddarth")
        assert await found(f"+91 9871-{suffix}") == [("customer", sid, "phone")]
        assert await found(f"9871{suffix}") == [("customer", sid, "phone")]
        assert await found(PAN.lower()) == [("customer", sid, "pan")]
        assert await found("sid.v@example.ORG") == [("customer", sid, "email")]
        assert await found(sloan) == [("loan", sloan, "loanId")]
        assert await found(sid) == [("customer", sid, "customerId")]
        assert await found(utr.lower()) == [("loan", sloan, "utr")]
        # twelve digits read as a phone with +91 too, and are a bank reference all the same: an IMPS disbursal's UTR,
        # a UPI payment's RRN recorded offline (found on "reference")
        imps, rrn = f"5526{suffix}17", f"1234{suffix}12"
        with db.unit_of_work() as s:
            s.get_one(Loan, sloan).disbursal_utr = imps
            _, rloan = seed(db, b, "Ravi Shankar", f"9873{suffix}")
            maker = s.scalars(select(StaffUser.id)).first()
            s.add(OfflinePayment(brand_id=b, loan_id=rloan, amount=1_000_00, paid_on=date.today(), mode="UPI",
                                 reference=rrn, recorded_by=maker))  # fmt: skip
        assert await found(imps) == [("loan", sloan, "utr")]
        assert await found(rrn) == [("loan", rloan, "reference")]
        assert await found(foreign_utr) == []
        assert await found(foreign_loan) == []
        assert await found("Zzyzx Qwerty") == []

        # bad input: 422 naming the field; another brand's staff: 404; a role with neither view permission: none
        for body, field in (
            ({"query": " "}, "query"),
            ({"query": "ab", "limit": 51}, "limit"),
            ({"query": "ab", "limit": 2.0}, "limit"),  # a whole number, not a float that happens to be one
            ({}, "query"),
        ):
            r = await driver.api.post(url, json=body, headers=headers)
            assert r.status_code == 422 and field in [e["field"] for e in r.json()["errors"]], r.text
        outsider = Driver(app.api.url, sandbox.url, other["brand_code"])
        try:
            theirs = await outsider.staff_headers("ADMIN")
            r = await driver.api.post(url, json={"query": PAN}, headers=theirs)
            assert r.status_code == 404
        finally:
            await outsider.close()
    finally:
        await driver.close()
