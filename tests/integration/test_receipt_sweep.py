"""The receipt sweep (workflows/receipt_sweep.py, schedule ``receipt-sweep``) on the real database and Temporal dev
server: money kept as a credit balance after closure and as a recovery after a write-off, recorded where no loan
workflow issues a receipt (``db.receipts.record_credit_balance``, as the webhook intake and an offline approval
record it), gets its receipt and the borrower's notice from the sweep's run, once; a payment too recent is left to
its loan; ``LOS_RECEIPT_SWEEP_EVERY_SECONDS=0`` registers no schedule."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from temporalio.worker import Worker

from activities.loan import LoanActivities
from activities.messaging.send import Sender
from activities.storage import LocalStorage
from db import receipts
from db.models import (
    Customer,
    CustomerMessage,
    Loan,
    LoanProduct,
    OfflinePayment,
    PaymentTransaction,
    StaffBrandRole,
)
from los.outbound import outbound_client
from los.settings import Settings
from tests.integration.test_customer_payments_api import after, pdf_texts
from worker import scheduled_job
from workflows.contracts import ReceiptSweepWindow
from workflows.options import IST
from workflows.receipt_sweep import GRACE, LOOKBACK, SCHEDULE_ID, ReceiptSweepWorkflow


def _loan(db, brand: dict, status: str) -> str:  # noqa: ANN001
    """A loan row in ``status`` of a customer of its own, with an email for the notice; its id."""
    with db.unit_of_work() as s:
        customer = Customer(
            brand_id=brand["brand_id"], phone=f"9{uuid.uuid4().int % 10**9:09d}", full_name="Asha Verma",
            email=f"asha-{uuid.uuid4().hex[:6]}@example.com",
        )  # fmt: skip
        s.add(customer)
        s.flush()
        product = s.scalars(select(LoanProduct).where(LoanProduct.brand_id == brand["brand_id"])).first()
        assert product is not None
        loan = Loan(
            brand_id=brand["brand_id"], customer_id=customer.id, product_id=product.id,
            workflow_id=f"loan-receipts-{uuid.uuid4()}", amount=5_000_000, tenure=3, annual_rate_bps=2400,
            status=status,
        )  # fmt: skip
        s.add(loan)
        s.flush()
        return loan.id


def _kept(db, loan_id: str, amount: int, age: timedelta, **how: str) -> str:  # noqa: ANN001
    """A payment of ``amount`` paise recorded for ``loan_id`` as the intake records one no workflow takes, collected
    ``age`` ago (``how``: its mode and reference); its gateway payment id."""
    payment_id = f"pay_{uuid.uuid4().hex[:14]}"
    with db.unit_of_work() as s:
        assert receipts.record_credit_balance(
            s, loan_id, gateway="razorpay", payment_id=payment_id, amount=amount, **how
        )
        s.execute(
            update(PaymentTransaction)
            .where(PaymentTransaction.gateway_payment_id == payment_id)
            .values(collected_at=datetime.now(UTC) - age)
        )
    return payment_id


def _row(db, payment_id: str) -> PaymentTransaction:  # noqa: ANN001
    with db.unit_of_work() as s:
        row = s.scalars(select(PaymentTransaction).where(PaymentTransaction.gateway_payment_id == payment_id)).one()
        s.expunge(row)
        return row


def _notices(db, loan_id: str) -> int:  # noqa: ANN001
    with db.unit_of_work() as s:
        return s.scalar(
            select(func.count())
            .select_from(CustomerMessage)
            .where(CustomerMessage.loan_id == loan_id, CustomerMessage.event == "PAYMENT_RECEIVED")
        )


async def test_money_kept_after_a_loan_ended_gets_its_receipt_and_notice_once(  # noqa: ANN001
    dev_env, db, brand, storage_dir
) -> None:
    closed, written_off = _loan(db, brand, "CLOSED"), _loan(db, brand, "WRITTEN_OFF")
    # the oldest payments the sweep still takes, so this test's come first in its oldest-first batch
    age = LOOKBACK - timedelta(minutes=30)
    excess = _kept(db, closed, 1_234_00, age, mode="UPI", reference="UTR5566778899")
    recovery = _kept(db, written_off, 7_500_00, age)
    recent = _kept(db, closed, 500_00, GRACE / 2)  # left to its loan's workflow this time
    assert _row(db, recovery).mode == "RECOVERY" and _row(db, excess).excess_part == 1_234_00
    assert all(_row(db, p).receipt_key is None for p in (excess, recovery, recent))

    settings = Settings()
    queue = f"receipts-{uuid.uuid4().hex[:8]}"
    async with outbound_client(settings, timeout=10) as http:
        # the closed loan's workflow had sent the notice already, without a receipt number (its receipt failed for
        # good): the sweep issues the receipt and sends nothing more
        key = f"{closed}:paid:razorpay:{excess}"
        values = {"amount": 1_234_00, "paymentId": excess, "receiptNo": None}
        await Sender(db, http, settings.api_url).notice(closed, "PAYMENT_RECEIVED", key, values)
        kinds = _notices(db, closed)
        assert kinds >= 1  # one message of each kind the brand sends for it
        activities = LoanActivities(db, http, LocalStorage(storage_dir), None, settings.api_url).all()
        async with Worker(dev_env.client, task_queue=queue, workflows=[ReceiptSweepWorkflow], activities=activities):
            out = await dev_env.client.execute_workflow(
                ReceiptSweepWorkflow.run, id=f"receipt-sweep-{uuid.uuid4().hex[:8]}", task_queue=queue
            )
            assert out["issued"] >= 2  # these two, and any other test's payment left without one

            code = brand["brand_code"].upper()
            for payment_id, amount, line, mode, reference in (
                (excess, "Rs. 1,234.00", "Excess (credit balance)", "UPI", "UTR5566778899"),
                (recovery, "Rs. 7,500.00", "Recovery on the written-off loan", "RECOVERY", "-"),
            ):
                row = _row(db, payment_id)
                assert row.receipt_no and row.receipt_no.startswith(f"{code}/") and row.receipt_key
                texts = pdf_texts((storage_dir / row.receipt_key).read_bytes())
                assert after(texts, "Receipt no.") == row.receipt_no
                assert (after(texts, "Mode"), after(texts, "Reference")) == (mode, reference)
                assert after(texts, "Amount received") == amount
                assert after(texts, line) == amount  # the whole amount on its own line: the figures add up
            texts = pdf_texts((storage_dir / _row(db, excess).receipt_key).read_bytes())
            assert "Recovery on the written-off loan" not in texts  # only a recovery has that line
            assert _notices(db, closed) == kinds  # sent by its loan already: not again
            assert _notices(db, written_off) == kinds  # the recovery's notice, each kind once
            assert _row(db, recent).receipt_key is None  # within the grace: its loan's to issue

            # run again: nothing of these is issued or sent twice
            numbers = {p: _row(db, p).receipt_no for p in (excess, recovery)}
            sent = {loan: _notices(db, loan) for loan in (closed, written_off)}
            await dev_env.client.execute_workflow(
                ReceiptSweepWorkflow.run, id=f"receipt-sweep-{uuid.uuid4().hex[:8]}", task_queue=queue
            )
            assert {p: _row(db, p).receipt_no for p in (excess, recovery)} == numbers
            assert {loan: _notices(db, loan) for loan in (closed, written_off)} == sent


@pytest.mark.parametrize("every", [0, 600])
def test_the_sweep_runs_as_often_as_told_or_not_at_all(every: int) -> None:
    spec = scheduled_job(SCHEDULE_ID).spec(Settings(receipt_sweep_every_seconds=every))
    if every == 0:
        assert spec is None  # no schedule (an existing one deleted)
    else:
        assert spec is not None and [i.every for i in spec.intervals] == [timedelta(seconds=every)]
    assert Settings().receipt_sweep_every_seconds == 300


async def test_an_offline_payment_is_dated_by_its_value_date_in_the_sweeps_notice(db, brand, storage_dir) -> None:  # noqa: ANN001
    """An offline payment approved after its loan closed (kept as a credit balance, its id the ``offline_payments``
    row's) is dated by the value date ops recorded, not the day it was approved: the sweep's notice says that day, as
    its receipt does."""
    closed = _loan(db, brand, "CLOSED")
    value_date = (datetime.now(UTC) - LOOKBACK).astimezone(IST).date() - timedelta(days=5)
    with db.unit_of_work() as s:
        staff = s.scalar(select(StaffBrandRole.staff_id).where(StaffBrandRole.brand_id == brand["brand_id"]))
        offline = OfflinePayment(
            brand_id=brand["brand_id"], loan_id=closed, amount=2_000_00, paid_on=value_date, mode="NEFT",
            reference=f"UTR{uuid.uuid4().hex[:12]}", recorded_by=staff, status="APPROVED",
        )  # fmt: skip
        s.add(offline)
        s.flush()
        offline_id = str(offline.id)
        assert receipts.record_credit_balance(
            s, closed, gateway="offline", payment_id=offline_id, amount=2_000_00, mode="NEFT", reference="UTR1"
        )
    kept = _kept(db, closed, 300_00, LOOKBACK - timedelta(minutes=20))  # a gateway's: dated the day it came
    with db.unit_of_work() as s:  # approved within the sweep's window, as the oldest it takes
        s.execute(
            update(PaymentTransaction)
            .where(PaymentTransaction.gateway_payment_id == offline_id)
            .values(collected_at=datetime.now(UTC) - LOOKBACK + timedelta(minutes=20))
        )

    settings = Settings()
    async with outbound_client(settings, timeout=10) as http:
        activities = LoanActivities(db, http, LocalStorage(storage_dir), None, settings.api_url)
        now = datetime.now(UTC)
        found = await activities.payments_without_receipt(ReceiptSweepWindow(now - LOOKBACK, now - GRACE, 10_000))
    dated = {p.payment_id: p.collected_on for p in found if p.loan_id == closed}
    collected = (_row(db, kept).collected_at).astimezone(IST).date()
    assert dated == {offline_id: value_date.isoformat(), kept: collected.isoformat()}
