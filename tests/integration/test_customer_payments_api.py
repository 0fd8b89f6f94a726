"""The borrower's repayment reads over the public API (schedule, payments with their allocation and receipt number,
failed attempts apart, the receipt PDF) and the staff's; the receipt's figures are the payment's allocation, its
number is the brand's next in the financial year, issuing it twice changes nothing, and no other customer reads
any of it."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from activities.loan import LoanActivities
from activities.loan.receipt_docs import financial_year, receipt_prefix, rupees
from activities.storage import LocalStorage
from db.models import Brand, PaymentAttempt, PaymentTransaction
from los.demo import Driver, demo_identity
from tests.conftest import eventually
from tests.integration.test_offline_payments import CHECKER, base, credited_offline, disbursed_loan
from workflows.contracts import ReceiptRequest
from workflows.options import IST

LENDER = "Receipt Test Finance Private Limited"
LINES = {  # the receipt's allocation labels → the API's allocation keys
    "Penal charges": "penalPaise",
    "Fees": "feesPaise",
    "Interest": "interestPaise",
    "Principal": "principalPaise",
    "Advance to principal": "advancePaise",
    "Excess (credit balance)": "excessPaise",
}


def pdf_texts(pdf: bytes) -> list[str]:
    """The text shown by the receipt's page, piece by piece, as any PDF reader extracts it."""
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    stream = pdf.split(b"stream\n", 1)[1].split(b"\nendstream", 1)[0].decode("cp1252")
    return [re.sub(r"\\(.)", r"\1", t) for t in re.findall(r"\(((?:\\.|[^\\)])*)\) Tj", stream)]


def after(texts: list[str], label: str) -> str:
    return texts[texts.index(label) + 1]


async def receipt_of(app, db, storage_dir, driver: Driver, loan_id: str, payment: dict) -> str:  # noqa: ANN001
    """The receipt number of a credited payment: issued by the loan's workflow after it credits the payment; if
    the workflow does not issue receipts in this build, by the activity it would call (same input)."""
    staff = await driver.staff_headers(CHECKER)

    async def issued() -> str | None:
        body = (await driver.api.get(f"{base(driver)}/loans/{loan_id}/payments", headers=staff)).json()
        row = next(p for p in body["payments"] if p["id"] == payment["id"])
        return row["receiptNo"] if row["receiptReady"] else None

    try:
        return await eventually(issued, timeout=10, interval=0.25)
    except AssertionError:
        activities = LoanActivities(db, app.http, LocalStorage(storage_dir), None, app.settings.api_url)
        return await activities.issue_receipt(ReceiptRequest(loan_id, payment["gateway"], payment["paymentId"]))


