"""No rupee received is dropped, and no single payment blocks the ones behind it (real API, worker, Temporal
dev server, PostgreSQL and sandbox). Payments here are signalled to the workflow directly, as a gateway path
that skipped the webhook's own validation would: the workflow must hold up on its own."""

from __future__ import annotations

from sqlalchemy import func, select

from db.models import LedgerEntry, LedgerTransaction, Loan, ParkedPayment, PaymentTransaction
from domain import ledger
from los.demo import Driver
from tests.conftest import eventually
from tests.integration.test_staff_and_webhooks import _apply
from workflows.contracts import PaymentEvent
from workflows.loan import LoanWorkflow


async def _wait(driver: Driver, headers: dict, loan_id: str, check) -> dict:  # noqa: ANN001
    async def probe():  # noqa: ANN202
        loan = await driver.loan(headers, loan_id)
        return loan if check(loan) else None

    return await eventually(probe, timeout=60)


def _ledger_balanced(db, loan_id: str) -> bool:  # noqa: ANN001
    with db.unit_of_work() as s:
        sums = s.execute(
            select(func.sum(LedgerEntry.amount))
            .join(LedgerTransaction)
            .where(LedgerTransaction.loan_id == loan_id)
            .group_by(LedgerEntry.transaction_id)
        ).all()
        return bool(sums) and all(total == 0 for (total,) in sums)


