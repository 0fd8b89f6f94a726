"""Offline payments and the approval queue over the public API, on a loan disbursed the way a customer and the staff
would (``los.demo.Driver``): one person records, another approves, and the loan's workflow credits the money by
its waterfall (installments, ledger, the payments list); the maker cannot decide their own record; a reference is
used once per brand; bad input is refused field by field with nothing written; a rejection needs a reason; a
decision is taken once; another brand's staff see and touch nothing."""

from __future__ import annotations

import random
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from activities.loan.receipt_docs import rupees
from db.models import (
    LedgerEntry,
    LedgerTransaction,
    Loan,
    OfflinePayment,
    ParkedPayment,
    PaymentTransaction,
    RepaymentInstallment,
)
from db.receipts import interest_credited
from los.demo import Driver, Journey, demo_identity, demo_statement_pdf
from los.seed import seed_brand
from sandbox import gateway_events
from tests.conftest import eventually
from tests.integration.test_staff_and_webhooks import _signed
from workflows.options import IST

MAKER, CHECKER = "LOAN_EXECUTIVE", "COLLECTION_MANAGER"


def today() -> str:
    return datetime.now(IST).date().isoformat()


def neft_utr() -> str:
    """A NEFT UTR nobody used: the bank's 4 letters, N, 11 digits."""
    return f"HDFCN{random.randrange(10**10, 10**11)}"


async def disbursed_loan(
    driver: Driver, *, before_disbursal: Any = None, product: str = "PL-MONTHLY", tenure: int = 6
) -> tuple[dict[str, str], str]:
    """A loan of ₹50,000 (by default PL-MONTHLY over 6 months: the first installment falls due in a month) taken
    to DISBURSED through the API: the customer's headers and the loan id. ``before_disbursal(loan_id)`` runs once
    it is signed."""
    phone, pan = demo_identity(0, "auto")
    journey = Journey(phone=phone, pan=pan)
    deadline = time.monotonic() + 150
    headers = await driver.register(phone)
    await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
    await driver.profile(headers)
    loan = await driver._ok(
        await driver.api.post(
            "/api/v1/web/loans", json={"amount": "50000", "tenure": tenure, "productCode": product}, headers=headers
        )
    )
    journey.loan_id, journey.workflow_id = loan["id"], loan["workflowId"]
    await driver.complete_kyc(headers, journey.loan_id, deadline)
    detail = await driver.to_signature(headers, journey, deadline)
    await driver.sign(headers, journey, detail, deadline)
    if before_disbursal is not None:
        await before_disbursal(journey.loan_id)
    detail = await driver.disburse(headers, journey, deadline)
    assert detail["status"] in ("DISBURSED", "OVERDUE"), detail["status"]
    return headers, journey.loan_id


def base(driver: Driver) -> str:
    return f"/api/v1/partner/brand/{driver._brand_id}"


async def record(driver: Driver, loan_id: str, role: str = MAKER, **fields: Any) -> Any:
    body = {"amount": "5000.00", "paidOn": today(), "mode": "NEFT", "reference": neft_utr(), **fields}
    headers = await driver.staff_headers(role)
    return await driver.api.post(f"{base(driver)}/loans/{loan_id}/payments/offline", json=body, headers=headers)


async def attach_proof(driver: Driver, payment_id: str, role: str = MAKER) -> Any:
    files = {"file": ("bank-advice.pdf", demo_statement_pdf(), "application/pdf")}
    headers = await driver.staff_headers(role)
    return await driver.api.post(f"{base(driver)}/payment/proof/{payment_id}", files=files, headers=headers)


async def decide(driver: Driver, action: str, payment_id: str, role: str = CHECKER, **body: Any) -> Any:
    headers = await driver.staff_headers(role)
    return await driver.api.post(f"{base(driver)}/payment/{action}/{payment_id}", json=body, headers=headers)


async def credited_offline(driver: Driver, loan_id: str, amount: str = "5000.00") -> dict[str, Any]:
    """Record (maker), attach the proof, approve (checker) and wait until the loan lists it credited: the payment
    as the staff payments list shows it."""
    r = await record(driver, loan_id, amount=amount)
    assert r.status_code == 201, r.text
    payment_id = r.json()["id"]
    assert (await attach_proof(driver, payment_id)).status_code == 200
    r = await decide(driver, "approve", payment_id)
    assert r.status_code == 200, r.text
    headers = await driver.staff_headers(CHECKER)

    async def listed() -> dict | None:
        body = (await driver.api.get(f"{base(driver)}/loans/{loan_id}/payments", headers=headers)).json()
        return next((p for p in body["payments"] if p["paymentId"] == payment_id), None)

    return await eventually(listed, timeout=30, interval=0.2)


