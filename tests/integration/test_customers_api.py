"""The staff customer routes through the real API and database (docs/operations.md, "Customers"): the list with its
filters and search, the unallocated queue, one customer's file (PAN, Aadhaar and account numbers never in full),
allocation and status changes audited, and the refusals (permission, another brand, bad input) writing nothing.

Customers are written straight to the tables: the customer's own journey is not what is tested here."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from api.partner.customers_schemas import CustomerDetail, CustomerPage
from db.models import (
    AuditLog,
    BankAccount,
    Customer,
    CustomerDocument,
    DialerCall,
    Employment,
    Loan,
    LoanProduct,
    ProviderCall,
    StaffNotification,
)
from los.demo import Driver
from los.seed import seed_brand

PAN = "ABCPK1234F"
ACCOUNT = "50100234567812"


def staff_of(brand: dict, role: str) -> str:
    return next(s["id"] for s in brand["staff"] if s["role"] == role)


def errors_of(response: Any) -> list[str]:
    return [e["field"] for e in response.json().get("errors", [])]


def add_customer(db, brand_id: str, name: str, **extra: Any) -> str:  # noqa: ANN001, ANN401
    with db.unit_of_work() as s:
        c = Customer(brand_id=brand_id, phone=f"9{random.randrange(10**8, 10**9)}", full_name=name, **extra)
        s.add(c)
        s.flush()
        return c.id


def file_of(db, brand: dict, customer_id: str) -> str:  # noqa: ANN001
    """A loan, a KYC check, a document, a bank account, an employer and a call for the customer: the loan id."""
    staff = staff_of(brand, "COLLECTION_EXECUTIVE")
    with db.unit_of_work() as s:
        product = s.scalars(select(LoanProduct).where(LoanProduct.brand_id == brand["brand_id"])).first()
        loan_id = str(uuid.uuid4())
        s.add(
            Loan(
                id=loan_id,
                brand_id=brand["brand_id"],
                customer_id=customer_id,
                product_id=product.id,
                workflow_id=f"loan-{loan_id}",
                amount=30_000_00,
                tenure=3,
                annual_rate_bps=2400,
                status="DISBURSED",
            )
        )
        s.flush()
        s.add(
            ProviderCall(
                loan_id=loan_id,
                customer_id=customer_id,
                kind="KYC_PAN",
                provider="digitap",
                idempotency_key=f"k-{uuid.uuid4()}",
                outcome="VERIFIED",
                response={"pan": PAN, "aadhaar": "523412341236"},
            )
        )
        s.add(
            CustomerDocument(
                brand_id=brand["brand_id"],
                customer_id=customer_id,
                doc_type="PAN_CARD",
                storage_key=f"docs/{uuid.uuid4()}",
                file_name="pan.png",
                content_type="image/png",
                size_bytes=1234,
                sha256="0" * 64,
            )
        )
        s.add(
            BankAccount(
                customer_id=customer_id,
                account_sealed="sealed",
                account_fingerprint="f" * 64,
                account_last4=ACCOUNT[-4:],
                ifsc="HDFC0001234",
                is_primary=True,
            )
        )
        s.add(Employment(customer_id=customer_id, employer_name="Acme Technologies", monthly_salary=65_000_00))
        s.add(
            DialerCall(
                brand_id=brand["brand_id"],
                provider="acefone",
                customer_id=customer_id,
                loan_id=loan_id,
                staff_id=staff,
                customer_number_masked="XXXXXX3210",
                status="COMPLETED",
                duration_seconds=42,
            )
        )
        return loan_id


def audits(db, customer_id: str, action: str) -> list[AuditLog]:  # noqa: ANN001
    with db.unit_of_work() as s:
        rows = list(s.scalars(select(AuditLog).where(AuditLog.entity_id == customer_id, AuditLog.action == action)))
        s.expunge_all()
        return rows


async def test_list_filters_search_detail_allocation_and_status(app, brand, sandbox, db) -> None:  # noqa: ANN001
    b = brand["brand_id"]
    other = seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:7]}")
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    outsider = Driver(app.api.url, sandbox.url, other["brand_code"])
    base = f"/api/v1/partner/brand/{b}/customers"
    api = driver.api
    try:
        kavya = add_customer(
            db,
            b,
            "Kavya Krishnan",
            pan=PAN,
            pan_verified=True,
            aadhaar_verified=True,
            aadhaar_masked="XXXXXXXX1236",
            email="Kavya.K@Example.com",
        )
        ravi = add_customer(db, b, "Ravi Shankar", pan_verified=True)
        old = add_customer(db, b, "Meera Nair")
        with db.unit_of_work() as s:
            s.get_one(Customer, old).created_at = datetime.now(UTC) - timedelta(days=40)
        foreign = add_customer(db, other["brand_id"], "Kavya Krishnan", pan=PAN)
        loan_id = file_of(db, brand, kavya)
        viewer = await driver.staff_headers("CREDIT_EXECUTIVE")
        admin = await driver.staff_headers("ADMIN")

        async def ids(path: str = "", **params: Any) -> list[str]:
            r = await api.get(f"{base}{path}", headers=viewer, params=params)
            assert r.status_code == 200, r.text
            page = CustomerPage.model_validate(r.json())
            return [c.id for c in page.items]

        assert await ids() == [ravi, kavya, old]  # newest first; the other brand's never
        assert await ids(kycState="VERIFIED") == [kavya]
        assert await ids(kycState="PARTIAL") == [ravi]
        assert await ids(kycState="PENDING") == [old]
        assert await ids(createdTo=(date.today() - timedelta(days=30)).isoformat()) == [old]
        assert await ids(createdFrom=(date.today() - timedelta(days=1)).isoformat()) == [ravi, kavya]
        assert await ids(search=PAN.lower()) == [kavya]
        assert await ids(search="kavya.k@example.COM") == [kavya]
        assert await ids(search="Kavia Krishnan") == [kavya]  # a typo: trigram similarity
        assert await ids(search="shankar") == [ravi]
        assert await ids(page=2, limit=2) == [old]
        bad = await api.get(base, headers=viewer, params={"kycState": "DONE"})
        assert bad.status_code == 422 and "kycState" in errors_of(bad)
        bad = await api.get(base, headers=viewer, params={"assignedTo": "someone"})
        assert bad.status_code == 422 and "assignedTo" in errors_of(bad)

        # one customer's file: no full PAN, Aadhaar or account number anywhere in it
        r = await api.get(f"{base}/{kavya}", headers=viewer)
        assert r.status_code == 200, r.text
        detail = CustomerDetail.model_validate(r.json())
        assert PAN not in r.text and "523412341236" not in r.text and ACCOUNT not in r.text
        assert detail.pan_masked == "ABXXXXX34F" and detail.aadhaar_masked == "XXXXXXXX1236"
        assert [a.account_masked for a in detail.bank_accounts] == ["XXXX7812"]
        assert [k.kind for k in detail.kyc] == ["KYC_PAN"] and [d.doc_type for d in detail.documents] == ["PAN_CARD"]
        assert [e.monthly_salary_paise for e in detail.employment] == [65_000_00]
        assert [loan.id for loan in detail.loans] == [loan_id]
        assert [c.duration_seconds for c in detail.calls] == [42] and detail.reminders == []
        for missing in (foreign, str(uuid.uuid4()), "not-an-id"):
            assert (await api.get(f"{base}/{missing}", headers=viewer)).status_code == 404
        outsider_admin = await outsider.staff_headers("ADMIN")
        assert (await api.get(base, headers=outsider_admin)).status_code == 404

        # allocation: admins only, to an active staff member of this brand; audited; the holder told
        le = staff_of(brand, "LOAN_EXECUTIVE")
        url = f"{base}/{kavya}/allocate"
        r = await api.post(url, json={"staffId": le}, headers=viewer)
        assert r.status_code == 403
        r = await api.post(url, json={"staffId": staff_of(other, "LOAN_EXECUTIVE")}, headers=admin)
        assert r.status_code == 422 and errors_of(r) == ["staffId"]
        r = await api.post(url, json={"staffId": "x"}, headers=admin)
        assert r.status_code == 422 and "staffId" in errors_of(r)
        assert (await api.post(f"{base}/{foreign}/allocate", json={"staffId": le}, headers=admin)).status_code == 404
        assert audits(db, kavya, "customer.allocate") == []
        r = await api.post(url, json={"staffId": le, "reason": "salary account holder"}, headers=admin)
        assert r.status_code == 200 and r.json()["assignedTo"] == le
        [row] = audits(db, kavya, "customer.allocate")
        assert (row.before, row.after) == ({"assignedTo": None}, {"assignedTo": le, "reason": "salary account holder"})
        with db.unit_of_work() as s:
            told = s.scalars(select(StaffNotification).where(StaffNotification.staff_id == le)).all()
            assert [n.meta for n in told if n.type == "NEW_ASSIGNMENT"] == [{"customerId": kavya}]
        assert await ids(assignedTo=le) == [kavya]
        assert await ids("/unallocated") == [ravi, old]
        assert await ids(assignedTo="none") == [ravi, old]

        # status: admins, with a reason; audited; the list filters by it
        url = f"{base}/{ravi}/status"
        r = await api.post(url, json={"status": "BLOCKED", "reason": "fraud"}, headers=viewer)
        assert r.status_code == 403
        r = await api.post(url, json={"status": "GONE", "reason": "x"}, headers=admin)
        assert r.status_code == 422 and "status" in errors_of(r)
        r = await api.post(url, json={"status": "BLOCKED", "reason": "  "}, headers=admin)
        assert r.status_code == 422 and "reason" in errors_of(r)
        assert audits(db, ravi, "customer.status") == []
        r = await api.post(url, json={"status": "BLOCKED", "reason": "identity mismatch"}, headers=admin)
        assert r.status_code == 200 and r.json()["status"] == "BLOCKED"
        [row] = audits(db, ravi, "customer.status")
        assert row.before == {"status": "ACTIVE", "statusReason": None}
        assert row.after == {"status": "BLOCKED", "statusReason": "identity mismatch"}
        assert await ids(status="BLOCKED") == [ravi]
        assert await ids(status="ACTIVE") == [kavya, old]
        detail = (await api.get(f"{base}/{ravi}", headers=viewer)).json()
        assert (detail["status"], detail["statusReason"]) == ("BLOCKED", "identity mismatch")
    finally:
        await driver.close()
        await outsider.close()
