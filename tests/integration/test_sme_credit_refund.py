"""The SME business's credit balance over the real stack (API over HTTP, PostgreSQL): shown to the business in its
own request view, refunded maker-checker by staff (the maker refused as checker, bad input named, another brand's
staff refused), paid with the checker's UTR, the credits CLOSED once and never twice; a credit arriving after a refund
is a new balance (docs/invoice-financing.md, "Refunding the credit balance")."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select

from db.models import (
    AuditLog,
    Customer,
    SmeBusiness,
    SmeCreditBalance,
    SmeCreditRefund,
    SmeFinancingRequest,
    SmeInvoice,
    SmePayment,
)
from db.sme_credit_balances import keep_late_credit
from domain.sme.ids import make_gstin
from los.crypto import BANK_ACCOUNT, unseal
from los.demo import Driver
from los.demo_sme import business_pan

INVOICE = 2_50_000_00


def _closed_request(db, brand_id: str, customer_id: str) -> str:  # noqa: ANN001
    """A business of ``customer_id`` with an invoice financed, paid in full and CLOSED (written straight: the
    financing itself is tests/integration/test_sme_api.py's); the request's id."""
    pan = business_pan()
    with db.unit_of_work() as s:
        business = SmeBusiness(brand_id=brand_id, customer_id=customer_id, legal_name="Refund Traders", pan=pan,
                               gstin=make_gstin("27", pan), status="VERIFIED", verification={})  # fmt: skip
        s.add(business)
        s.flush()
        invoice = SmeInvoice(
            brand_id=brand_id, business_id=business.id, number=f"R-{uuid.uuid4().hex[:6]}", number_key="R1",
            seller_gstin=business.gstin, buyer_gstin=make_gstin("29", business_pan("C", "B")), amount=INVOICE,
            invoice_date=date(2026, 10, 1), due_date=date(2026, 11, 1), document_key="sme/r.pdf",
            document_sha256="0" * 64,
        )  # fmt: skip
        s.add(invoice)
        s.flush()
        request = SmeFinancingRequest(brand_id=brand_id, business_id=business.id, invoice_id=invoice.id,
                                      amount=INVOICE, status="CLOSED", score_factors={}, advance=2_00_000_00,
                                      discount=2_301_37, collected=INVOICE)  # fmt: skip
        s.add(request)
        s.flush()
        s.add(SmePayment(request_id=request.id, brand_id=brand_id, payment_id=f"pay_{uuid.uuid4().hex[:14]}",
                         amount=INVOICE, source="LINK", paid_at=datetime.now(UTC)))  # the buyer paid in full
        s.flush()
        return request.id


def _late_credit(db, request_id: str, amount: int) -> None:  # noqa: ANN001
    """A credit to the CLOSED request, counted as the Smart Collect webhook counts one (``keep_late_credit``)."""
    with db.unit_of_work() as s:
        row = s.get_one(SmeFinancingRequest, request_id, with_for_update=True)
        utr = f"HDFCN{uuid.uuid4().int % 10**11:011d}"
        kept = keep_late_credit(s, row, payment_id=f"UTR:{utr}", amount=amount, source="VA:NEFT",
                                paid_at=datetime.now(UTC), received_while="CLOSED")  # fmt: skip
        assert kept.counted and kept.kept == amount


async def test_the_credit_balance_is_shown_to_the_business_and_refunded_once_by_maker_and_checker(
    app, brand, sandbox, db  # noqa: ANN001
) -> None:
    bid = brand["brand_id"]
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        phone = f"8{uuid.uuid4().int % 10**9:09d}"
        customer = await driver.register(phone)
        with db.unit_of_work() as s:
            customer_id = s.scalars(select(Customer.id).where(Customer.brand_id == bid, Customer.phone == phone)).one()
        rid = _closed_request(db, bid, customer_id)
        api = driver.api
        mine = f"/api/v1/sme/requests/{rid}"
        assert (await api.get(mine, headers=customer)).json()["creditBalance"] is None  # no late credit yet
        _late_credit(db, rid, 1_000_00)
        _late_credit(db, rid, 500_00)

        # The business sees its balance in its own request.
        seen = (await api.get(mine, headers=customer)).json()["creditBalance"]
        assert seen == {"balance": 1_500_00, "credits": 2, "refunded": 0, "refunds": []}
        stranger = await driver.register(f"8{uuid.uuid4().int % 10**9:09d}")  # another customer: not its request
        assert (await api.get(mine, headers=stranger)).status_code in (403, 404)

        maker = await driver.staff_headers("ADMIN")  # may record and decide: only maker-checker stops it deciding
        executive = await driver.staff_headers("LOAN_EXECUTIVE")
        checker = await driver.staff_headers("COLLECTION_MANAGER")
        base = f"/api/v1/partner/brand/{bid}/sme/requests/{rid}/credit-balance"
        account = {"accountNumber": "50100123456789", "ifsc": "HDFC0001234", "accountHolder": "Refund Traders",
                   "reference": "SMEREF-0001", "remarks": "late NEFT credits"}  # fmt: skip

        # Bad input: 422 naming the field, nothing stored.
        for field, value in (("accountNumber", "12ab"), ("ifsc", "HDFC1234567"), ("reference", "   ")):
            bad = await api.post(f"{base}/refund", json=account | {field: value}, headers=maker)
            assert bad.status_code == 422 and field in bad.text, (field, bad.text)
        # The collection manager may not record one (not a maker of money out), another brand's staff see nothing.
        assert (await api.post(f"{base}/refund", json=account, headers=checker)).status_code == 403
        other = f"/api/v1/partner/brand/{uuid.uuid4()}/sme/requests/{rid}/credit-balance/refund"
        assert (await api.post(other, json=account, headers=maker)).status_code in (403, 404)
        with db.unit_of_work() as s:
            assert s.scalars(select(SmeCreditRefund).where(SmeCreditRefund.request_id == rid)).all() == []

        # The maker records it: the whole balance, PENDING; a second one waits behind it (409).
        recorded = await api.post(f"{base}/refund", json=account, headers=maker)
        assert recorded.status_code == 201, recorded.text
        refund = recorded.json()
        assert (refund["amount"], refund["credits"], refund["status"]) == (1_500_00, 2, "PENDING")
        assert refund["accountMasked"] == "XXXXXXXX6789" and "50100123456789" not in recorded.text
        again = await api.post(f"{base}/refund", json=account, headers=maker)
        assert again.status_code == 409 and "status" in again.text

        # Maker-checker: the maker may not approve it; the checker's UTR is checked against the mode.
        paid = {"mode": "NEFT", "utr": "ICIC0R1234567890"}
        self_approve = await api.post(f"{base}/refund/approve", json=paid, headers=maker)
        assert self_approve.status_code == 403 and "maker-checker" in self_approve.text
        assert (await api.post(f"{base}/refund/approve", json=paid, headers=executive)).status_code == 403
        wrong = await api.post(f"{base}/refund/approve", json={"mode": "NEFT", "utr": "123"}, headers=checker)
        assert wrong.status_code == 422 and "utr" in wrong.text
        seen = (await api.get(mine, headers=customer)).json()["creditBalance"]
        assert seen["balance"] == 1_500_00 and [r["status"] for r in seen["refunds"]] == ["PENDING"]

        approved = await api.post(f"{base}/refund/approve", json=paid, headers=checker)
        assert approved.status_code == 200, approved.text
        assert (approved.json()["status"], approved.json()["utr"]) == ("PAID", "ICIC0R1234567890")
        # ...once: a second approval finds nothing waiting, and nothing changes.
        twice = await api.post(f"{base}/refund/approve", json=paid, headers=checker)
        assert twice.status_code == 409
        nothing = await api.post(f"{base}/refund", json=account, headers=maker)
        assert nothing.status_code == 409 and "balance" in nothing.text

        staff_view = (await api.get(base, headers=maker)).json()
        assert staff_view["balance"] == 0 and [c["status"] for c in staff_view["credits"]] == ["CLOSED", "CLOSED"]
        assert [(r["status"], r["amount"]) for r in staff_view["refunds"]] == [("PAID", 1_500_00)]
        seen = (await api.get(mine, headers=customer)).json()["creditBalance"]
        assert (seen["balance"], seen["refunded"]) == (0, 1_500_00)
        assert [(r["status"], r["utr"], r["accountMasked"]) for r in seen["refunds"]] == [
            ("PAID", "ICIC0R1234567890", "XXXXXXXX6789")
        ]

        # A later credit is a new balance: its refund rejected keeps it OPEN, the next one pays it.
        _late_credit(db, rid, 250_00)
        second = await api.post(f"{base}/refund", json=account | {"reference": "SMEREF-0002"}, headers=executive)
        assert (second.json()["amount"], second.json()["credits"]) == (250_00, 1), second.text
        by_maker = await api.post(f"{base}/refund/reject", json={"reason": "mine"}, headers=executive)
        assert by_maker.status_code == 403  # a loan executive does not decide refunds
        rejected = await api.post(f"{base}/refund/reject", json={"reason": "account closed"}, headers=checker)
        assert rejected.json()["status"] == "REJECTED"
        assert (await api.get(base, headers=maker)).json()["balance"] == 250_00
        third = await api.post(f"{base}/refund", json=account | {"reference": "SMEREF-0003"}, headers=maker)
        assert third.status_code == 201
        own = await api.post(f"{base}/refund/reject", json={"reason": "mine"}, headers=maker)
        assert own.status_code == 403 and "maker-checker" in own.text  # nor reject one they recorded
        imps = {"mode": "IMPS", "utr": "634512345678"}
        assert (await api.post(f"{base}/refund/approve", json=imps, headers=checker)).json()["status"] == "PAID"

        with db.unit_of_work() as s:
            refunds = s.scalars(
                select(SmeCreditRefund).where(SmeCreditRefund.request_id == rid).order_by(SmeCreditRefund.created_at)
            ).all()
            assert [(r.status, r.amount) for r in refunds] == [("PAID", 1_500_00), ("REJECTED", 250_00),
                                                               ("PAID", 250_00)]  # fmt: skip
            assert unseal(app.settings.field_key(), BANK_ACCOUNT, refunds[0].account_sealed) == "50100123456789"
            credits = s.scalars(select(SmeCreditBalance).where(SmeCreditBalance.request_id == rid)).all()
            assert {c.status for c in credits} == {"CLOSED"}
            # every credit paid by exactly one PAID refund
            paid_ids = [i for r in refunds if r.status == "PAID" for i in r.credit_ids]
            assert sorted(paid_ids) == sorted(c.id for c in credits)
            actions = s.scalars(
                select(AuditLog.action).where(AuditLog.brand_id == bid, AuditLog.action.like("sme.credit_refund.%"))
            ).all()
            assert sorted(actions) == sorted(["sme.credit_refund.recorded"] * 3 + ["sme.credit_refund.paid"] * 2
                                             + ["sme.credit_refund.rejected"])  # fmt: skip
    finally:
        await driver.close()