def errors_of(response: Any) -> dict[str, str]:
    return {e["field"]: e["reason"] for e in response.json().get("errors", [])}


async def test_an_offline_payment_recorded_and_approved_by_another_person_is_credited_to_the_loan(  # noqa: ANN001
    app, brand, sandbox, db
) -> None:
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:

        async def refused_before_disbursal(loan_id: str) -> None:
            r = await record(driver, loan_id)
            assert r.status_code == 409 and errors_of(r).keys() == {"status"}, r.text

        customer, loan_id = await disbursed_loan(driver, before_disbursal=refused_before_disbursal)
        schedule_before = (await driver.api.get(f"/api/v1/web/loans/{loan_id}/schedule", headers=customer)).json()
        with db.unit_of_work() as s:
            collected_before = s.get_one(Loan, loan_id).total_collected

        utr = neft_utr()
        r = await record(driver, loan_id, "ADMIN", amount="7500.50", reference=utr.lower(), remarks="NEFT to escrow")
        assert r.status_code == 201, r.text
        recorded = r.json()
        payment_id = recorded["id"]
        assert recorded["status"] == "PENDING" and recorded["amountPaise"] == 7500_50
        assert recorded["reference"] == utr and recorded["mode"] == "NEFT" and recorded["hasProof"] is False

        # the checker cannot approve without the proof; only the maker attaches it
        r = await decide(driver, "approve", payment_id)
        assert r.status_code == 409 and "proof" in errors_of(r), r.text
        assert (await attach_proof(driver, payment_id, CHECKER)).status_code == 403
        r = await attach_proof(driver, payment_id, "ADMIN")
        assert r.status_code == 200 and r.json()["hasProof"] and r.json()["proofContentType"] == "application/pdf"
        proof = await driver.api.get(
            f"{base(driver)}/payment/proof/{payment_id}", headers=await driver.staff_headers(CHECKER)
        )
        assert proof.status_code == 200 and proof.content == demo_statement_pdf()

        # in the brand's queue, waiting for a checker
        queue = await driver.api.get(
            f"{base(driver)}/payment/approval",
            params={"status": "PENDING", "mode": "NEFT", "loanId": loan_id, "paidFrom": today(), "paidTo": today()},
            headers=await driver.staff_headers(CHECKER),
        )
        assert queue.status_code == 200, queue.text
        assert [i["id"] for i in queue.json()["items"]] == [payment_id] and queue.json()["total"] == 1

        # maker-checker: the admin who recorded it cannot approve (or reject) it
        r = await decide(driver, "approve", payment_id, "ADMIN")
        assert r.status_code == 403 and "maker-checker" in r.json()["message"], r.text
        r = await decide(driver, "reject", payment_id, "ADMIN", reason="typo")
        assert r.status_code == 403
        # a loan executive records but does not approve
        assert (await decide(driver, "approve", payment_id, MAKER)).status_code == 403

        r = await decide(driver, "approve", payment_id)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "APPROVED" and r.json()["creditedAs"] == "LOAN"
        assert r.json()["decidedByEmail"].startswith("collection.manager@")
        again = await decide(driver, "approve", payment_id)
        assert again.status_code == 409 and "status" in errors_of(again)
        assert (await decide(driver, "reject", payment_id, reason="late")).status_code == 409

        staff = await driver.staff_headers(CHECKER)

        async def credited() -> dict | None:
            body = (await driver.api.get(f"{base(driver)}/loans/{loan_id}/payments", headers=staff)).json()
            return next((p for p in body["payments"] if p["paymentId"] == payment_id), None)

        payment = await eventually(credited, timeout=30, interval=0.2)
        assert payment["gateway"] == "offline" and payment["amountPaise"] == 7500_50
        assert (payment["mode"], payment["reference"]) == ("NEFT", utr)
        assert sum(payment["allocation"].values()) == 7500_50
        assert payment["outstandingAfterPaise"] is not None
        body = (await driver.api.get(f"{base(driver)}/loans/{loan_id}/payments", headers=staff)).json()
        assert [(o["id"], o["status"], o["creditedAs"]) for o in body["offline"]] == [(payment_id, "APPROVED", "LOAN")]
        queue = await driver.api.get(
            f"{base(driver)}/payment/approval", params={"status": "ALL", "loanId": loan_id}, headers=staff
        )
        assert {o["id"]: o["creditedAs"] for o in queue.json()["items"]}[payment_id] == "LOAN"  # kept, not said once

        # the loan's installments and ledger changed by exactly what was applied to them
        schedule = (await driver.api.get(f"/api/v1/web/loans/{loan_id}/schedule", headers=customer)).json()

        def paid(rows: list[dict]) -> int:
            return sum(
                i["principalPaidPaise"] + i["interestPaidPaise"] + i["feesPaidPaise"] + i["penalPaidPaise"]
                for i in rows
            )

        allocation = payment["allocation"]
        to_installments = sum(allocation[k] for k in ("penalPaise", "feesPaise", "interestPaise", "principalPaise"))
        assert paid(schedule["installments"]) - paid(schedule_before["installments"]) == to_installments > 0
        with db.unit_of_work() as s:
            txn = s.scalars(
                select(LedgerTransaction).where(LedgerTransaction.idempotency_key == f"payment:offline:{payment_id}")
            ).one()
            legs = s.scalars(select(LedgerEntry).where(LedgerEntry.transaction_id == txn.id)).all()
            assert sum(leg.amount for leg in legs if leg.amount > 0) == 7500_50
            assert s.get_one(Loan, loan_id).total_collected == collected_before + 7500_50
    finally:
        await driver.close()