async def test_malformed_payments_are_parked_and_later_ones_are_applied(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, loan = await _apply(driver, "auto")
        await _wait(driver, headers, loan["id"], lambda x: x["status"] == "SANCTIONED")
        await driver.accept_kfs(headers, loan["id"])
        pending = await _wait(
            driver, headers, loan["id"], lambda x: x["status"] == "AGREEMENT_PENDING" and x["agreement"]
        )
        await driver.sandbox.post(pending["agreement"]["signingUrl"])
        await _wait(driver, headers, loan["id"], lambda x: x["status"] == "AGREEMENT_SIGNED")
        await driver.staff_action("LOAN_EXECUTIVE", loan["id"], "approve-disbursal")
        await _wait(driver, headers, loan["id"], lambda x: x["status"] in ("DISBURSED", "OVERDUE"))

        handle = app.client.get_workflow_handle(loan["workflowId"])
        poison = [
            PaymentEvent("pay_absurd", 10_000_000_000_000_000_000, "razorpay"),  # beyond BIGINT
            PaymentEvent("pay_negative", -500, "razorpay"),
            PaymentEvent("pay_" + "x" * 200, 100_00, "razorpay"),  # the id is too long to record: refused for good
        ]
        for event in poison:
            await handle.signal(LoanWorkflow.payment_received, event)
        await handle.signal(LoanWorkflow.payment_received, PaymentEvent("pay_good", 1_000_00, "razorpay"))

        def parked() -> dict[str, ParkedPayment] | None:
            with db.unit_of_work() as s:
                rows = s.scalars(select(ParkedPayment).where(ParkedPayment.loan_id == loan["id"])).all()
                return {r.gateway_payment_id: r for r in rows} if len(rows) == 3 else None

        rows = await eventually(parked, timeout=60)
        assert set(rows) == {e.payment_id for e in poison}
        assert rows["pay_absurd"].amount == 10_000_000_000_000_000_000 and "implausible" in rows["pay_absurd"].reason
        assert "not positive" in rows["pay_negative"].reason
        assert "could not be recorded" in rows["pay_" + "x" * 200].reason
        assert all(r.status == "PARKED" for r in rows.values())

        def good_applied() -> PaymentTransaction | None:
            with db.unit_of_work() as s:
                return s.scalars(
                    select(PaymentTransaction).where(
                        PaymentTransaction.loan_id == loan["id"], PaymentTransaction.gateway_payment_id == "pay_good"
                    )
                ).first()

        good = await eventually(good_applied, timeout=60)
        assert good.amount == 1_000_00
        # a parked payment moved nothing: only the good one was collected, and the ledger balances
        with db.unit_of_work() as s:
            assert s.get_one(Loan, loan["id"]).total_collected == 1_000_00
        assert _ledger_balanced(db, loan["id"])
        # the same poisoned event again is not parked twice
        await handle.signal(LoanWorkflow.payment_received, poison[0])
        snapshot = await handle.query("snapshot")
        assert snapshot["total_collected"] == 1_000_00
        with db.unit_of_work() as s:
            count = s.scalar(select(func.count()).select_from(ParkedPayment).where(ParkedPayment.loan_id == loan["id"]))
            assert count == 3

        # staff see them on the loan, amounts as received
        staff = await driver.staff_headers("ADMIN")
        detail = await driver._ok(
            await driver.api.get(f"/api/v1/partner/brand/{brand['brand_id']}/loans/{loan['id']}", headers=staff)
        )
        shown = {p["paymentId"]: p for p in detail["parkedPayments"]}
        assert shown["pay_absurd"]["amountPaise"] == "10000000000000000000"
        assert shown["pay_absurd"]["status"] == "PARKED"
        assert set(shown) == set(rows)

        # the loan goes on to the end through its ordinary payment links
        paid: set[str] = set()
        while True:
            current = await _wait(
                driver,
                headers,
                loan["id"],
                lambda x: x["status"] == "COMPLETED" or (x.get("paymentLink") or {}).get("linkId") not in paid | {None},
            )
            if current["status"] == "COMPLETED":
                break
            paid.add(current["paymentLink"]["linkId"])
            (await driver.sandbox.post(current["paymentLink"]["url"])).raise_for_status()
    finally:
        await driver.close()


async def test_money_received_before_a_rejection_becomes_a_credit_balance(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        headers, loan = await _apply(driver, "review")
        await _wait(driver, headers, loan["id"], lambda x: x["status"] == "UNDER_REVIEW")
        handle = app.client.get_workflow_handle(loan["workflowId"])
        await handle.signal(LoanWorkflow.payment_received, PaymentEvent("pay_early", 2_500_00, "razorpay"))
        # one the database refuses for good (an id longer than its column): parked, and the loan still ends well
        await handle.signal(LoanWorkflow.payment_received, PaymentEvent("pay_" + "y" * 120, 700_00, "razorpay"))
        url = f"/api/v1/partner/brand/{brand['brand_id']}/loans/{loan['id']}"
        await driver._ok(
            await driver.api.post(f"{url}/forward", headers=await driver.staff_headers("CREDIT_EXECUTIVE"))
        )
        await driver._ok(
            await driver.api.post(
                f"{url}/reject",
                json={"reasonCode": "POLICY_DECLINE", "reason": "income not verified"},
                headers=await driver.staff_headers("SANCTION_MANAGER"),
            )
        )
        final = await _wait(driver, headers, loan["id"], lambda x: x["status"] == "REJECTED")
        assert final["status"] == "REJECTED"

        def recorded() -> PaymentTransaction | None:
            with db.unit_of_work() as s:
                return s.scalars(select(PaymentTransaction).where(PaymentTransaction.loan_id == loan["id"])).first()

        row = await eventually(recorded, timeout=30)
        assert (row.gateway_payment_id, row.amount, row.excess_part) == ("pay_early", 2_500_00, 2_500_00)
        with db.unit_of_work() as s:
            assert s.get_one(Loan, loan["id"]).total_collected == 2_500_00
            credit = s.scalar(
                select(func.sum(LedgerEntry.amount))
                .join(LedgerTransaction)
                .where(LedgerTransaction.loan_id == loan["id"], LedgerEntry.account == ledger.CUSTOMER_CREDIT)
            )
            assert credit == -2_500_00  # a liability: owed to the borrower
        assert _ledger_balanced(db, loan["id"])
        assert (await driver.loan(headers, loan["id"]))["creditBalancePaise"] == 2_500_00  # the borrower sees it
        result = await handle.result()
        assert result["status"] == "REJECTED"  # not FAILED
        with db.unit_of_work() as s:
            parked = s.scalars(select(ParkedPayment).where(ParkedPayment.loan_id == loan["id"])).one()
            assert parked.amount == 700_00 and "could not be recorded" in parked.reason
    finally:
        await driver.close()
