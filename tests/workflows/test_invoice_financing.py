"""The invoice financing workflow against stub activities, in virtual time (the time-skipping test server): the
happy path to CLOSED with the reserve to the paisa; a duplicate refused; an unverified buyer refused; maker-checker
(the same person refused as checker); the buyer paying late → OVERDUE (collections, reminders) → PAID with the late
charge taken from the reserve; offers expiring; the bank refusing the advance → NEEDS_ATTENTION → retried.

Run: ``pytest tests/workflows/test_invoice_financing.py`` (needs only ``temporal-test-server``).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
import pytest_asyncio
from temporalio import activity
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from domain.sme.matching import LenderTerms
from tests.conftest import skip_time
from workflows.contracts.sme import (
    AcceptedRecord,
    BuyerPayment,
    CheckAnswer,
    CollectionOpened,
    FundedRecord,
    InvoiceFinancingInput,
    InvoiceState,
    OfferAcceptance,
    OffersRecord,
    OverdueMark,
    PaymentRecord,
    ScoreAnswer,
    SettlementRecord,
    SmeNotice,
    SmeRequestRef,
    SmeStaffDecision,
    SmeStatusChange,
    SmeTerms,
    TransferAnswer,
    TransferOutcome,
    TransferRequest,
)
from workflows.invoice_contracts import VirtualAccountOpened
from workflows.invoice_financing import InvoiceFinancingWorkflow
from workflows.options import IST

AMOUNT = 100_000_037  # ₹10,00,000.37
OWN = LenderTerms("own-book", "Own book", 50, 8_000, 1_400, 2_400, 7, 120, 10_000_00, 10**12)
PARTNER = LenderTerms("partner-1", "Partner", 70, 8_500, 1_600, 2_400, 7, 90, 10_000_00, 10**12, "PARTNER")
OK = CheckAnswer(True)


@pytest_asyncio.fixture
async def env(bare_env):  # noqa: ANN001, ANN201
    """A time-skipping server of the test's own (``bare_env``)."""
    return bare_env