async def test_a_gateway_payment_already_recorded_offline_is_parked_not_credited_twice(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """The borrower pays ₹5,000 by UPI through the gateway and, the webhook being slow, sends the screenshot; staff
    record it offline with its RRN and another approves it (credited). Razorpay's ``payment.captured`` for that same
    payment then arrives, carrying the same RRN: it is parked for ops naming the offline payment (answer ``parked``),
    not credited a second time; the same event again is a duplicate. Before, both were credited."""
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        _, loan_id = await disbursed_loan(driver)
        rrn = str(random.randrange(10**11, 10**12))
        r = await record(driver, loan_id, mode="UPI", reference=rrn, amount="5000.00")
        assert r.status_code == 201, r.text
        offline_id = r.json()["id"]
        assert (await attach_proof(driver, offline_id)).status_code == 200
        assert (await decide(driver, "approve", offline_id)).status_code == 200
        staff = await driver.staff_headers(CHECKER)

        async def credited() -> dict | None:
            body = (await driver.api.get(f"{base(driver)}/loans/{loan_id}/payments", headers=staff)).json()
            return next((p for p in body["payments"] if p["paymentId"] == offline_id), None)

        await eventually(credited, timeout=30, interval=0.2)
        with db.unit_of_work() as s:
            collected = s.get_one(Loan, loan_id).total_collected

        gateway_id = f"pay_{uuid.uuid4().hex[:14]}"
        notes = {"loan_id": loan_id}
        payment = gateway_events.razorpay_payment(gateway_id, 5000_00, "+919876543210", notes, "order_T1")
        payment["acquirer_data"]["rrn"] = rrn
        body, headers = _signed("razorpay", gateway_events.razorpay_payment_captured(payment))
        url = f"{app.api.url}/api/v1/webhooks/{brand['brand_id']}/razorpay"
        async with httpx.AsyncClient() as http:
            answer = await http.post(url, content=body, headers=headers)
            assert answer.status_code == 200 and answer.json()["status"] == "parked", answer.text
            assert offline_id in answer.json()["reason"] and rrn in answer.json()["reason"]
            again = await http.post(url, content=body, headers=headers)
            assert again.json()["status"] == "duplicate", again.text
        with db.unit_of_work() as s:
            (parked,) = s.scalars(select(ParkedPayment).where(ParkedPayment.gateway_payment_id == gateway_id)).all()
            assert (parked.loan_id, parked.amount, parked.status) == (loan_id, 5000_00, "PARKED")
            assert s.get_one(Loan, loan_id).total_collected == collected  # not credited a second time
            none = select(PaymentTransaction).where(PaymentTransaction.gateway_payment_id == gateway_id)
            assert s.scalars(none).all() == []
    finally:
        await driver.close()


async def test_a_reference_is_used_once_bad_fields_are_named_and_a_rejection_needs_a_reason(  # noqa: ANN001
    app, brand, sandbox, db
) -> None:
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        _, loan_id = await disbursed_loan(driver)
        utr = neft_utr()
        first = await record(driver, loan_id, reference=utr)
        assert first.status_code == 201, first.text
        payment_id = first.json()["id"]

        # the same UTR again (spaces and case do not make it another) → 409 naming the field
        r = await record(driver, loan_id, reference=f" {utr[:8].lower()} {utr[8:]} ")
        assert r.status_code == 409 and "reference" in errors_of(r) and payment_id in r.json()["message"], r.text

        # every bad field named at once
        tomorrow = (datetime.now(IST).date() + timedelta(days=1)).isoformat()
        r = await record(driver, loan_id, amount=5000, paidOn=tomorrow, mode="BITCOIN", reference="", extra=1)
        assert r.status_code == 422, r.text
        assert {"amount", "paidOn", "mode", "reference", "extra"} <= errors_of(r).keys()
        for fields, field in (
            ({"mode": "NEFT", "reference": "12345"}, "reference"),  # not a NEFT UTR
            ({"mode": "UPI", "reference": "HDFCN12345678901"}, "reference"),  # UPI's RRN is 12 digits
            ({"mode": "CASH", "reference": "???"}, "reference"),  # a receipt book number
            ({"amount": "0"}, "amount"),
            ({"amount": "10.123"}, "amount"),
            ({"paidOn": "2020-01-01"}, "paidOn"),  # before the disbursal
            ({"paidOn": "31-12-2026"}, "paidOn"),
            ({"remarks": "x" * 1001}, "remarks"),
        ):
            r = await record(driver, loan_id, **fields)
            assert r.status_code == 422 and field in errors_of(r), (fields, r.text)
        # more than closes the loan today: refused as a likely slip unless the maker says that much came
        r = await record(driver, loan_id, amount="99999999.00")
        assert r.status_code == 422 and "amount" in errors_of(r), r.text
        assert "foreclosure quote" in r.text and "allowExcess" in r.text, r.text
        r = await record(driver, loan_id, mode="CASH", reference="rb-0042/17", amount="99999999.00", allowExcess=True)
        assert r.status_code == 201 and r.json()["reference"] == "RB-0042/17", r.text
        assert r.json()["amountPaise"] == 99999999_00
        cash_id = r.json()["id"]
        proof_url, maker = f"{base(driver)}/payment/proof/{cash_id}", await driver.staff_headers(MAKER)
        for kwargs in (
            {"files": {"file": ("advice.pdf", b"just text, not a PDF", "application/pdf")}},
            {"files": {"file": ("advice.png", demo_statement_pdf(), "image/png")}},  # the bytes say PDF
            {"json": {"file": "advice.pdf"}},
        ):
            r = await driver.api.post(proof_url, headers=maker, **kwargs)
            assert r.status_code == 422 and "file" in errors_of(r), r.text
        big = b"%PDF-1.4\n" + bytes(10 * 1024 * 1024)
        r = await driver.api.post(proof_url, headers=maker, files={"file": ("big.pdf", big, "application/pdf")})
        assert r.status_code == 413 and "file" in errors_of(r), r.text
        with db.unit_of_work() as s:
            assert s.get_one(OfflinePayment, cash_id).proof_key is None
        with db.unit_of_work() as s:  # nothing else was written
            rows = s.scalars(select(OfflinePayment.id).where(OfflinePayment.loan_id == loan_id)).all()
            assert set(rows) == {payment_id, cash_id}

        # a rejection needs a reason (free text, or one of the brand's reasons for PAYMENT_REJECTED)
        r = await decide(driver, "reject", payment_id)
        assert r.status_code == 422 and "reason" in errors_of(r)
        r = await decide(driver, "reject", payment_id, reasonCode="POLICY_DECLINE")  # a reason for loans, not this
        assert r.status_code == 422 and "reasonCode" in errors_of(r)
        r = await decide(driver, "reject", payment_id, reason="UTR not in the bank statement of that day")
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "REJECTED" and r.json()["reason"] == "UTR not in the bank statement of that day"
        assert (await decide(driver, "approve", payment_id)).status_code == 409
        assert (await decide(driver, "reject", payment_id, reason="again")).status_code == 409
        # rejected: nothing credited, the reference stays used
        staff = await driver.staff_headers(CHECKER)
        body = (await driver.api.get(f"{base(driver)}/loans/{loan_id}/payments", headers=staff)).json()
        assert body["payments"] == [] and {o["id"]: o["status"] for o in body["offline"]}[payment_id] == "REJECTED"
        assert (await record(driver, loan_id, reference=utr)).status_code == 409
        queue = await driver.api.get(f"{base(driver)}/payment/approval", params={"status": "REJECTED"}, headers=staff)
        assert [i["id"] for i in queue.json()["items"]] == [payment_id]
        queue = await driver.api.get(f"{base(driver)}/payment/approval", params={"status": "ALL"}, headers=staff)
        assert [(i["id"], i["status"]) for i in queue.json()["items"]] == [
            (payment_id, "REJECTED"),
            (cash_id, "PENDING"),
        ]
        # a new brand starts with reasons for a payment's rejection; one the brand adds is offered and recorded too
        offered = await driver.api.get(
            f"{base(driver)}/status-reasons", params={"appliesTo": "PAYMENT_REJECTED"}, headers=staff
        )
        assert {"NOT_IN_STATEMENT", "AMOUNT_MISMATCH", "PROOF_UNCLEAR"} <= {r["code"] for r in offered.json()}, offered
        await driver.partner(
            "ADMIN",
            "POST",
            "/settings/status-reasons",
            json={"code": "CASH_NOT_DEPOSITED", "label": "Cash not deposited", "statuses": ["PAYMENT_REJECTED"]},
        )
        r = await decide(driver, "reject", cash_id, reasonCode="CASH_NOT_DEPOSITED")
        assert r.status_code == 200 and r.json()["reason"].startswith("CASH_NOT_DEPOSITED: Cash not deposited"), r.text
        bad = ({"status": "DONE"}, {"paidFrom": "yesterday"}, {"loanId": "42"}, {"limit": 0}, {"page": "2.0"})
        for params in (*bad, {"limit": "1.5"}):  # pages are whole numbers: "2.0" is not taken for 2
            r = await driver.api.get(f"{base(driver)}/payment/approval", params=params, headers=staff)
            assert r.status_code == 422 and set(errors_of(r)) == set(params), (params, r.text)
        reversed_range = {"paidFrom": "2026-12-08", "paidTo": "2026-12-01"}  # an empty page would hide the slip
        r = await driver.api.get(f"{base(driver)}/payment/approval", params=reversed_range, headers=staff)
        assert r.status_code == 422 and set(errors_of(r)) == {"paidFrom"} and "after paidTo" in r.text, r.text
        assert r.json()["message"].startswith("paidFrom: "), r.text  # as a request's validation errors read
    finally:
        await driver.close()


async def test_another_brands_staff_can_neither_see_nor_decide(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    other_code = f"t{uuid.uuid4().hex[:8]}"
    seed_brand(db, sandbox.url, code=other_code, name=f"Test {other_code}", period_seconds=2)
    other = Driver(app.api.url, sandbox.url, other_code)
    try:
        _, loan_id = await disbursed_loan(driver)
        r = await record(driver, loan_id)
        payment_id = r.json()["id"]
        assert (await attach_proof(driver, payment_id)).status_code == 200
        headers = await other.staff_headers("ADMIN")
        mine, theirs = base(driver), base(other)
        for prefix in (mine, theirs):  # A's brand in the path (not theirs), or their own brand with A's ids
            assert (await other.api.get(f"{prefix}/payment/proof/{payment_id}", headers=headers)).status_code == 404
            assert (await other.api.get(f"{prefix}/loans/{loan_id}/payments", headers=headers)).status_code == 404
            for action in ("approve", "reject"):
                body = {"reason": "x"} if action == "reject" else {}
                r = await other.api.post(f"{prefix}/payment/{action}/{payment_id}", json=body, headers=headers)
                assert r.status_code == 404, r.text
            r = await other.api.post(
                f"{prefix}/loans/{loan_id}/payments/offline",
                json={"amount": "1.00", "paidOn": today(), "mode": "NEFT", "reference": neft_utr()},
                headers=headers,
            )
            assert r.status_code == 404, r.text
        queue = await other.api.get(f"{theirs}/payment/approval", headers=headers)
        assert queue.status_code == 200 and queue.json()["items"] == []
        with db.unit_of_work() as s:
            assert s.get_one(OfflinePayment, payment_id).status == "PENDING"
    finally:
        await driver.close()
        await other.close()


async def test_a_payment_approved_after_the_loan_closed_becomes_its_credit_balance(  # noqa: ANN001
    app, brand, sandbox, db
) -> None:
    """Recorded while the loan was being repaid, approved after the borrower paid it off by link: the loan's
    workflow has finished, so the money is kept as the loan's credit balance, owed back to the borrower."""
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        customer, loan_id = await disbursed_loan(driver, product="DEMO-FAST", tenure=1)
        r = await record(driver, loan_id, amount="250.00")
        assert r.status_code == 201, r.text
        payment_id = r.json()["id"]
        assert (await attach_proof(driver, payment_id)).status_code == 200
        journey = Journey(loan_id=loan_id)
        detail = await driver.loan(customer, loan_id)
        journey = await driver.repay(customer, journey, detail, time.monotonic() + 120, time.monotonic())
        assert journey.status == "COMPLETED"
        r = await decide(driver, "approve", payment_id)
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["creditedAs"]) == ("APPROVED", "CREDIT_BALANCE")
        body = (
            await driver.api.get(
                f"{base(driver)}/loans/{loan_id}/payments", headers=await driver.staff_headers(CHECKER)
            )
        ).json()
        (kept,) = [p for p in body["payments"] if p["paymentId"] == payment_id]
        assert kept["gateway"] == "offline" and kept["allocation"]["excessPaise"] == 250_00
        assert body["creditBalancePaise"] >= 250_00
        assert (await decide(driver, "approve", payment_id)).status_code == 409
    finally:
        await driver.close()


async def test_an_offline_payment_of_the_foreclosure_quote_forecloses_the_loan(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """A borrower who forecloses by NEFT pays today's quote: interest to date and the product's charge, all
    principal. Approved, it closes the loan as FORECLOSED, as the borrower's own foreclosure link does, with nothing
    left over: not the later periods' interest charged in full and the difference kept as a credit balance to
    refund."""
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        _, loan_id = await disbursed_loan(driver)
        staff = await driver.staff_headers(CHECKER)
        r = await driver.api.get(f"{base(driver)}/loans/{loan_id}/foreclosure-quote", headers=staff)
        assert r.status_code == 200, r.text
        quote = r.json()
        assert quote["principal"] == 50_000_00 and quote["total"] < 50_000_00 + 6 * 1_000_00
        payment = await credited_offline(driver, loan_id, amount=f"{quote['total'] / 100:.2f}")
        assert payment["amountPaise"] == quote["total"] and payment["allocation"]["excessPaise"] == 0

        def closed() -> tuple | None:
            with db.unit_of_work() as s:
                loan = s.get_one(Loan, loan_id)
                return (loan.status, loan.closed_as) if loan.status == "COMPLETED" else None

        assert await eventually(closed, timeout=30, interval=0.2) == ("COMPLETED", "FORECLOSED")
        body = (await driver.api.get(f"{base(driver)}/loans/{loan_id}/payments", headers=staff)).json()
        assert body["creditBalancePaise"] == 0
        assert payment["allocation"]["principalPaise"] == 50_000_00
    finally:
        await driver.close()


async def test_a_cooling_off_exit_paid_by_neft_cancels_the_loan_without_penalty(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """Within the cooling-off period the borrower exits by paying principal plus the proportionate APR cost (RBI
    Digital Lending Directions), here by NEFT to the lender's account: recorded with ``purpose`` COOLING_OFF and
    approved, the loan is CANCELLED (COOLING_OFF_EXIT) with no foreclosure charge and its ledger balanced. Less than
    the exit amount, or an exit once a repayment was made, is refused naming the field; nothing is recorded."""
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        customer, loan_id = await disbursed_loan(driver)
        offer = (await driver.api.get(f"/api/v1/web/loans/{loan_id}/cooling-off-exit", headers=customer)).json()
        assert offer["available"], offer
        exit_amount = offer["amount"]
        short = await record(driver, loan_id, amount=f"{(exit_amount - 100) / 100:.2f}", purpose="COOLING_OFF")
        assert short.status_code == 422 and "amount" in errors_of(short), short.text
        assert "less than the cooling-off exit amount" in errors_of(short)["amount"]
        over = await record(driver, loan_id, amount=f"{(exit_amount + 100) / 100:.2f}", purpose="COOLING_OFF")
        assert over.status_code == 422 and "cooling-off exit amount" in errors_of(over)["amount"], over.text
        bad = await record(driver, loan_id, amount="100.00", purpose="EXIT")
        assert bad.status_code == 422 and "purpose" in errors_of(bad)
        with db.unit_of_work() as s:
            assert s.scalars(select(OfflinePayment).where(OfflinePayment.loan_id == loan_id)).all() == []

        r = await record(driver, loan_id, amount=f"{exit_amount / 100:.2f}", purpose="COOLING_OFF")
        assert r.status_code == 201 and r.json()["purpose"] == "COOLING_OFF", r.text
        payment_id = r.json()["id"]
        assert (await attach_proof(driver, payment_id)).status_code == 200
        queue = await driver.api.get(f"{base(driver)}/payment/approval", headers=await driver.staff_headers(CHECKER))
        assert {p["id"]: p["purpose"] for p in queue.json()["items"]}[payment_id] == "COOLING_OFF"
        assert (await decide(driver, "approve", payment_id)).status_code == 200

        def ended() -> tuple | None:
            with db.unit_of_work() as s:
                loan = s.get_one(Loan, loan_id)
                return (loan.status, loan.closed_as, loan.total_collected) if loan.status == "CANCELLED" else None

        assert await eventually(ended, timeout=30, interval=0.2) == ("CANCELLED", "COOLING_OFF_EXIT", exit_amount)
        with db.unit_of_work() as s:
            net = _ledger_net(s, loan_id)
            assert sum(net.values()) == 0 and net["LOAN_PRINCIPAL_RECEIVABLE"] == 0, net
            txn_kinds = s.scalars(select(LedgerTransaction.kind).where(LedgerTransaction.loan_id == loan_id)).all()
            assert "FEE_CHARGE" not in txn_kinds, txn_kinds  # no foreclosure charge: the exit is without penalty
    finally:
        await driver.close()


async def test_a_cooling_off_exit_is_refused_once_a_repayment_was_made(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """The exit is open only until something is repaid. An exit recorded before a repayment was credited is asked
    again at approval: refused (409 naming ``purpose``, nothing changed), then approved as a prepayment when the
    checker says so, which pays the loan off as any prepayment would, not as an exit (never CANCELLED). Recording one
    after it is refused."""
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        customer, loan_id = await disbursed_loan(driver)
        offer = (await driver.api.get(f"/api/v1/web/loans/{loan_id}/cooling-off-exit", headers=customer)).json()
        r = await record(driver, loan_id, amount=f"{offer['amount'] / 100:.2f}", purpose="COOLING_OFF")
        assert r.status_code == 201, r.text
        exit_id = r.json()["id"]
        assert (await attach_proof(driver, exit_id)).status_code == 200
        await credited_offline(driver, loan_id, amount="1000.00")  # a repayment credited before the exit's approval

        late = await record(driver, loan_id, amount="50000.00", purpose="COOLING_OFF", allowExcess=True)
        assert late.status_code == 422, late.text
        assert "a repayment has already been made" in errors_of(late)["purpose"]

        refused = await decide(driver, "approve", exit_id)
        assert refused.status_code == 409 and "a repayment has already been made" in errors_of(refused)["purpose"]
        assert '"purpose": "PREPAYMENT"' in refused.json()["message"], refused.text
        with db.unit_of_work() as s:
            assert s.get_one(OfflinePayment, exit_id).status == "PENDING"  # nothing changed
        assert (await decide(driver, "approve", exit_id, purpose="COOLING_OFF")).status_code == 422  # only PREPAYMENT
        approved = await decide(driver, "approve", exit_id, purpose="PREPAYMENT")
        assert approved.status_code == 200, approved.text
        assert (approved.json()["purpose"], approved.json()["status"]) == ("PREPAYMENT", "APPROVED")

        def ended() -> tuple | None:
            with db.unit_of_work() as s:
                loan = s.get_one(Loan, loan_id)
                return (loan.status, loan.closed_as) if loan.status in ("COMPLETED", "OVERPAID", "CANCELLED") else None

        status, closed_as = await eventually(ended, timeout=30, interval=0.2)
        assert status != "CANCELLED" and closed_as != "COOLING_OFF_EXIT"  # applied as a prepayment: all principal paid
    finally:
        await driver.close()


async def test_interest_paid_ahead_is_credited_when_the_loan_is_foreclosed(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """₹1,000 paid on the day of disbursal goes to installment 1's interest, a month before it is due; foreclosed the
    same day, no day of interest was earned. The quote credits that ₹1,000 (``interestCredit``), the borrower pays
    the principal less it plus the charge, and the books keep no interest income: the ledger moves it to principal
    (INTEREST_CREDIT) and the installments show it paid as principal."""
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        _, loan_id = await disbursed_loan(driver)
        early = await credited_offline(driver, loan_id, amount="1000.00")
        assert early["allocation"]["interestPaise"] == 1_000_00  # the current installment's interest, not yet due
        staff = await driver.staff_headers(CHECKER)
        quote = (await driver.api.get(f"{base(driver)}/loans/{loan_id}/foreclosure-quote", headers=staff)).json()
        assert quote["interestCredit"] == 1_000_00 and quote["interest"] == 0, quote
        assert quote["total"] == 50_000_00 - 1_000_00 + quote["charge"] + quote["chargeGst"]
        closing = await credited_offline(driver, loan_id, amount=f"{quote['total'] / 100:.2f}")

        def closed() -> tuple | None:
            with db.unit_of_work() as s:
                loan = s.get_one(Loan, loan_id)
                return (loan.status, loan.closed_as, loan.total_collected) if loan.status == "COMPLETED" else None

        collected = 50_000_00 + quote["charge"] + quote["chargeGst"]
        assert await eventually(closed, timeout=30, interval=0.2) == ("COMPLETED", "FORECLOSED", collected)

        # the foreclosing payment's receipt states the credit apart from its allocation (which adds up to the amount)
        from tests.integration.test_customer_payments_api import after, pdf_texts  # noqa: PLC0415 - it imports this

        texts = pdf_texts(await eventually(lambda: _receipt_ready(driver, loan_id, closing["id"]), 30, 0.25))
        assert after(texts, "Interest paid ahead, credited to principal") == "Rs. 1,000.00"
        assert after(texts, "Principal outstanding after this payment") == "Rs. 0.00"
        assert after(texts, "Amount received") == rupees(quote["total"])
        with db.unit_of_work() as s:  # read per payment: the earlier one, whose interest was moved, credited none
            assert interest_credited(s, "offline", closing["paymentId"]) == 1_000_00
            assert interest_credited(s, "offline", early["paymentId"]) == 0
        with db.unit_of_work() as s:
            net = _ledger_net(s, loan_id)
            assert sum(net.values()) == 0
            assert net.get("INTEREST_INCOME", 0) == 0 and net["LOAN_PRINCIPAL_RECEIVABLE"] == 0, net
            rows = s.scalars(select(RepaymentInstallment).where(RepaymentInstallment.loan_id == loan_id)).all()
            assert sum(r.interest_paid for r in rows) == 0 and sum(r.principal_paid for r in rows) == 50_000_00
            assert {r.status for r in rows} == {"PAID"}
    finally:
        await driver.close()


async def _receipt_ready(driver: Driver, loan_id: str, payment_id: str) -> bytes | None:
    """The staff copy of a payment's receipt PDF once it is stored, else None."""
    staff = await driver.staff_headers(CHECKER)
    r = await driver.api.get(f"{base(driver)}/loans/{loan_id}/receipts/{payment_id}", headers=staff)
    return r.content if r.status_code == 200 else None


def _ledger_net(session: Any, loan_id: str) -> dict[str, int]:
    """The loan's ledger as account → net paise (debit positive)."""
    legs = session.execute(
        select(LedgerEntry.account, LedgerEntry.amount)
        .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
        .where(LedgerTransaction.loan_id == loan_id)
    ).all()
    net: dict[str, int] = {}
    for account, amount in legs:
        net[account] = net.get(account, 0) + amount
    return net
