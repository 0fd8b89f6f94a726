"""The refund workflow against stub activities, in virtual time: an approved refund is sent, polled until the bank
settles it, recorded PROCESSED and signalled to the loan; a bank refusal is recorded FAILED and the workflow ends
normally (nothing polled, nothing signalled); a status API that fails for a while is asked again; a loan whose
workflow is gone is not an error.

Run: ``pytest tests/workflows/test_refund.py`` (needs only ``temporal-test-server``).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest_asyncio
from temporalio import activity, workflow
from temporalio.client import WorkflowExecutionStatus
from temporalio.worker import Worker

from workflows.contracts import NoticeRequest, RefundSettled
from workflows.refund import (
    FAILED,
    PROCESSED,
    SENT,
    RefundAnswer,
    RefundInput,
    RefundOutcome,
    RefundSend,
    RefundState,
    RefundWorkflow,
)

UTR = "IDFB0000123456"


@pytest_asyncio.fixture
async def env(bare_env):  # noqa: ANN001, ANN201
    """A time-skipping server of the test's own (``bare_env``)."""
    return bare_env


@workflow.defn(name="LoanWorkflow")
class OverpaidLoan:
    """Stands in for the loan's workflow in OVERPAID: waits for ``refund_settled`` and answers what it got."""

    def __init__(self) -> None:
        self.settled: list[RefundSettled] = []

    @workflow.signal
    def refund_settled(self, event: RefundSettled) -> None:
        self.settled.append(event)

    @workflow.query
    def got(self) -> list[RefundSettled]:
        return self.settled

    @workflow.run
    async def run(self) -> list[RefundSettled]:
        await workflow.wait_condition(lambda: bool(self.settled))
        return self.settled


