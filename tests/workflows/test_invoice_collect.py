"""The invoice financing workflow's collection account and staff-recorded credits against stub activities, in
virtual time: the virtual account opened at funding (before FUNDED) and closed before CLOSED; a credit by its UTR
counted once whether the virtual account's webhook or staff reported it; ``record_credit`` refused (another brand,
not collecting, a UTR already counted, no amount) with nothing changed; the account's vendor down leaves the
request funded (paid by its link). Run: ``pytest tests/workflows/test_invoice_collect.py``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from domain.sme.credits import credit_key
from tests.workflows.test_invoice_financing import AMOUNT, Stubs, _start, _statuses, _worker, env  # noqa: F401
from workflows.contracts.sme import BuyerPayment
from workflows.invoice_contracts import StaffCredit
from workflows.invoice_financing import InvoiceFinancingWorkflow

UTR = "HDFCN52026120112"


def _credit(run: Any, utr: str, amount: int, brand: str = "brand-1") -> StaffCredit:  # noqa: ANN401
    now = datetime.now(UTC)
    return StaffCredit("credit-1", brand, "checker-1", credit_key(utr), amount, "NEFT", now.date(), now)


async def _refused(run: Any, credit: StaffCredit) -> str:  # noqa: ANN401
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await run.handle.execute_update(InvoiceFinancingWorkflow.record_credit, credit)
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return str(cause.type)


async def test_the_account_opens_at_funding_a_utr_counts_once_and_the_account_closes(env) -> None:  # noqa: ANN001, F811
    stubs = Stubs()
    async with _worker(env, stubs) as worker:
        run = await _start(env, stubs, worker)
        assert await _refused(run, _credit(run, UTR, 100)) == "Conflict"  # not funded yet: nothing to credit
        await run.to_funded()
        names = stubs.names()
        assert names.index("sme_open_collection") < names.index("sme_open_virtual_account")
        assert _statuses(stubs)[-1] == "FUNDED"  # (the account opened before the move, so the notice names it)
        # the buyer's NEFT into the account, reported twice (a new event id): counted once
        paid_at = await env.get_current_time()
        va = BuyerPayment(credit_key(UTR), 40_000_000, paid_at, "VA:NEFT")
        await run.handle.signal(InvoiceFinancingWorkflow.buyer_paid, va)
        await run.handle.signal(InvoiceFinancingWorkflow.buyer_paid, va)
        # staff recording the same transfer (lower-case, spaced) is refused; another brand's staff: not found
        assert await _refused(run, _credit(run, "hdfcn 5202 6120 112", 40_000_000)) == "Conflict"
        assert await _refused(run, _credit(run, "ICICR0000000000000000001", 1, brand="brand-2")) == "NotFound"
        assert await _refused(run, _credit(run, "ICICR0000000000000000001", 0)) == "ValidationError"
        rest = AMOUNT - 40_000_000
        answer = await run.handle.execute_update(
            InvoiceFinancingWorkflow.record_credit, _credit(run, "ICICR0000000000000000001", rest)
        )
        assert answer["status"] in ("FUNDED", "PAID", "CLOSED")
        final = await run.handle.result()
    assert final.status == "CLOSED" and final.collected == AMOUNT
    recorded = stubs.args("sme_record_payment")
    assert [(r.payment.payment_id, r.payment.source) for r in recorded] == [
        (credit_key(UTR), "VA:NEFT"),
        (credit_key("ICICR0000000000000000001"), "OFFLINE:NEFT"),
    ]
    names = stubs.names()
    assert names.count("sme_close_virtual_account") == 1
    closing = names.index("sme_close_virtual_account")
    assert names.index("sme_send_transfer", names.index("sme_record_settlement")) < closing
    assert _statuses(stubs)[-2:] == ["PAID", "CLOSED"]


async def test_a_vendor_down_opening_the_account_leaves_the_request_funded_and_paid_by_its_link(env) -> None:  # noqa: ANN001, F811
    down = ApplicationError("Smart Collect is down", type="ProviderError", non_retryable=True)  # retries spent
    stubs = Stubs(sme_open_virtual_account=down)
    async with _worker(env, stubs) as worker:
        run = await _start(env, stubs, worker)
        await run.to_funded()
        await run.pay("pay-1", AMOUNT)
        final = await run.handle.result()
    assert final.status == "CLOSED"
    assert stubs.names().count("sme_open_virtual_account") == 1
    assert [n.event for n in stubs.args("sme_notify")][-1] == "CLOSED"


async def test_an_update_in_the_first_workflow_task_is_checked_against_the_requests_own_input(env) -> None:  # noqa: ANN001, F811
    """The workflow's input is set in its ``workflow.init``, before any handler: a staff credit that reaches the request
    with its very first workflow task (sent before any worker polled) is refused for what the request is (not
    collecting yet: Conflict), not as another brand's (NotFound, which a placeholder input before ``run`` gave)."""
    stubs = Stubs()
    worker = _worker(env, stubs)
    run = await _start(env, stubs, worker)  # no worker is polling yet: the start and the update share the first task
    refused = asyncio.create_task(_refused(run, _credit(run, UTR, 100)))
    await asyncio.sleep(0.5)  # the update is with the server, waiting for the workflow's first task
    assert not refused.done()
    async with worker:
        assert await asyncio.wait_for(refused, timeout=30) == "Conflict"
        await run.handle.terminate("test over")