class Stubs:
    """Stub activities answering as scripted; every call recorded in ``calls`` (name, argument)."""

    def __init__(self, **answers: Any) -> None:
        self.answers = {
            "sme_check_duplicate": OK,
            "sme_verify_business": OK,
            "sme_verify_buyer": OK,
            "sme_score": ScoreAnswer(78, "A", {"gstFiling": 25}),
            "sme_send_transfer": [TransferAnswer("SUCCESS", "UTR1")],
            **answers,
        }
        self.calls: list[tuple[str, Any]] = []

    def _answer(self, name: str, arg: Any) -> Any:
        self.calls.append((name, arg))
        answer = self.answers.get(name)
        if isinstance(answer, list):
            answer = answer.pop(0) if len(answer) > 1 else answer[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def args(self, name: str) -> list[Any]:
        return [arg for n, arg in self.calls if n == name]

    def all(self) -> list[Any]:
        def check(name: str) -> Any:
            @activity.defn(name=name)
            async def run(ref: SmeRequestRef) -> CheckAnswer:
                return self._answer(name, ref)

            return run

        def record(name: str, kind: type) -> Any:
            async def run(arg):  # noqa: ANN001, ANN202
                self._answer(name, arg)

            run.__annotations__ = {"arg": kind, "return": None}
            return activity.defn(name=name)(run)

        @activity.defn(name="sme_score")
        async def score(ref: SmeRequestRef) -> ScoreAnswer:
            return self._answer("sme_score", ref)

        @activity.defn(name="sme_terms")
        async def terms(ref: SmeRequestRef) -> SmeTerms:
            self.calls.append(("sme_terms", ref))
            return SmeTerms([OWN, PARTNER], offer_validity_days=7, reminder_days_before_due=3, overdue_reminder_days=3)

        @activity.defn(name="sme_send_transfer")
        async def send(req: TransferRequest) -> TransferAnswer:
            return self._answer("sme_send_transfer", req)

        @activity.defn(name="sme_check_transfer")
        async def check_transfer(req: TransferRequest) -> TransferAnswer:
            return self._answer("sme_check_transfer", req)

        @activity.defn(name="sme_open_collection")
        async def open_collection(ref: SmeRequestRef) -> CollectionOpened:
            self.calls.append(("sme_open_collection", ref))
            return CollectionOpened("sme-collect-1", "https://pay.example/l/1")

        @activity.defn(name="sme_open_virtual_account")
        async def open_account(ref: SmeRequestRef) -> VirtualAccountOpened:
            answer = self._answer("sme_open_virtual_account", ref)
            return answer or VirtualAccountOpened("2223330012345678", "RATN0VAAPIS")

        @activity.defn(name="sme_close_virtual_account")
        async def close_account(ref: SmeRequestRef) -> str:
            return self._answer("sme_close_virtual_account", ref) or "CLOSED"

        return [
            check("sme_check_duplicate"),
            check("sme_verify_business"),
            check("sme_verify_buyer"),
            score,
            terms,
            send,
            check_transfer,
            open_collection,
            open_account,
            close_account,
            record("sme_record_status", SmeStatusChange),
            record("sme_record_offers", OffersRecord),
            record("sme_record_acceptance", AcceptedRecord),
            record("sme_record_approval", AcceptedRecord),
            record("sme_record_transfer", TransferOutcome),
            record("sme_record_funded", FundedRecord),
            record("sme_record_payment", PaymentRecord),
            record("sme_record_settlement", SettlementRecord),
            record("sme_mark_overdue", OverdueMark),
            record("sme_notify", SmeNotice),
        ]


class Run:
    """One request on its own task queue: start, wait for a status, send updates and signals."""

    def __init__(self, env: Any, stubs: Stubs, handle: WorkflowHandle, inp: InvoiceFinancingInput) -> None:
        self.env, self.stubs, self.handle, self.inp = env, stubs, handle, inp

    async def state(self) -> InvoiceState:
        return await self.handle.query(InvoiceFinancingWorkflow.status)

    async def until(self, status: str, tries: int = 400) -> InvoiceState:
        for _ in range(tries):
            state = await self.state()
            if state.status == status:
                return state
            await asyncio.sleep(0.05)
        raise AssertionError(f"never reached {status}; last {state.status}")

    def staff(self, staff_id: str, action: str = "APPROVE", step: str = "MAKER") -> SmeStaffDecision:
        return SmeStaffDecision(staff_id, "CREDIT_EXECUTIVE", self.inp.brand_id, action, step)

    async def to_funded(self) -> InvoiceState:
        await self.until("OFFERED")
        await self.handle.execute_update(InvoiceFinancingWorkflow.accept_offer, OfferAcceptance("biz-1", "own-book"))
        await self.handle.execute_update(InvoiceFinancingWorkflow.decide, self.staff("maker-1"))
        await self.handle.execute_update(InvoiceFinancingWorkflow.decide, self.staff("checker-1", step="CHECKER"))
        return await self.until("FUNDED")

    async def pay(self, payment_id: str, amount: int) -> None:
        paid_at = await self.env.get_current_time()
        await self.handle.signal(InvoiceFinancingWorkflow.buyer_paid, BuyerPayment(payment_id, amount, paid_at))


async def _start(env: Any, stubs: Stubs, worker: Worker, days_to_due: int = 30) -> Run:
    today = (await env.get_current_time()).astimezone(IST).date()
    request_id = str(uuid.uuid4())
    inp = InvoiceFinancingInput(request_id, "brand-1", "biz-1", "inv-1", AMOUNT, today + timedelta(days=days_to_due))
    handle = await env.client.start_workflow(
        InvoiceFinancingWorkflow.run, inp, id=f"invoice-{request_id}", task_queue=worker.task_queue
    )
    return Run(env, stubs, handle, inp)


def _worker(env: Any, stubs: Stubs) -> Worker:
    queue = f"sme-{uuid.uuid4().hex[:8]}"
    return Worker(env.client, task_queue=queue, workflows=[InvoiceFinancingWorkflow], activities=stubs.all())


def _statuses(stubs: Stubs) -> list[str]:
    return [change.status for change in stubs.args("sme_record_status")]


async def test_happy_path_pays_on_time_releases_the_reserve_to_the_paisa_and_closes(env) -> None:  # noqa: ANN001
    stubs = Stubs()
    async with _worker(env, stubs) as worker:
        run = await _start(env, stubs, worker)
        offered = await run.until("OFFERED")
        assert [o.lender_id for o in offered.offers] == ["own-book", "partner-1"]  # cheaper discount first
        funded = await run.to_funded()
        assert (funded.advance, funded.discount, funded.reserve, funded.days) == (80_000_029, 920_548, 19_079_460, 30)
        await run.pay("pay-1", AMOUNT)
        await run.pay("pay-1", AMOUNT)  # the webhook delivered twice counts once
        final = await run.handle.result()
    assert final.status == "CLOSED"
    assert (final.collected, final.late_charge, final.release) == (AMOUNT, 0, 19_079_460)
    assert _statuses(stubs) == ["CHECKING", "OFFERED", "APPROVAL_PENDING", "DISBURSING", "FUNDED", "PAID", "CLOSED"]
    transfers = stubs.args("sme_send_transfer")
    assert [(t.kind, t.amount) for t in transfers] == [("ADVANCE", 80_000_029), ("RESERVE", 19_079_460)]
    assert len(stubs.args("sme_record_payment")) == 1
    assert "sme_mark_overdue" not in stubs.names()


async def test_a_duplicate_invoice_is_refused_with_its_reason_and_nothing_else_is_asked(env) -> None:  # noqa: ANN001
    stubs = Stubs(sme_check_duplicate=CheckAnswer(False, "DUPLICATE_INVOICE", "already submitted as inv-0"))
    async with _worker(env, stubs) as worker:
        run = await _start(env, stubs, worker)
        final = await run.handle.result()
    assert (final.status, final.reason) == ("REFUSED", "DUPLICATE_INVOICE")
    assert final.reason_text == "already submitted as inv-0"
    assert "sme_verify_business" not in stubs.names() and "sme_send_transfer" not in stubs.names()
    assert [n.event for n in stubs.args("sme_notify")] == ["REFUSED"]


async def test_an_unverified_buyer_is_refused_before_scoring(env) -> None:  # noqa: ANN001
    stubs = Stubs(sme_verify_buyer=CheckAnswer(False, "BUYER_UNVERIFIED"))
    async with _worker(env, stubs) as worker:
        run = await _start(env, stubs, worker)
        final = await run.handle.result()
    assert (final.status, final.reason) == ("REFUSED", "BUYER_UNVERIFIED")
    assert final.reason_text and "buyer" in final.reason_text
    assert "sme_score" not in stubs.names()


async def test_a_score_below_every_lender_is_refused_as_score_too_low(env) -> None:  # noqa: ANN001
    stubs = Stubs(sme_score=ScoreAnswer(40, "D"))
    async with _worker(env, stubs) as worker:
        final = await (await _start(env, stubs, worker)).handle.result()
    assert (final.status, final.reason) == ("REFUSED", "SCORE_TOO_LOW")


async def test_maker_checker_refuses_the_same_person_as_checker(env) -> None:  # noqa: ANN001
    stubs = Stubs()
    async with _worker(env, stubs) as worker:
        run = await _start(env, stubs, worker)
        await run.until("OFFERED")
        await run.handle.execute_update(InvoiceFinancingWorkflow.accept_offer, OfferAcceptance("biz-1", "own-book"))
        with pytest.raises(WorkflowUpdateFailedError) as checker_first:
            await run.handle.execute_update(InvoiceFinancingWorkflow.decide, run.staff("s-1", step="CHECKER"))
        assert checker_first.value.cause.type == "Conflict"  # type: ignore[union-attr]
        await run.handle.execute_update(InvoiceFinancingWorkflow.decide, run.staff("s-1"))
        with pytest.raises(WorkflowUpdateFailedError) as same:
            await run.handle.execute_update(InvoiceFinancingWorkflow.decide, run.staff("s-1", step="CHECKER"))
        assert same.value.cause.type == "PermissionDenied"  # type: ignore[union-attr]
        state = await run.state()
        assert (state.status, state.maker_id, state.checker_id) == ("APPROVAL_PENDING", "s-1", None)
        assert "sme_send_transfer" not in stubs.names()
        await run.handle.execute_update(InvoiceFinancingWorkflow.decide, run.staff("s-2", step="CHECKER"))
        state = await run.until("FUNDED")
        assert (state.maker_id, state.checker_id) == ("s-1", "s-2")
        await run.handle.terminate()


async def test_staff_of_another_brand_cannot_decide(env) -> None:  # noqa: ANN001
    stubs = Stubs()
    async with _worker(env, stubs) as worker:
        run = await _start(env, stubs, worker)
        await run.until("OFFERED")
        await run.handle.execute_update(InvoiceFinancingWorkflow.accept_offer, OfferAcceptance("biz-1", "own-book"))
        other = SmeStaffDecision("s-9", "CREDIT_EXECUTIVE", "brand-2", "APPROVE", "MAKER")
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await run.handle.execute_update(InvoiceFinancingWorkflow.decide, other)
        assert refused.value.cause.type == "NotFound"  # type: ignore[union-attr]
        with pytest.raises(WorkflowUpdateFailedError) as not_owner:
            await run.handle.execute_update(InvoiceFinancingWorkflow.accept_offer, OfferAcceptance("biz-2", "own-book"))
        assert not_owner.value.cause.type == "NotFound"  # type: ignore[union-attr]
        await run.handle.execute_update(InvoiceFinancingWorkflow.decide, run.staff("s-1", "REJECT"))
        final = await run.handle.result()
    assert final.status == "REJECTED" and "sme_send_transfer" not in stubs.names()


async def test_buyer_pays_late_overdue_collections_then_paid_with_the_late_charge_from_the_reserve(env) -> None:  # noqa: ANN001
    stubs = Stubs()
    async with _worker(env, stubs) as worker:
        run = await _start(env, stubs, worker)
        await run.to_funded()
        due: date = run.inp.due_date
        # noon IST 12 days past the due date, whatever the hour the test starts at
        noon = datetime.combine(due + timedelta(days=12), time(12), tzinfo=IST)
        await skip_time(env, noon)
        state = await run.state()
        assert state.status == "OVERDUE"
        marks = stubs.args("sme_mark_overdue")
        assert [m.reminder for m in marks] == [1, 2, 3, 4] and marks[0].days_late == 1
        assert (await env.get_current_time()).astimezone(IST).date() == due + timedelta(days=12)
        await run.pay("late-1", AMOUNT - 1_000_00)  # short: still overdue
        await asyncio.sleep(0.5)
        assert (await run.state()).status == "OVERDUE"
        await run.pay("late-2", 1_000_00)
        final = await run.handle.result()
    assert final.status == "CLOSED"
    assert (final.collected, final.late_charge, final.release) == (AMOUNT, 631_233, 18_448_227)
    assert _statuses(stubs)[-4:] == ["FUNDED", "OVERDUE", "PAID", "CLOSED"]
    events = [n.event for n in stubs.args("sme_notify")]
    assert events.count("DUE_SOON") == 1 and events.count("OVERDUE") == 4
    assert stubs.args("sme_record_settlement")[0].late_charge == 631_233


async def test_offers_not_accepted_in_time_expire(env) -> None:  # noqa: ANN001
    stubs = Stubs()
    async with _worker(env, stubs) as worker:
        final = await (await _start(env, stubs, worker)).handle.result()
    assert final.status == "EXPIRED" and _statuses(stubs)[-1] == "EXPIRED"


async def test_a_refused_advance_holds_the_request_until_staff_retry(env) -> None:  # noqa: ANN001
    stubs = Stubs(sme_send_transfer=[TransferAnswer("FAILED", reason="account closed"), TransferAnswer("SENT")])
    stubs.answers["sme_check_transfer"] = TransferAnswer("SUCCESS", "UTR2")
    async with _worker(env, stubs) as worker:
        run = await _start(env, stubs, worker)
        await run.until("OFFERED")
        await run.handle.execute_update(InvoiceFinancingWorkflow.accept_offer, OfferAcceptance("biz-1", "own-book"))
        await run.handle.execute_update(InvoiceFinancingWorkflow.decide, run.staff("m"))
        await run.handle.execute_update(InvoiceFinancingWorkflow.decide, run.staff("c", step="CHECKER"))
        held = await run.until("NEEDS_ATTENTION")
        assert (held.hold_step, held.hold_reason) == ("ADVANCE", "account closed")
        await run.handle.execute_update(InvoiceFinancingWorkflow.resume, run.staff("ops", "RETRY"))
        funded = await run.until("FUNDED")
        assert funded.advance_utr == "UTR2"
        await run.handle.terminate()


async def test_a_vendor_down_during_the_checks_holds_the_request_until_staff_retry(env) -> None:  # noqa: ANN001
    down = ApplicationError("brand has no sme provider for gstin", type="BusinessRefusal", non_retryable=True)
    stubs = Stubs(sme_verify_business=[down, OK])
    async with _worker(env, stubs) as worker:
        run = await _start(env, stubs, worker)
        held = await run.until("NEEDS_ATTENTION")
        assert held.hold_step == "CHECKS" and held.hold_reason and "could not be completed" in held.hold_reason
        assert "sme_score" not in stubs.names()
        await run.handle.execute_update(InvoiceFinancingWorkflow.resume, run.staff("ops", "RETRY"))
        offered = await run.until("OFFERED")
        assert offered.score == 78 and _statuses(stubs)[-3:] == ["NEEDS_ATTENTION", "CHECKING", "OFFERED"]
        await run.handle.terminate()


async def test_a_refused_reserve_release_is_held_retried_never_rejected(env) -> None:  # noqa: ANN001
    stubs = Stubs(
        sme_send_transfer=[
            TransferAnswer("SUCCESS", "UTR-A"),
            TransferAnswer("FAILED", reason="beneficiary bank down"),
            TransferAnswer("SENT"),
        ]
    )
    stubs.answers["sme_check_transfer"] = TransferAnswer("SENT")
    async with _worker(env, stubs) as worker:
        run = await _start(env, stubs, worker)
        await run.to_funded()
        await run.pay("p-1", AMOUNT)
        held = await run.until("NEEDS_ATTENTION")
        assert (held.hold_step, held.release) == ("RESERVE", 19_079_460)
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await run.handle.execute_update(InvoiceFinancingWorkflow.resume, run.staff("ops", "REJECT"))
        assert refused.value.cause.type == "Conflict"  # type: ignore[union-attr]
        await run.handle.execute_update(InvoiceFinancingWorkflow.resume, run.staff("ops", "RETRY"))
        await run.until("PAID")
        asked = len(stubs.args("sme_check_transfer"))
        stubs.answers["sme_check_transfer"] = TransferAnswer("SUCCESS", "UTR-R")
        # a bank callback that does not say which transfer: the workflow asks the bank's status API at once
        from workflows.contracts.sme import TransferEvent

        await run.handle.signal(InvoiceFinancingWorkflow.transfer_event, TransferEvent("ANY", "CHECK"))
        closed = await run.until("CLOSED", tries=40)  # within 2 s: before the first 5 s poll would have asked
        final = await run.handle.result()
    assert (closed.status, final.release_utr) == ("CLOSED", "UTR-R")
    assert len(stubs.args("sme_check_transfer")) == asked + 1
    outcomes = [(o.kind, o.status) for o in stubs.args("sme_record_transfer")]
    assert outcomes == [("ADVANCE", "SUCCESS"), ("RESERVE", "FAILED"), ("RESERVE", "SUCCESS")]