class Bank:
    """Stub activities: ``send`` answers the transfer; ``checks`` the status API's answers in turn (an Exception
    entry: the status API fails once). Every call is recorded in ``calls``."""

    def __init__(self, send: RefundAnswer, checks: list[Any]):
        self.send, self.checks = send, list(checks)
        self.calls: list[tuple[str, Any]] = []

    @activity.defn(name="send_refund")
    async def send_refund(self, req: RefundSend) -> RefundAnswer:
        self.calls.append(("send_refund", req.refund_id))
        return self.send

    @activity.defn(name="check_refund")
    async def check_refund(self, req: RefundSend) -> RefundAnswer:
        self.calls.append(("check_refund", req.refund_id))
        answer = self.checks.pop(0) if len(self.checks) > 1 else self.checks[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    @activity.defn(name="record_refund")
    async def record_refund(self, out: RefundOutcome) -> bool:
        self.calls.append(("record_refund", out))
        return True

    @activity.defn(name="send_notice")
    async def send_notice(self, req: NoticeRequest) -> None:
        self.calls.append(("send_notice", req))

    def all(self) -> list[Any]:
        return [self.send_refund, self.check_refund, self.record_refund, self.send_notice]

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


Outcome = tuple[RefundState, list[RefundSettled] | None]


async def _run(env, bank: Bank, *, with_loan: bool = True, **knobs: int) -> Outcome:  # noqa: ANN001
    queue, refund_id, loan_id = f"refund-{uuid.uuid4().hex[:8]}", str(uuid.uuid4()), str(uuid.uuid4())
    async with Worker(env.client, task_queue=queue, workflows=[RefundWorkflow, OverpaidLoan], activities=bank.all()):
        loan = None
        if with_loan:
            loan = await env.client.start_workflow(OverpaidLoan.run, id=f"loan-{loan_id}", task_queue=queue)
        handle = await env.client.start_workflow(
            RefundWorkflow.run,
            RefundInput(refund_id, loan_id, "brand-1", 1_234_50, **{"patient_seconds": 60, **knobs}),
            id=f"refund-{refund_id}",
            task_queue=queue,
        )
        state = await handle.result()
        latest = env.client.get_workflow_handle(handle.id)  # (the last run, after any continue-as-new)
        assert (await latest.describe()).status == WorkflowExecutionStatus.COMPLETED
        settled = None
        if loan is not None:
            if state.status == PROCESSED:
                settled = await loan.result()
            else:
                assert await loan.query(OverpaidLoan.got) == []  # never signalled
                if (await loan.describe()).status == WorkflowExecutionStatus.RUNNING:
                    await loan.terminate("test over")
        assert all(arg == refund_id for name, arg in bank.calls if name in ("send_refund", "check_refund"))
        return state, settled


async def test_an_approved_refund_is_sent_polled_recorded_and_signalled_to_the_loan(env) -> None:  # noqa: ANN001
    pending = RefundAnswer(SENT)
    bank = Bank(RefundAnswer(SENT), [pending, pending, RuntimeError("status API down"), RefundAnswer(PROCESSED, UTR)])
    state, settled = await _run(env, bank)

    assert (state.status, state.utr, state.reason) == (PROCESSED, UTR, None)
    # sent once; asked after 2, 4 and 8 s until the bank settled it (a failing status API is asked again)
    assert bank.names() == ["send_refund"] + ["check_refund"] * 4 + ["record_refund", "send_notice"]
    recorded = [arg for name, arg in bank.calls if name == "record_refund"]
    assert len(recorded) == 1 and (recorded[0].status, recorded[0].utr) == (PROCESSED, UTR)
    assert settled is not None and [(s.amount, s.utr) for s in settled] == [(1_234_50, UTR)]
    notice = [arg for name, arg in bank.calls if name == "send_notice"][0]
    assert (notice.event, notice.values) == ("REFUND_PAID", {"amount": 1_234_50, "utr": UTR})
    assert (state.polls, state.waited_seconds) == (3, 2 + 4 + 8)


async def test_a_bank_refusal_is_recorded_failed_and_the_workflow_ends_normally(env) -> None:  # noqa: ANN001
    bank = Bank(RefundAnswer(FAILED, None, "the beneficiary IFSC is invalid"), [RefundAnswer(SENT)])
    state, settled = await _run(env, bank)

    assert (state.status, state.reason) == (FAILED, "the beneficiary IFSC is invalid")
    assert bank.names() == ["send_refund", "record_refund"]  # never polled, never signalled, no notice
    recorded = bank.calls[1][1]
    assert (recorded.status, recorded.reason) == (FAILED, "the beneficiary IFSC is invalid")
    assert settled is None


async def test_a_failure_learnt_from_the_status_api_is_recorded_without_a_signal(env) -> None:  # noqa: ANN001
    bank = Bank(RefundAnswer(SENT), [RefundAnswer(SENT), RefundAnswer(FAILED, None, "Beneficiary account closed")])
    state, _ = await _run(env, bank)
    assert (state.status, state.reason) == (FAILED, "Beneficiary account closed")
    assert bank.names() == ["send_refund", "check_refund", "check_refund", "record_refund"]


async def test_a_finished_loan_workflow_does_not_fail_the_refund(env) -> None:  # noqa: ANN001
    bank = Bank(RefundAnswer(SENT), [RefundAnswer(PROCESSED, UTR)])
    state, settled = await _run(env, bank, with_loan=False)
    assert state.status == PROCESSED and settled is None
    assert bank.names() == ["send_refund", "check_refund", "record_refund", "send_notice"]


async def test_a_long_wait_polls_hourly_and_continues_as_new_with_its_state(env) -> None:  # noqa: ANN001
    bank = Bank(RefundAnswer(SENT), [RefundAnswer(SENT)] * 5 + [RefundAnswer(PROCESSED, UTR)])
    state, settled = await _run(env, bank, patient_seconds=0, polls_per_run=2)
    assert bank.names() == ["send_refund"] + ["check_refund"] * 6 + ["record_refund", "send_notice"]
    # past its patience every check waits an hour; three runs, one state: sent once, six checks in all
    assert (state.status, state.polls, state.waited_seconds) == (PROCESSED, 6, 6 * 3600)
    assert settled is not None and settled[0].utr == UTR
