"""The receipt sweep's workflow (workflows/receipt_sweep.py) against stub activities: each payment without a receipt
gets the loan's own ``issue_receipt_and_notify`` request (its notice key, amount, payment id and the day the money
came), a receipt that fails is counted and the next is tried, and five failures in a row end the run (the next run
tries again). The real database's side: tests/integration/test_receipt_sweep.py."""

from __future__ import annotations

import uuid

from temporalio.worker import Worker

from tests.workflows.stubs import StubActivities
from workflows.contracts import ReceiptNotice, UnreceiptedPayment
from workflows.receipt_sweep import BATCH, GIVE_UP_AFTER, GRACE, LOOKBACK, ReceiptSweepWorkflow


def _payments(count: int) -> list[UnreceiptedPayment]:
    return [UnreceiptedPayment(f"loan-{i}", "razorpay", f"pay_{i}", 1_000_00 + i, "2026-12-05") for i in range(count)]


async def _sweep(env, stubs: StubActivities) -> dict:  # noqa: ANN001
    queue = f"sweep-{uuid.uuid4().hex[:8]}"
    async with Worker(env.client, task_queue=queue, workflows=[ReceiptSweepWorkflow], activities=stubs.all()):
        return await env.client.execute_workflow(
            ReceiptSweepWorkflow.run, id=f"receipt-sweep-{uuid.uuid4().hex[:8]}", task_queue=queue
        )


async def test_each_payment_gets_its_loans_own_receipt_request_and_a_failure_is_passed_over(env) -> None:  # noqa: ANN001
    stubs = StubActivities()
    stubs.unreceipted = _payments(3)
    stubs.failing_receipts = {"pay_1"}
    assert await _sweep(env, stubs) == {"issued": 2, "failed": 1}

    (window,) = stubs.of("payments_without_receipt")
    assert (window.before - window.since, window.limit) == (LOOKBACK - GRACE, BATCH)
    assert [r.payment_id for r in stubs.of("receipt_failed")] == ["pay_1"]
    (first, third) = stubs.of("issue_receipt")
    assert (first.loan_id, first.gateway, first.payment_id) == ("loan-0", "razorpay", "pay_0")
    assert third.payment_id == "pay_2"
    notices = stubs.of("send_notice")
    # the key and values the loan's workflow uses (workflows.money_in), so a notice it sent is not sent again
    assert [(n.key, n.event) for n in notices] == [
        ("loan-0:paid:razorpay:pay_0", "PAYMENT_RECEIVED"),
        ("loan-2:paid:razorpay:pay_2", "PAYMENT_RECEIVED"),
    ]
    assert notices[0].values == {
        "amount": 1_000_00,
        "paymentId": "pay_0",
        "paidOn": "2026-12-05",
        "receiptNo": "R-pay_0",
    }


async def test_five_failures_in_a_row_end_the_run(env) -> None:  # noqa: ANN001
    stubs = StubActivities()
    stubs.unreceipted = _payments(GIVE_UP_AFTER + 2)
    stubs.failing_receipts = {f"pay_{i}" for i in range(GIVE_UP_AFTER)}
    assert await _sweep(env, stubs) == {"issued": 0, "failed": GIVE_UP_AFTER}
    assert stubs.of("issue_receipt") == []  # the two after them are left for the next run
    assert all(isinstance(r, ReceiptNotice) for r in stubs.of("receipt_failed"))


async def test_nothing_to_issue(env) -> None:  # noqa: ANN001
    stubs = StubActivities()
    assert await _sweep(env, stubs) == {"issued": 0, "failed": 0}
    assert len(stubs.of("payments_without_receipt")) == 1
