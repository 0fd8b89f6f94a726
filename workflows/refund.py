"""A refund of a loan's credit balance, once a checker approved it (``api/partner/refunds.py``): one workflow per
refund, on the id ``refund-<refundId>`` (docs/money-in.md, "Refunds").

1. ``send_refund``: the transfer to the loan's verified account through the brand's disbursal bank, under our
   reference ``refund-<refundId>`` (reserved on the row and stamped SENT before the bank is asked; a retry asks
   the bank's status API before any resend). A refusal (no verified account, the bank said no) is an answer:
   FAILED with its reason, never a failed workflow.
2. ``check_refund``: the bank's status API, first after ``first_poll_seconds`` and then at twice the last wait up
   to ``poll_seconds``; after ``patient_seconds`` without an outcome, once an hour (a transfer the bank took is
   never given up on: the money may be out). The bank's callback for the transfer reaches the loan's workflow as a
   disbursal event, which ignores a transfer id it does not know.
3. ``record_refund``: PROCESSED with the UTR and the ledger posting (Dr CUSTOMER_CREDIT_BALANCE / Cr
   DISBURSAL_BANK), or FAILED with the bank's reason; once per refund.
4. On PROCESSED: the borrower's notice (REFUND_PAID) and the loan's workflow signalled ``refund_settled`` (a loan
   whose workflow has finished is not signalled: its credit balance lives in the ledger).

The workflow decides only; every side effect is an activity (``activities/refunds.py``), called by name so this
module imports no activity code.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.contracts import NoticeRequest, RefundSettled
    from workflows.heartbeats import TRANSFER_HEARTBEAT
    from workflows.options import DB_RETRY, DB_TIMEOUT, NOTICE_TIMEOUT, PROVIDER_RETRY, PROVIDER_TIMEOUT, TRANSFER_RETRY

APPROVED, SENT, PROCESSED, FAILED = "APPROVED", "SENT", "PROCESSED", "FAILED"
SLOW_POLL = timedelta(hours=1)
NOTICE_GIVE_UP = timedelta(minutes=10)


@dataclass
class RefundState:
    """Where the refund stands: ``status`` SENT until the bank's outcome (PROCESSED / FAILED) is known, the UTR or
    the failure reason, how many status checks were made and how long they waited in all (seconds)."""

    status: str = APPROVED
    utr: str | None = None
    reason: str | None = None
    polls: int = 0
    waited_seconds: int = 0
    recorded: bool = False


@dataclass
class RefundInput:
    """An approved refund: ``amount`` paise of loan ``loan_id``'s credit balance, to be sent once. The polling
    knobs are seconds (``patient_seconds``: how long to poll at ``poll_seconds`` before slowing to hourly)."""

    refund_id: str
    loan_id: str
    brand_id: str
    amount: int
    first_poll_seconds: int = 2
    poll_seconds: int = 30
    patient_seconds: int = 15 * 60
    polls_per_run: int = 500  # status checks per run before a continue-as-new (a small history per run)
    state: RefundState | None = None  # carried over a continue-as-new


@dataclass
class RefundSend:
    """``send_refund``'s input: the refund row's id (the activity reads the amount, the loan and the account)."""

    refund_id: str


@dataclass
class RefundAnswer:
    """What the bank said: ``status`` SENT (taken, not settled), PROCESSED (with ``utr``) or FAILED (``reason``)."""

    status: str
    utr: str | None = None
    reason: str | None = None


@dataclass
class RefundOutcome:
    """``record_refund``'s input: the refund's final ``status`` (PROCESSED or FAILED), its UTR or reason."""

    refund_id: str
    status: str
    utr: str | None = None
    reason: str | None = None


@workflow.defn
class RefundWorkflow:
    """One approved refund, from the transfer to the loan's signal. Answers its final :class:`RefundState`."""

    def __init__(self) -> None:
        self.state = RefundState()

    @workflow.query
    def status(self) -> RefundState:
        """The refund's state as the workflow sees it."""
        return self.state

    @workflow.run
    async def run(self, inp: RefundInput) -> RefundState:
        if inp.state is not None:
            self.state = inp.state
        state = self.state
        if state.status == APPROVED:
            answer: RefundAnswer = await workflow.execute_activity(
                "send_refund",
                RefundSend(inp.refund_id),
                result_type=RefundAnswer,
                start_to_close_timeout=PROVIDER_TIMEOUT,
                retry_policy=TRANSFER_RETRY,
                heartbeat_timeout=TRANSFER_HEARTBEAT,
                summary=f"Send refund of {inp.amount} paise",
            )
            self._take(answer)
        wait, asked = timedelta(seconds=inp.first_poll_seconds), 0
        while state.status == SENT:
            if asked >= inp.polls_per_run:  # a long wait: a fresh run (small history) carrying the state
                workflow.continue_as_new(dataclasses.replace(inp, state=state))
            patient = state.waited_seconds < inp.patient_seconds
            wait = min(wait, timedelta(seconds=inp.poll_seconds)) if patient else SLOW_POLL
            await workflow.sleep(wait)
            state.waited_seconds += int(wait.total_seconds())
            state.polls += 1
            asked += 1
            try:
                answer = await workflow.execute_activity(
                    "check_refund",
                    RefundSend(inp.refund_id),
                    result_type=RefundAnswer,
                    start_to_close_timeout=PROVIDER_TIMEOUT,
                    retry_policy=PROVIDER_RETRY,
                    heartbeat_timeout=TRANSFER_HEARTBEAT,
                    summary="Ask the bank about the refund",
                )
            except ActivityError:  # the bank's status API is down: still SENT, asked again later
                workflow.logger.warning("refund %s: the bank's status API did not answer", inp.refund_id)
            else:
                self._take(answer)
            wait *= 2
        if not state.recorded:
            await workflow.execute_activity(
                "record_refund",
                RefundOutcome(inp.refund_id, state.status, state.utr, state.reason),
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
                summary=f"Refund {state.status}",
            )
            state.recorded = True
        if state.status == PROCESSED:
            await self._settled(inp)
        return state

    def _take(self, answer: RefundAnswer) -> None:
        """The bank's word: a final one is kept (PROCESSED / FAILED); SENT keeps the refund waiting."""
        if answer.status not in (SENT, PROCESSED, FAILED):
            raise ApplicationError(f"unknown refund status {answer.status!r}", non_retryable=True)
        self.state.status, self.state.utr, self.state.reason = answer.status, answer.utr, answer.reason

    async def _settled(self, inp: RefundInput) -> None:
        """The loan's workflow signalled ``refund_settled`` (``LoanWorkflow.refund_settled``), if it still runs,
        then the borrower told (best effort, once per refund: a messaging fault never holds the refund up)."""
        try:
            await workflow.get_external_workflow_handle(f"loan-{inp.loan_id}").signal(
                "refund_settled", RefundSettled(inp.refund_id, inp.amount, self.state.utr)
            )
        except ApplicationError:  # the loan's workflow has finished (or never ran here): nothing waits for it
            workflow.logger.info("loan %s takes no signals; refund %s recorded only", inp.loan_id, inp.refund_id)
        try:
            await workflow.execute_activity(
                "send_notice",
                NoticeRequest(
                    inp.loan_id,
                    "REFUND_PAID",
                    f"{inp.loan_id}:refund:{inp.refund_id}",
                    {"amount": inp.amount, "utr": self.state.utr or "-"},
                ),  # fmt: skip
                start_to_close_timeout=NOTICE_TIMEOUT,
                schedule_to_close_timeout=NOTICE_GIVE_UP,
                retry_policy=DB_RETRY,
                summary="Notice REFUND_PAID",
            )
        except ActivityError:
            workflow.logger.warning("refund %s: the borrower's notice was not sent", inp.refund_id)
