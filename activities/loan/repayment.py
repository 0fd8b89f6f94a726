"""Repayment: payments applied (ledger, installments, re-amortised schedule, the loan's balances), penal charges,
overdue installments and the loan's delinquency (DPD and RBI asset class). Payment links: ``activities.loan.links``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session
from temporalio import activity

from activities.loan import queries, schedule_queries
from activities.loan.common import LoanBase
from activities.loan.status import record_system_move
from activities.receipts import unrecordable
from db.collections import apply_payment_to_promises
from db.receipts import column_text, payment_posting_key
from domain import ledger
from domain.errors import ValidationError
from domain.outcomes import PaymentStatus
from los import metrics
from workflows.contracts import (
    DelinquencyRecord,
    OverdueRecord,
    PaymentPart,
    PaymentRecord,
    PenalLevy,
)
from workflows.options import IST


class RepaymentActivities(LoanBase):
    # ------------------------------------------------------------------ payments
    @activity.defn
    async def record_payment(self, rec: PaymentRecord) -> None:
        """Record one payment the loan applied, once per gateway payment id, in one transaction: the payment row
        (its parts, mode, reference, principal left), promises to pay it keeps, the ledger (fees, then the
        repayment split; a backdated payment's reversed penal charges first, ``rec.penal_reversed``; a foreclosure's
        interest credited to principal, ``rec.interest_credited``), each
        installment's paid amounts, a re-amortised schedule, its links marked paid, the loan's balances and the
        status move it makes (``rec.status_change``). A payment id already recorded writes nothing but the move.
        ``ActivityError`` non-retryable (``unrecordable``) when the database refuses its values."""

        def write(session: Session) -> tuple[str | None, tuple[str, int] | None]:
            # (the brand id when the payment is newly credited, else None; the move's (brand id, amount) when newly
            # recorded, else None)
            pay = rec.payment
            parts = rec.parts or [PaymentPart(n, interest=i, principal=p) for n, i, p in rec.allocations]
            totals = {k: sum(getattr(p, k) for p in parts) for k in ("penal", "fees", "interest", "principal")}
            inserted = schedule_queries.insert_payment(
                session,
                loan_id=rec.loan_id,
                gateway=pay.gateway,
                gateway_payment_id=pay.payment_id,
                amount=pay.amount,
                principal_part=totals["principal"] + rec.advance_principal,
                interest_part=totals["interest"],
                fees_part=totals["fees"],
                penal_part=totals["penal"],
                advance_part=rec.advance_principal,
                excess_part=rec.excess,
                status=PaymentStatus.SUCCESS,
                # For the receipt: how it was paid and the principal left after it (text cut to the columns and
                # without NUL, so an odd gateway reference never stops the payment being recorded).
                mode=column_text(pay.mode, 20),
                reference=column_text(pay.reference, 80),
                outstanding_after=rec.outstanding_principal,
            )
            if inserted is None:  # this payment id was already applied; the move it makes is recorded all the same
                return None, _move(session)  # (a run whose payment committed before the patch took it, retried)
            # promises to pay this payment keeps (docs/collections.md), once: only when newly recorded
            paid_on = rec.value_date or pay.paid_on or datetime.now(IST).date()
            apply_payment_to_promises(session, rec.loan_id, pay.amount, paid_on)
            key = payment_posting_key(pay.gateway, pay.payment_id)
            if rec.penal_reversed:  # backdated: charges levied after its value date, reversed before it is applied
                reversal = ledger.waiver(penal=sum(paise for _, paise in rec.penal_reversed))
                # dated today, after the levies it reverses (the value date would precede them)
                if queries.post_ledger(session, rec.loan_id, f"{key}:penal-reversed", reversal):
                    for number, paise in rec.penal_reversed:
                        schedule_queries.add_penal(session, rec.loan_id, number, -paise)
            if totals["fees"]:  # installment fees (and a foreclosure charge, with its GST) recognised when collected
                fee_txn = ledger.fee_charge(totals["fees"] - rec.fees_gst, rec.fees_gst)
                queries.post_ledger(session, rec.loan_id, f"{key}:fees", fee_txn, rec.value_date)
            # Interest on the cash basis (credited to income when collected); the penal receivable was
            # raised when the charge was levied.
            txn = ledger.repayment_split(
                principal=totals["principal"] + rec.advance_principal,
                interest=totals["interest"],
                fees=totals["fees"],
                penal=totals["penal"],
                excess=rec.excess,
                accrued_interest=rec.accrued_interest,  # accrual basis: what was posted receivable at period end
            )
            queries.post_ledger(session, rec.loan_id, key, txn, rec.value_date)
            now = datetime.now(UTC)
            for number, interest, fees in rec.reshaped:  # a foreclosure or cooling-off exit closes these periods
                schedule_queries.reshape_installment(session, rec.loan_id, number, interest=interest, fees=fees)
            settled_by_credit = []
            if rec.interest_credited:  # interest paid for days after a foreclosure, counted as principal
                moved = sum(principal for _, _, principal in rec.interest_credited)
                queries.post_ledger(session, rec.loan_id, f"{key}:interest-credit", ledger.interest_credit(moved),
                                    rec.value_date)  # fmt: skip
                settled_by_credit = [
                    number
                    for number, interest, principal in rec.interest_credited
                    if schedule_queries.shift_paid(session, rec.loan_id, number, interest=interest, principal=principal)
                ]
            paid = [
                part.number
                for part in parts
                if schedule_queries.pay_installment(
                    session, rec.loan_id, part.number, penal=part.penal, fees=part.fees, interest=part.interest,
                    principal=part.principal, now=now,
                )
            ]  # fmt: skip
            if rec.rescheduled_from is not None:
                # An advance to principal re-amortised the future: replace those rows.
                schedule_queries.delete_installments_from(session, rec.loan_id, rec.rescheduled_from)
                schedule_queries.add_installments(session, rec.loan_id, rec.rescheduled, rec.outstanding_principal)
            # links after every installment row this payment touches (the order ensure_payment_link locks in): the
            # one paid, and every link of an installment now paid in full
            schedule_queries.links_paid(
                session, rec.loan_id, link_id=pay.link_id, installments=[*paid, *settled_by_credit]
            )
            if not pay.link_id and pay.purpose and pay.purpose != "INSTALLMENT":  # a one-off link: purpose, amount
                schedule_queries.one_off_link_paid(session, rec.loan_id, pay.gateway, pay.purpose, pay.amount)
            brand_id = queries.credit_loan(
                session, rec.loan_id, pay.amount, outstanding_principal=rec.outstanding_principal,
                next_due_at=rec.next_due_at,
            )  # fmt: skip
            return brand_id, _move(session)

        def _move(session: Session) -> tuple[str, int] | None:
            # the move this payment makes (arrears cleared), in its transaction (STATUS_WITH_PAYMENT_PATCH); once
            return record_system_move(session, rec.status_change) if rec.status_change is not None else None

        try:
            written = await self._tx(write)
        except (DataError, ValidationError) as exc:  # retrying cannot fix these: the workflow parks the payment
            raise unrecordable(exc) from exc
        brand_id, moved = written
        if brand_id is not None:  # newly credited (docs/observability.md)
            metrics.payment_credited(brand_id, rec.payment.gateway, rec.payment.amount)
        if moved is not None and rec.status_change is not None:
            metrics.status_moved(moved[0], rec.status_change.from_status, rec.status_change.to_status, moved[1])

    # ------------------------------------------------------------------ penal charges and delinquency
    @activity.defn
    async def levy_penal(self, levy: PenalLevy) -> None:
        """A penal charge on an overdue installment: its own receivable, never principal or interest."""

        def write(session: Session) -> None:
            # the workflow's key names the installment and the days; the loan's id makes it unique in the ledger
            # (ledger_transactions.idempotency_key is unique across every loan)
            key = f"loan-{levy.loan_id}:{levy.key}"
            if not queries.post_ledger(session, levy.loan_id, key, ledger.penal_charge(levy.amount)):
                return
            schedule_queries.add_penal(session, levy.loan_id, levy.installment_no, levy.amount)

        await self._tx(write)

    @activity.defn
    async def record_delinquency(self, rec: DelinquencyRecord) -> None:
        def write(session: Session) -> None:
            values: dict[str, Any] = {"dpd": rec.dpd, "asset_class": rec.asset_class}
            if rec.class_changed and rec.as_of is not None:
                values["asset_class_since"] = rec.as_of
            queries.update_loan(session, rec.loan_id, **values)

        await self._tx(write)

    @activity.defn
    async def mark_overdue(self, rec: OverdueRecord) -> None:
        def write(session: Session) -> None:
            schedule_queries.mark_overdue(session, rec.loan_id, rec.installment_no)

        await self._tx(write)
