"""The follow-up task queue (``LoanWorkflowInput.followup_task_queue``, docs/scaling.md): a loan's receipts, customer
notices and payment links go to their own queue, and a payment is credited while its receipt still waits there."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest_asyncio
from temporalio import activity
from temporalio.worker import Worker

from tests.workflows.stubs import (
    LOAN_EXECUTIVE,
    StubActivities,
    loan_input,
    pay_every_installment,
    running_loan,
    terms,
    to_agreement_signed,
)
from workflows.contracts import LoanWorkflowResult

FOLLOWUP = {"issue_receipt_and_notify", "send_notice", "ensure_payment_link"}


@pytest_asyncio.fixture  # one test server per test: each moves virtual time its own way
async def env(fresh_env):  # noqa: ANN001, ANN201
    return fresh_env


def _followup_only(stubs: StubActivities) -> list[Callable[..., Any]]:
    """The stubs of the follow-up activities only, as the follow-up queue's worker would take them."""
    chosen = []
    for fn in stubs.all():
        defn = activity._Definition.from_callable(fn)
        if defn is not None and defn.name in FOLLOWUP:
            chosen.append(fn)
    assert len(chosen) == len(FOLLOWUP)
    return chosen


async def _queues_by_activity(run: Any) -> dict[str, set[str]]:
    """Each activity type the loan scheduled as an activity task, and the task queues it was scheduled on."""
    seen: dict[str, set[str]] = {}
    for history in await run._histories():
        for event in history.events:
            if event.HasField("activity_task_scheduled_event_attributes"):
                attrs = event.activity_task_scheduled_event_attributes
                seen.setdefault(attrs.activity_type.name, set()).add(attrs.task_queue.name)
    return seen


async def test_receipts_notices_and_links_go_to_the_followup_queue(env) -> None:  # noqa: ANN001
    """A loan started with a follow-up queue runs to COMPLETED; every receipt, notice and payment link it scheduled
    went to that queue, every other activity task to the loan's own."""
    stubs = StubActivities()
    followup = f"followup-{uuid.uuid4().hex[:8]}"
    inp = loan_input(terms(tenure=2, period_seconds=3600))
    inp.followup_task_queue = followup
    async with Worker(env.client, task_queue=followup, activities=_followup_only(stubs)):
        async with running_loan(env, stubs, inp) as run:
            await to_agreement_signed(run)
            await run.update("approve_disbursal", LOAN_EXECUTIVE.act())
            await run.settle("TR-1", "SUCCESS", "UTR0001")
            links = await pay_every_installment(run)
            result = await run.result()
            queues = await _queues_by_activity(run)

    collected = sum(link.amount for link in links)
    assert result == LoanWorkflowResult(run.loan_id, "COMPLETED", installments_paid=2, total_collected=collected)
    assert FOLLOWUP <= set(queues), queues  # each kind was scheduled at least once
    for name, on in queues.items():
        assert on == ({followup} if name in FOLLOWUP else {run.task_queue}), (name, on)
    # one receipt per payment (the stub records issue_receipt_and_notify as the two steps it merges)
    assert sorted(r.payment_id for r in stubs.of("issue_receipt")) == ["pay_1", "pay_2"]


async def test_payments_are_credited_while_their_follow_up_waits_for_a_worker(env) -> None:  # noqa: ANN001
    """With no worker on the follow-up queue, payments are still recorded as they come (the loan does not wait for
    its receipts, notices or links: workflows.followup). Once a follow-up worker polls again, each payment gets its
    receipt, and the payment links are made in the order asked, except one superseded before its turn."""
    stubs = StubActivities()
    followup = f"followup-{uuid.uuid4().hex[:8]}"
    inp = loan_input(terms(tenure=3, period_seconds=3600))
    inp.followup_task_queue = followup
    async with running_loan(env, stubs, inp) as run:
        async with Worker(env.client, task_queue=followup, activities=_followup_only(stubs)):
            await to_agreement_signed(run)
            await run.update("approve_disbursal", LOAN_EXECUTIVE.act())
            await run.settle("TR-1", "SUCCESS", "UTR0001")
            await stubs.wait_calls("ensure_payment_link", 1)
        with env.auto_time_skipping_disabled():  # no due date passes meanwhile: each payment is an advance
            # the follow-up worker is gone: every payment is credited all the same
            for n in (1, 2, 3):
                await run.pay(f"pay_{n}", 1_000_00)
                await stubs.wait_calls("record_payment", n)
            assert [r.payment.payment_id for r in stubs.of("record_payment")] == ["pay_1", "pay_2", "pay_3"]
            assert stubs.of("issue_receipt") == [] and len(stubs.of("ensure_payment_link")) == 1
            async with Worker(env.client, task_queue=followup, activities=_followup_only(stubs)):
                receipts = await stubs.wait_calls("issue_receipt", 3)
                await stubs.wait_calls("ensure_payment_link", 3)
                await asyncio.sleep(0.5)  # time for a wrongly made extra link to show
        assert sorted(r.payment_id for r in receipts) == ["pay_1", "pay_2", "pay_3"]
        # a link was asked for after each payment: pay_1's went to the queue at once (nothing before it), pay_2's
        # waited behind it and was superseded by pay_3's before its turn, so two were made, not three
        assert len(stubs.of("ensure_payment_link")) == 3
        assert len(stubs.of("record_payment")) == 3  # each credited once


async def test_a_refused_payment_link_leaves_the_loan_running_without_a_follow_up_queue(env) -> None:  # noqa: ANN001
    """A loan without a follow-up queue awaits its payment link where it asks for it; every gateway refusing it
    (or failing past its retries) is logged and the link asked for again on the next pass: the loan still takes its
    payments and completes (a provider saying no never fails the loan)."""
    stubs = StubActivities(refused_links={1})
    async with running_loan(env, stubs, loan_input(terms(tenure=2, period_seconds=3600))) as run:
        await to_agreement_signed(run)
        await run.update("approve_disbursal", LOAN_EXECUTIVE.act())
        await run.settle("TR-1", "SUCCESS", "UTR0001")
        links = await pay_every_installment(run)  # installment 1 paid for what its refused link asked
        result = await run.result()
    assert result.status == "COMPLETED" and result.installments_paid == 2
    assert [link.installment_no for link in links] == [1, 2]