async def test_a_credited_payments_receipt_states_its_allocation_and_only_its_borrower_reads_it(  # noqa: ANN001
    app, brand, sandbox, db, storage_dir
) -> None:
    with db.unit_of_work() as s:
        row = s.get_one(Brand, brand["brand_id"])
        row.config = {**row.config, "lender_legal_name": LENDER}
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        customer, loan_id = await disbursed_loan(driver)
        web = f"/api/v1/web/loans/{loan_id}"

        # the schedule: six installments of the ₹50,000, nothing paid yet
        r = await driver.api.get(f"{web}/schedule", headers=customer)
        assert r.status_code == 200, r.text
        rows = r.json()["installments"]
        assert [i["installmentNo"] for i in rows] == [1, 2, 3, 4, 5, 6]
        assert sum(i["principalPaise"] for i in rows) == 50_000_00
        assert all(i["status"] == "PENDING" and i["principalPaidPaise"] == 0 and i["dueDate"] for i in rows)
        assert all(i["totalPaise"] == i["principalPaise"] + i["interestPaise"] + i["feesPaise"] for i in rows)

        payment = await credited_offline(driver, loan_id, amount="6000.00")
        number = await receipt_of(app, db, storage_dir, driver, loan_id, payment)
        code = brand["brand_code"].upper()
        fy = financial_year(datetime.now(IST).date())
        assert number == f"{code}/{fy}/000001"

        # issuing it again (a retried activity) gives the same receipt and writes nothing
        activities = LoanActivities(db, app.http, LocalStorage(storage_dir), None, app.settings.api_url)
        request = ReceiptRequest(loan_id, "offline", payment["paymentId"])
        with db.unit_of_work() as s:
            key = s.scalars(select(PaymentTransaction.receipt_key).where(PaymentTransaction.id == payment["id"])).one()
        assert await activities.issue_receipt(request) == number
        with db.unit_of_work() as s:
            again = s.scalars(select(PaymentTransaction.receipt_key).where(PaymentTransaction.id == payment["id"]))
            assert again.one() == key

        # the customer's payments: the credited one with its allocation and receipt, failed attempts apart
        with db.unit_of_work() as s:
            s.add(
                PaymentAttempt(
                    brand_id=brand["brand_id"],
                    loan_id=loan_id,
                    gateway="razorpay",
                    gateway_payment_id="pay_failed_1",
                    amount=6000_00,
                    method="upi",
                    status="FAILED",
                    failure_reason="payment declined by the bank",
                )
            )
        r = await driver.api.get(f"{web}/payments", headers=customer)
        assert r.status_code == 200, r.text
        body = r.json()
        (mine,) = body["payments"]
        assert mine["id"] == payment["id"] and mine["receiptNo"] == number and mine["receiptReady"]
        assert (mine["mode"], mine["reference"], mine["amountPaise"]) == ("NEFT", payment["reference"], 6000_00)
        allocation = mine["allocation"]
        assert sum(allocation.values()) == 6000_00
        assert [(a["paymentId"], a["status"]) for a in body["failedAttempts"]] == [("pay_failed_1", "FAILED")]

        # the receipt PDF states exactly that allocation
        r = await driver.api.get(f"{web}/receipts/{payment['id']}", headers=customer)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/pdf" and r.headers["x-receipt-no"] == number
        texts = pdf_texts(r.content)
        assert texts[0] == LENDER and after(texts, "Receipt no.") == number and after(texts, "Loan id") == loan_id
        assert after(texts, "Amount received") == rupees(6000_00) == "Rs. 6,000.00"
        assert (after(texts, "Mode"), after(texts, "Reference")) == ("NEFT", payment["reference"])
        assert after(texts, "Received on") == datetime.now(IST).date().isoformat()
        for label, key_ in LINES.items():
            assert after(texts, label) == rupees(allocation[key_]), label
        assert after(texts, "Principal outstanding after this payment") == rupees(mine["outstandingAfterPaise"])
        by_gateway_id = await driver.api.get(f"{web}/receipts/{payment['paymentId']}", headers=customer)
        assert by_gateway_id.content == r.content
        staff = await driver.staff_headers(CHECKER)
        staff_copy = await driver.api.get(f"{base(driver)}/loans/{loan_id}/receipts/{payment['id']}", headers=staff)
        assert staff_copy.status_code == 200 and staff_copy.content == r.content
        staff_view = (await driver.api.get(f"{base(driver)}/loans/{loan_id}/payments", headers=staff)).json()
        assert {a["paymentId"] for a in staff_view["attempts"]} == {"pay_failed_1"}

        # the schedule shows what was applied to the installments
        rows = (await driver.api.get(f"{web}/schedule", headers=customer)).json()["installments"]
        paid = {k: sum(i[f"{k}PaidPaise"] for i in rows) for k in ("principal", "interest", "fees", "penal")}
        assert paid == {k: allocation[f"{k}Paise"] for k in ("principal", "interest", "fees", "penal")}

        # the next receipt of the brand this year takes the next number
        second = await credited_offline(driver, loan_id, amount="1000.00")
        assert await receipt_of(app, db, storage_dir, driver, loan_id, second) == f"{code}/{fy}/000002"

        # another customer of the brand sees none of it; a payment that is not the loan's is 404 too
        stranger = await driver.register(demo_identity(0, "auto")[0])
        for path in (f"{web}/schedule", f"{web}/payments", f"{web}/receipts/{payment['id']}"):
            r = await driver.api.get(path, headers=stranger)
            assert r.status_code == 404, (path, r.text)
            assert number not in r.text and payment["reference"] not in r.text and "allocation" not in r.text
        r = await driver.api.get(f"{web}/receipts/00000000-0000-4000-8000-000000000000", headers=customer)
        assert r.status_code == 404
    finally:
        await driver.close()


async def test_a_receipt_not_issued_yet_is_404(app, brand, sandbox, db, storage_dir) -> None:  # noqa: ANN001
    """A credited payment whose receipt is not issued has none to download (the list says so)."""
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        customer, loan_id = await disbursed_loan(driver)
        payment = await credited_offline(driver, loan_id)
        await receipt_of(app, db, storage_dir, driver, loan_id, payment)  # whoever issues it, it is done now
        with db.unit_of_work() as s:  # as before the receipt's activity ran
            row = s.get_one(PaymentTransaction, payment["id"])
            row.receipt_no, row.receipt_key = None, None
        r = await driver.api.get(f"/api/v1/web/loans/{loan_id}/receipts/{payment['id']}", headers=customer)
        assert r.status_code == 404 and "not issued" in r.json()["message"]
        body: Any = (await driver.api.get(f"/api/v1/web/loans/{loan_id}/payments", headers=customer)).json()
        assert body["payments"][0]["receiptReady"] is False and body["payments"][0]["receiptNo"] is None
    finally:
        await driver.close()


def test_receipt_numbers_follow_the_indian_financial_year() -> None:
    assert [financial_year(d) for d in (date(2027, 3, 31), date(2027, 4, 1), date(2099, 4, 1))] == [
        "2026-27",
        "2027-28",
        "2099-00",
    ]
    assert receipt_prefix("demo", date(2027, 3, 31)) == "DEMO/2026-27/"
    long_codes = (
        receipt_prefix("a-very-long-brand-code-1", date(2027, 4, 1)),
        receipt_prefix("a-very-long-brand-code-2", date(2027, 4, 1)),
    )
    assert long_codes[0] != long_codes[1] and all(len(p) <= 33 for p in long_codes)  # number fits its 40 characters
