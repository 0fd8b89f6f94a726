"""Co-lending steps of the loan's own workflow (docs/co-lending.md): a loan booked with a partner lender that the
brand co-lends with is, once disbursed, booked as co-lent (its principal split, each lender's funding on its
sub-ledger), taken through the partner's lifecycle (borrower, loan, documents, eSign, schedule, its funding), and
every payment it applies afterwards is split between the lenders with the partner's part sent to its wallet.

Activities of the loan's own workflow, not a child workflow per partner: the partner's part has no life of its own
(it begins at the loan's disbursal and ends with the loan), each split must follow the payment it divides in the
order the loan applies payments, and a child would have to be abandoned to outlive the loan's continue-as-new. The
split's running totals live in the database (the sub-ledger), so nothing new is carried in the workflow's input:
each servicing run of a routed loan (memo ``partnerRouting``, kept across continue-as-new) asks once, at its first
payment, whether the loan is co-lent (``colending_of``) and keeps the answer for the run.

Only loans routed to partners (``partner-routing-v1``, booked with one) reach ``co-lending-v1``: at disbursal, and
at a servicing run's first payment. Other loans run no new command.

Losses (``co-lending-losses-v1``): a penal waiver, the waiver of a settlement paid below dues and a write-off are
split between the lenders as payments are (``colend_loss``, after the loan's own postings), and a co-lent loan's
DPD is checked against its agreement's default-loss guarantee (``colend_overdue``, at a DPD change in collections:
once at the first DPD, then on the invocation day). Only routed loans that are co-lent run these commands.

Restructures (``co-lending-restructure-v1``): when a co-lent loan's restructure is approved, the partner is sent its
part of the new schedule (``colend_restructured``: Lendbox's repayment schedule sync). The step is recorded on the
loan before it is sent, so a partner that refuses or does not answer never fails the loan: the step stays FAILED or
PENDING for ops' retry (``workflows.colending_retry``), which sends it again from the loan's records.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    import workflows.contracts.colending  # noqa: F401  (registered in the sandbox by name; see workflows.loan)
    import workflows.contracts.colending_losses  # noqa: F401
    from activities.colending import STEPS, CoLendingActivities
    from workflows.contracts import PaymentEvent, PaymentRecord
    from workflows.contracts.colending import (
        CoLendBookRequest,
        CoLendLine,
        CoLendPayment,
        CoLendReschedule,
        CoLendStepRequest,
    )
    from workflows.contracts.colending_losses import CoLendLoss, CoLendOverdue
    from workflows.contracts.partners import PartnerOfferView
    from workflows.options import (  # the patch ids re-exported: they were defined here
        CO_LENDING_PATCH,
        DB_RETRY,
        DB_TIMEOUT,
        IST,
        LOSSES_PATCH,
        PROVIDER_RETRY,
        PROVIDER_TIMEOUT,
        RESTRUCTURE_PATCH,
    )
from workflows.patches import patched

# Staff wait on the restructure's approval: a partner that does not answer is left to ops' retry after a few seconds.
RESCHEDULE_TIMEOUT = timedelta(seconds=20)
RESCHEDULE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=4),
    maximum_attempts=3,
    non_retryable_error_types=["BusinessRefusal"],
)
ROUTING_MEMO = "partnerRouting"  # workflows.partner_routing.ROUTING_MEMO: the loan was started for routing


def _booked_offer(wf: Any) -> PartnerOfferView | None:
    """The partner offer the loan was booked on in this run (None: not routed, or routed before this run)."""
    booked, route = getattr(wf, "partner_booked", None), getattr(wf, "partner_route", None)
    if booked is None or route is None:
        return None
    return next((o for o in route.offers if o.offer_id == booked), None)


def _routed() -> bool:
    """Whether the loan was started for partner routing (its memo; a pure read, no command)."""
    try:
        return bool(workflow.memo_value(ROUTING_MEMO, default=False, type_hint=bool))
    except Exception:  # noqa: BLE001  (a memo that does not decode means no routing)
        return False


async def _is_co_lent(wf: Any) -> bool:
    """Whether the loan is co-lent: asked once per run (``colending_of``), only for routed loans."""
    known = getattr(wf, "co_lent", None)
    if known is None:
        book = await workflow.execute_activity_method(
            CoLendingActivities.colending_of,
            wf.inp.loan_id,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary="Co-lent?",
        )
        known = book is not None
        wf.co_lent = known
    return bool(known)


async def colend_disbursed(wf: Any, key: str) -> None:
    """After the loan is DISBURSED: book it as co-lent with the partner it was booked with, when the brand has an
    agreement with that partner, then take the partner through its lifecycle. A partner's refusal or outage
    stops its lifecycle where it is (recorded for ops), never the loan."""
    offer = _booked_offer(wf)
    if offer is None or not patched(CO_LENDING_PATCH):
        return
    inp, state = wf.inp, wf.servicing
    schedule = [CoLendLine(i.number, i.due_date, i.principal, i.interest, i.fees) for i in state.installments]
    book = await workflow.execute_activity_method(
        CoLendingActivities.colending_book,
        CoLendBookRequest(inp.loan_id, inp.brand_id, offer.partner_id, offer.partner_code, inp.terms.amount,
                          inp.terms.annual_rate_bps, inp.terms.tenure, state.disbursed_at.astimezone(IST).date(),
                          schedule, f"{key}:colending"),
        start_to_close_timeout=DB_TIMEOUT,
        retry_policy=DB_RETRY,
        summary=f"Co-lending with {offer.partner_name}",
    )  # fmt: skip
    if book is None:
        return
    for step in STEPS:
        try:
            result = await workflow.execute_activity_method(
                CoLendingActivities.colending_partner_step,
                CoLendStepRequest(inp.loan_id, inp.brand_id, step, f"{key}:colending:{step}"),
                start_to_close_timeout=PROVIDER_TIMEOUT,
                retry_policy=PROVIDER_RETRY,
                summary=f"{offer.partner_name}: {step.lower()}",
            )
        except ActivityError as err:
            workflow.logger.warning("co-lending step %s of loan %s not done: %s", step, inp.loan_id, err.cause)
            return
        if result.status != "DONE":
            return


async def colend_payment(wf: Any, payment: PaymentEvent, record: PaymentRecord, today: date) -> None:
    """After a co-lent loan recorded a payment: split it between the lenders (once per payment). Never raises:
    the payment stands whatever happens to its split (an error is logged for ops)."""
    if not _routed() or not patched(CO_LENDING_PATCH) or not await _is_co_lent(wf):
        return
    parts = record.parts
    split = CoLendPayment(
        wf.inp.loan_id, wf.inp.brand_id, payment.payment_id,
        principal=sum(p.principal for p in parts) + record.advance_principal,
        interest=sum(p.interest for p in parts), fees=sum(p.fees for p in parts), penal=sum(p.penal for p in parts),
        value_date=record.value_date or today, idempotency_key=f"loan-{wf.inp.loan_id}:colending:{payment.payment_id}",
    )  # fmt: skip
    try:
        await workflow.execute_activity_method(
            CoLendingActivities.colending_split,
            split,
            start_to_close_timeout=PROVIDER_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=f"Co-lending split of {payment.payment_id}",
        )
    except ActivityError as err:
        workflow.logger.error("co-lending split of payment %s not recorded: %s", payment.payment_id, err.cause)


async def colend_loss(wf: Any, kind: str, reference: str, parts: dict[str, int], today: date) -> None:
    """After a co-lent loan's own ledger recorded a loss (``kind`` CL_WAIVER, CL_SETTLEMENT or CL_WRITE_OFF;
    ``parts`` component → paise): split it between the lenders once per ``reference``; a write-off also invokes the
    agreement's default-loss guarantee. Never raises: the loan's decision stands whatever happens to its split."""
    if not _routed() or not sum(parts.values()) or not patched(LOSSES_PATCH) or not await _is_co_lent(wf):
        return
    state = getattr(wf, "servicing", None)
    loss = CoLendLoss(
        wf.inp.loan_id, wf.inp.brand_id, kind, reference, principal=int(parts.get("principal", 0)),
        interest=int(parts.get("interest", 0)), fees=int(parts.get("fees", 0)), penal=int(parts.get("penal", 0)),
        value_date=today, dpd=int(getattr(state, "dpd", 0) or 0),
    )  # fmt: skip
    try:
        await workflow.execute_activity_method(
            CoLendingActivities.colending_loss,
            loss,
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=f"Co-lending split of the {kind.removeprefix('CL_').lower().replace('_', '-')}",
        )
    except ActivityError as err:
        workflow.logger.error("co-lending split of %s %s not recorded: %s", kind, reference, err.cause)


async def colend_overdue(wf: Any, dpd: int, as_of: date) -> None:
    """At a DPD change of a co-lent loan in arrears: the agreement's default-loss guarantee invoked once the DPD
    reaches its invocation day (RBI DLG guidelines, 8 June 2023: within 120 days overdue). Asks once at the first
    DPD of the run, then again only on the day the answer named. Never raises."""
    if dpd <= 0 or not _routed():
        return
    ask_at = getattr(wf, "dlg_ask_at", 0)
    if ask_at is None or dpd < ask_at or not patched(LOSSES_PATCH) or not await _is_co_lent(wf):
        return
    try:
        wf.dlg_ask_at = await workflow.execute_activity_method(
            CoLendingActivities.colending_overdue,
            CoLendOverdue(wf.inp.loan_id, wf.inp.brand_id, dpd, as_of),
            start_to_close_timeout=DB_TIMEOUT,
            retry_policy=DB_RETRY,
            summary=f"Default-loss guarantee at DPD {dpd}",
        )
    except ActivityError as err:
        workflow.logger.error("default-loss guarantee check at DPD %s not done: %s", dpd, err.cause)


async def colend_restructured(wf: Any, version: int) -> None:
    """After a co-lent loan's restructure is approved (its schedule now at ``version``): send the partner its part
    of the new schedule (``colending_reschedule``). Never raises: a refusal is a FAILED step and an outage past the
    few retries leaves the step PENDING, both on the loan's records for ops' retry (``CoLendingRetryWorkflow``)."""
    if not _routed() or not patched(RESTRUCTURE_PATCH) or not await _is_co_lent(wf):
        return
    try:
        result = await workflow.execute_activity_method(
            CoLendingActivities.colending_reschedule,
            CoLendReschedule(wf.inp.loan_id, wf.inp.brand_id, version),
            start_to_close_timeout=RESCHEDULE_TIMEOUT,
            retry_policy=RESCHEDULE_RETRY,
            summary=f"Restructured schedule v{version} to the partner",
        )
    except ActivityError as err:
        workflow.logger.warning("restructured schedule of loan %s not sent: %s", wf.inp.loan_id, err.cause)
        return
    if result.status != "DONE":
        workflow.logger.warning("restructured schedule of loan %s: %s %s", wf.inp.loan_id, result.status,
                                result.reason)  # fmt: skip
