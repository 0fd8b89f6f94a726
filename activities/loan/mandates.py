"""Autopay mandates: the mandate's state as the gateway reports it, and each debit of it — recorded when the borrower
is told (the pre-debit notice), charged once at the gateway, and settled by the payment events.

Idempotent by key: a mandate event by the mandate's id and the transition it makes (a repeat changes nothing, a
cancelled or rejected mandate stays so); a debit by (loan, installment, attempt); a charge by the debit's id, which is
the receipt of its order at the gateway — a retried ``charge_mandate`` finds the order and the payment it made
instead of charging again. Money is integer paise.

NPCI's UPI Autopay rule: the customer is notified at least 24 hours before the debit; the workflow sets ``charge_at``
so (docs/money-in.md, "Autopay mandates"), and ``notify_mandate_debit`` logs a UPI debit notified later than that.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import providers
from activities.base import is_row_id
from activities.loan.common import LoanBase
from activities.providers.base import BusinessRefusal
from activities.providers.payments.mandate_base import DebitStatus
from db.mandates import apply_mandate_event
from db.models import Mandate, MandateDebit, ParkedPayment
from workflows.contracts import MandateDebitCheck, MandateDebitRequest, MandateDebitResult, MandateEvent

PRE_DEBIT_NOTICE = timedelta(hours=24)  # NPCI UPI Autopay: the pre-debit notification at least 24 h before
LIVE = ("CREATED", "ACTIVE", "PAUSED")  # a loan has at most one mandate in these
#: the statuses a debit outcome may move a debit from: money received always counts; a failure never undoes it
OUTCOME_FROM = {"CAPTURED": ("NOTIFIED", "SENT", "FAILED"), "FAILED": ("NOTIFIED", "SENT")}
REASON_MAX = 500


class MandateActivities(LoanBase):
    @activity.defn
    async def record_mandate_event(self, event: MandateEvent) -> str:
        """The gateway's word on a mandate (signal ``mandate_updated``) on its row; answers the mandate's status
        after it. A repeat, or a move a final mandate cannot make (e.g. confirmed after cancelled), changes nothing.
        ``ApplicationError`` NotFound (not retried) for an unknown mandate id."""
        status = None
        if is_row_id(event.mandate_id):
            status = await self._tx(lambda s: apply_mandate_event(s, event, datetime.now(UTC)))
        if status is None:
            raise ApplicationError(f"mandate {event.mandate_id} not found", type="NotFound", non_retryable=True)
        return status

    @activity.defn
    async def notify_mandate_debit(self, req: MandateDebitRequest) -> str:
        """Record the debit of ``req.amount`` paise for installment ``req.installment_no`` (try ``req.attempt``)
        when its pre-debit notice goes out (the notice itself is the workflow's notice activity): NOTIFIED with
        ``notified_at`` now and ``charge_at``; answers the debit's id, the same one on a retry. A mandate that is not
        ACTIVE records the debit SKIPPED with the reason (its charge answers FAILED). A UPI debit charged less than
        24 hours after its notice is logged (NPCI's rule; the workflow schedules it). ``ApplicationError`` NotFound
        (not retried) when the mandate is not the loan's."""
        now = datetime.now(UTC)

        def record(session: Session) -> str:
            mandate = session.get(Mandate, req.mandate_id)
            if mandate is None or mandate.loan_id != req.loan_id:
                raise ApplicationError(
                    f"mandate {req.mandate_id} is not loan {req.loan_id}'s", type="NotFound", non_retryable=True
                )
            found = _debit(session, req)
            if found is not None:
                return found.id
            if mandate.method == "UPI" and req.charge_at - now < PRE_DEBIT_NOTICE:
                # NPCI's 24 hours are the workflow's to keep (demo-speed loans run on seconds); a shorter notice on
                # a real loan is a finding for ops, not a reason to leave the installment uncollected
                activity.logger.warning("UPI debit %s/%s notified < 24 h ahead", req.loan_id, req.installment_no)
            live = mandate.status == "ACTIVE" and mandate.token_id
            session.execute(
                insert(MandateDebit)
                .values(
                    mandate_id=mandate.id,
                    loan_id=req.loan_id,
                    installment_no=req.installment_no,
                    attempt=req.attempt,
                    amount=req.amount,
                    due_date=req.due_date,
                    notified_at=now,
                    charge_at=req.charge_at,
                    status="NOTIFIED" if live else "SKIPPED",
                    failure_reason=None if live else f"the mandate is {mandate.status}",
                )
                .on_conflict_do_nothing(index_elements=["loan_id", "installment_no", "attempt"])
            )
            debit = _debit(session, req)
            assert debit is not None
            return debit.id

        return await self._tx(record)

    @activity.defn
    async def charge_mandate(self, req: MandateDebitRequest) -> MandateDebitResult:
        """Charge the debit recorded by ``notify_mandate_debit`` once, for ``req.amount`` paise but never more than
        was notified (the row keeps what was charged): SENT (its outcome comes as a payment event),
        or FAILED at once with the reason when the mandate is no longer ACTIVE or the gateway refuses. A debit
        charged before answers what it has without a call. A transient gateway fault is retried; the retry finds
        the order by the debit's id (its receipt) and never charges twice. ``ApplicationError`` NotNotified (not
        retried) when no debit was recorded for the request."""
        loan, customer, brand = await self._tx(self._context(req.loan_id))

        def load(session: Session) -> tuple[MandateDebit, Mandate]:
            debit = _debit(session, req)
            if debit is None:
                raise ApplicationError(
                    f"no debit recorded for installment {req.installment_no} try {req.attempt}",
                    type="NotNotified",
                    non_retryable=True,
                )
            return debit, session.get_one(Mandate, debit.mandate_id)

        debit, mandate = await self._tx(load)
        if debit.status == "SKIPPED":
            return MandateDebitResult(debit.id, DebitStatus.FAILED, debit.failure_reason)
        if debit.status != "NOTIFIED":
            return MandateDebitResult(debit.id, debit.status, debit.failure_reason)
        if mandate.status != "ACTIVE" or not mandate.token_id or not mandate.customer_ref:
            return await self._failed(debit.id, f"the mandate is {mandate.status}")
        amount = min(debit.amount, req.amount)  # never more than the notice said; less when less is due now
        notes = {
            "loan_id": loan.id,
            "mandate_debit_id": debit.id,
            "purpose": "INSTALLMENT",
            "installment_no": str(debit.installment_no),
        }
        try:
            gateway = providers.build("payments", brand.config, self.http, vendor=mandate.provider)
            charge = await gateway.charge_mandate(
                token_id=mandate.token_id,
                customer_ref=mandate.customer_ref,
                amount=amount,
                notes=notes,
                receipt=debit.id,
                contact=customer.phone,
                email=customer.email,
            )
        except BusinessRefusal as exc:
            return await self._failed(debit.id, str(exc))

        def sent(session: Session) -> MandateDebit:
            values: dict = {"order_id": charge.order_id, "payment_id": charge.payment_id, "status": charge.status}
            values["amount"] = amount
            if charge.status == DebitStatus.FAILED:
                values["failure_reason"] = (charge.reason or "failed")[:REASON_MAX]
            # an outcome that arrived by webhook meanwhile stands; the order and payment ids are kept either way
            waiting = (MandateDebit.id == debit.id, MandateDebit.status == "NOTIFIED")
            session.execute(update(MandateDebit).where(*waiting).values(**values))
            session.execute(
                update(MandateDebit)
                .where(MandateDebit.id == debit.id, MandateDebit.order_id.is_(None))
                .values(order_id=charge.order_id, payment_id=charge.payment_id)
            )
            return session.get_one(MandateDebit, debit.id)

        row = await self._tx(sent)
        return MandateDebitResult(row.id, row.status, row.failure_reason)

    @activity.defn
    async def find_mandate_debit(self, debit_id: str) -> MandateDebitCheck:
        """Ask the mandate's gateway what became of debit ``debit_id``, sent but with no outcome yet (its webhook
        lost or late; the workflow's look-ups: ``workflows.autopay``): ``payment`` when it was captured (the
        workflow credits it, once per payment id), ``failure`` when it failed, ``pending`` while the bank processes
        it, none when the gateway has no payment for it. Reads only: the workflow records the outcome through its
        usual paths. A debit with no order is asked about only while its row is NOTIFIED (its charge got no answer:
        a cut-off request may have reached the gateway, which is asked by the debit's receipt); one dropped before
        its charge (FAILED, SKIPPED) answers none without a call. A captured payment parked for ops (its webhook's
        reference was an approved offline payment's: the same money, credited already) answers none too, so the
        look-up never credits it behind ops' back. Gateway faults are retried (``ProviderError``);
        ``ApplicationError`` NotFound (not retried) for an unknown debit."""

        def load(session: Session) -> tuple[MandateDebit, Mandate] | None:
            debit = session.get(MandateDebit, debit_id) if is_row_id(debit_id) else None
            return None if debit is None else (debit, session.get_one(Mandate, debit.mandate_id))

        found = await self._tx(load)
        if found is None:
            raise ApplicationError(f"debit {debit_id!r} not found", type="NotFound", non_retryable=True)
        debit, mandate = found
        if debit.order_id is None and debit.status != "NOTIFIED":
            return MandateDebitCheck(debit.id)
        _, _, brand = await self._tx(self._context(debit.loan_id))
        gateway = providers.build("payments", brand.config, self.http, vendor=mandate.provider)
        lookup = await gateway.find_debit(debit.id)
        if lookup.payment is not None:
            found_payment = lookup.payment

            def parked(session: Session) -> bool:
                return (
                    session.scalar(
                        select(ParkedPayment.id).where(
                            ParkedPayment.loan_id == debit.loan_id,
                            ParkedPayment.gateway == found_payment.gateway,
                            ParkedPayment.gateway_payment_id == found_payment.payment_id,
                        )
                    )
                    is not None
                )

            if await self._tx(parked):  # its webhook was parked for ops (e.g. staff credited it offline already)
                activity.logger.warning(
                    "debit %s of loan %s: payment %s is parked for ops, not credited by the look-up",
                    debit.id, debit.loan_id, found_payment.payment_id,
                )  # fmt: skip
                return MandateDebitCheck(debit.id)
        return MandateDebitCheck(debit.id, lookup.payment, lookup.failure, lookup.pending)

    async def _failed(self, debit_id: str, reason: str) -> MandateDebitResult:
        def fail(session: Session) -> MandateDebit:
            session.execute(
                update(MandateDebit)
                .where(MandateDebit.id == debit_id, MandateDebit.status == "NOTIFIED")
                .values(status="FAILED", failure_reason=reason[:REASON_MAX])
            )
            return session.get_one(MandateDebit, debit_id)

        row = await self._tx(fail)
        return MandateDebitResult(row.id, row.status, row.failure_reason)

    @activity.defn
    async def record_debit_outcome(self, outcome: MandateDebitResult) -> MandateDebitResult:
        """The payment event of a debit (a ``PaymentEvent`` or ``PaymentFailure`` naming ``mandate_debit_id``):
        ``outcome.status`` CAPTURED or FAILED (with the gateway's reason) on debit ``outcome.debit_id``. Money
        received always counts (CAPTURED after FAILED); a failure never undoes a capture; a repeat changes nothing.
        Answers the debit as recorded after. ``ApplicationError`` (not retried): NotFound for an unknown debit,
        BadOutcome for another status."""
        if outcome.status not in OUTCOME_FROM:
            raise ApplicationError(f"a debit outcome is CAPTURED or FAILED, not {outcome.status}", type="BadOutcome",
                                   non_retryable=True)  # fmt: skip

        if not is_row_id(outcome.debit_id):
            raise ApplicationError(f"debit {outcome.debit_id!r} not found", type="NotFound", non_retryable=True)

        def record(session: Session) -> MandateDebitResult:
            values: dict = {"status": outcome.status}
            values["failure_reason"] = (outcome.reason or "failed")[:REASON_MAX] if outcome.status == "FAILED" else None
            session.execute(
                update(MandateDebit)
                .where(MandateDebit.id == outcome.debit_id, MandateDebit.status.in_(OUTCOME_FROM[outcome.status]))
                .values(**values)
            )
            row = session.get(MandateDebit, outcome.debit_id)
            if row is None:
                raise ApplicationError(f"debit {outcome.debit_id} not found", type="NotFound", non_retryable=True)
            return MandateDebitResult(row.id, row.status, row.failure_reason)

        return await self._tx(record)


def _debit(session: Session, req: MandateDebitRequest) -> MandateDebit | None:
    return session.scalars(
        select(MandateDebit).where(
            MandateDebit.loan_id == req.loan_id,
            MandateDebit.installment_no == req.installment_no,
            MandateDebit.attempt == req.attempt,
        )
    ).first()
