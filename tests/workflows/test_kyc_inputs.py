"""A customer's input to a KYC step (``LoanWorkflow.kyc_input``: a statement uploaded, a bank account given) that
arrives while the step's attempt runs: against stub activities, in virtual time.

The attempt read the database before the upload's commit and answers WAITING; the upload's signal reached the workflow
before that answer. Under kyc-inputs-ahead-v1 the step runs again with the upload at once; on code before it,
the step waited for a newer input until the brand's KYC timeout rejected the loan (kept for the runs it recorded)."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowFailureError, WorkflowHistory
from temporalio.worker import Replayer

from tests.workflows.stubs import (
    SUPER_ADMIN,
    LoanRun,
    StubActivities,
    change,
    loan_input,
    patch_markers,
    policy,
    record_if_asked,
    running_loan,
    start_loan,
    worker_before,
)
from workflows.contracts import (
    AadhaarInitiate,
    AadhaarOtp,
    DecisionResult,
    KycInput,
    KycStepResult,
    LoanWorkflowResult,
)
from workflows.loan import LoanWorkflow
from workflows.options import KYC_INPUTS_AHEAD_PATCH, KYC_READ_ON_UPLOAD_PATCH

WAITING = KycStepResult("BANK_STATEMENT", "WAITING", "upload the last 3 months' statement")
ANALYSED = KycStepResult("BANK_STATEMENT", "PASSED", provider="stub", facts={"bsa.salary_months": 3})
REJECTED = DecisionResult("REJECT", ["FOIR 71% above 60%"])
INP = loan_input(loan_policy=policy(kyc_steps=["PAN", "BANK_STATEMENT"], kyc_timeout_seconds=3600))


def racing_stubs() -> StubActivities:
    """The statement step answers WAITING, then PASSED; its first answer is held until the test lets it go."""
    return StubActivities(
        kyc={"BANK_STATEMENT": [WAITING, ANALYSED]},
        kyc_held={"BANK_STATEMENT": asyncio.Event()},
        decision=REJECTED,
    )


async def upload_while_the_first_attempt_runs(run: LoanRun) -> None:
    """The statement's first attempt has looked (and found nothing); the customer's upload reaches the workflow; only
    then does the attempt answer WAITING."""
    stubs = run.stubs
    await stubs.wait_for(lambda: len(stubs.kyc_requests()) == 2, "the statement step's first attempt")
    await run.signal("kyc_input", KycInput("BANK_STATEMENT", "doc-9"))
    for _ in range(250):  # the signal handled (a query answers between workflow tasks)
        if (await run.kyc_status())["inputsReceived"] == 1:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the upload's signal was not handled")
    assert (await run.kyc_status())["waitingFor"] is None  # the attempt has not answered yet
    stubs.kyc_held["BANK_STATEMENT"].set()


async def before_the_patch(  # noqa: ANN001
    env, stubs: StubActivities, inp, drive, patch: str = KYC_INPUTS_AHEAD_PATCH
) -> tuple[LoanRun, WorkflowHistory]:
    """The loan run by the code before ``patch`` (kyc-inputs-ahead-v1 unless named; refused), ``drive(run)`` acting
    on it until it is rejected; its history, which must replay on this code and records no marker of the patch."""
    queue = f"stub-{uuid.uuid4().hex[:10]}"
    async with worker_before(env, stubs, queue, {patch}):
        run = await start_loan(env, stubs, inp, queue)
        await drive(run)
        assert await run.result() == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
        history = await env.client.get_workflow_handle(run.handle.id).fetch_history()
    assert patch not in patch_markers(history)
    replayer = Replayer(workflows=[LoanWorkflow], data_converter=env.client.data_converter)
    replayed = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert replayed.replay_failure is None, replayed.replay_failure
    return run, history


async def test_an_upload_that_races_the_statement_attempt_wakes_the_step_at_once(env) -> None:  # noqa: ANN001
    stubs = racing_stubs()
    async with running_loan(env, stubs, INP) as run:
        await upload_while_the_first_attempt_runs(run)
        result = await run.result()
        history = (await run._histories())[0]
        await record_if_asked(env, run, "kyc_input_race")
    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    # the step ran again with the upload, and the decision (not the KYC timeout) rejected the loan
    assert [(r.step, r.idempotency_key, r.ref_id) for r in stubs.kyc_requests()] == [
        ("PAN", f"{run.key}:kyc:pan:1", None),
        ("BANK_STATEMENT", f"{run.key}:kyc:bank_statement:1", None),
        ("BANK_STATEMENT", f"{run.key}:kyc:bank_statement:2", "doc-9"),
    ]
    assert stubs.decision_facts() == {"kyc.pan.ok": True, "kyc.bsa.salary_months": 3}
    assert stubs.of("record_status") == [change(run, 1, "APPLIED", "REJECTED", "FOIR 71% above 60%")]
    assert KYC_INPUTS_AHEAD_PATCH in patch_markers(history)


async def test_on_code_before_the_patch_the_racing_upload_is_missed_until_the_kyc_timeout(env) -> None:  # noqa: ANN001
    """The code before kyc-inputs-ahead-v1 (the patch refused) waits for an input newer than the racing upload,
    so the brand's KYC timeout rejects the loan; that run's history replays on this code, with the same outcome."""
    stubs = racing_stubs()
    run, _ = await before_the_patch(env, stubs, INP, upload_while_the_first_attempt_runs)
    assert [r.step for r in stubs.kyc_requests()] == ["PAN", "BANK_STATEMENT"]
    assert stubs.of("record_status") == [
        change(run, 1, "APPLIED", "REJECTED", "KYC_BANK_STATEMENT: customer did not complete it in time")
    ]


def task_of(history: WorkflowHistory) -> dict[str, int]:
    """Each activity's (first) workflow task in ``history``, numbered from 1: the task whose completion scheduled it,
    or, for a local activity, whose completion recorded its marker (the task that ran it)."""
    found: dict[str, int] = {}
    completed = 0
    for event in history.events:
        if event.HasField("workflow_task_completed_event_attributes"):
            completed += 1
        elif event.HasField("activity_task_scheduled_event_attributes"):
            found.setdefault(event.activity_task_scheduled_event_attributes.activity_type.name, completed)
        elif event.HasField("marker_recorded_event_attributes"):
            attrs = event.marker_recorded_event_attributes
            if attrs.marker_name == "core_local_activity":
                name = json.loads(attrs.details["data"].payloads[0].data)["activity_type"]
                found.setdefault(name, completed)  # recorded right after the completion of the task that ran it
    return found


AHEAD_INP = loan_input(loan_policy=policy(kyc_steps=["PAN", "AADHAAR", "MOBILE", "BANK_STATEMENT"]))


async def verify_aadhaar_then_decide(run: LoanRun) -> tuple[LoanWorkflowResult, WorkflowHistory]:
    await run.until_kyc_waiting("AADHAAR")
    sealed = AadhaarInitiate(aadhaar_sealed="sealed-aadhaar", aadhaar_masked="XXXX-XXXX-1236")
    assert await run.update("aadhaar_initiate", sealed) == {"status": "OTP_SENT"}
    assert await run.update("aadhaar_submit", AadhaarOtp("123456")) == {"status": "VERIFIED"}
    result = await run.result()
    history = await run.env.client.get_workflow_handle(run.handle.id).fetch_history()
    return result, history


async def test_the_statement_given_ahead_is_read_beside_the_aadhaar_handoff_while_the_lookups_run(env) -> None:  # noqa: ANN001
    """The customer uploaded the statement before its step (the stub's first attempt finds it: PASSED). Its first
    attempt is scheduled in the workflow task that schedules the OTP's handoff, before the mobile lookup runs."""
    stubs = StubActivities(kyc={"BANK_STATEMENT": [ANALYSED]}, decision=REJECTED)
    async with running_loan(env, stubs, AHEAD_INP) as run:
        result, history = await verify_aadhaar_then_decide(run)
        await record_if_asked(env, run, "kyc_inputs_ahead")
    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    tasks = task_of(history)
    assert tasks["kyc_bank_statement"] == tasks["aadhaar_answered"] < tasks["kyc_mobile"]
    # one attempt each, in the order the workflow started them, and the decision over all their facts
    assert [(r.step, r.idempotency_key) for r in stubs.kyc_requests()] == [
        ("PAN", f"{run.key}:kyc:pan:1"),
        ("BANK_STATEMENT", f"{run.key}:kyc:bank_statement:1"),
        ("MOBILE", f"{run.key}:kyc:mobile:1"),
    ]
    assert stubs.decision_facts() == {
        "kyc.pan.ok": True,
        "kyc.aadhaar.name_match": "100.00",
        "kyc.mobile.ok": True,
        "kyc.bsa.salary_months": 3,
    }
    assert KYC_INPUTS_AHEAD_PATCH in patch_markers(history)


async def test_a_statement_not_given_ahead_is_still_waited_for_after_the_lookups(env) -> None:  # noqa: ANN001
    """Started beside the handoff, the statement's first attempt finds nothing (WAITING); the step waits its turn,
    after the mobile lookup, and the upload then completes it."""
    stubs = StubActivities(kyc={"BANK_STATEMENT": [WAITING, ANALYSED]}, decision=REJECTED)
    async with running_loan(env, stubs, AHEAD_INP) as run:
        await run.until_kyc_waiting("AADHAAR")
        sealed = AadhaarInitiate(aadhaar_sealed="sealed-aadhaar", aadhaar_masked="XXXX-XXXX-1236")
        await run.update("aadhaar_initiate", sealed)
        await run.update("aadhaar_submit", AadhaarOtp("123456"))
        status = await run.until_kyc_waiting("BANK_STATEMENT")
        assert status["results"] == {"PAN": "PASSED", "AADHAAR": "PASSED", "MOBILE": "PASSED"}
        await run.signal("kyc_input", KycInput("BANK_STATEMENT", "doc-9"))
        result = await run.result()
    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    assert [(r.step, r.ref_id) for r in stubs.kyc_requests()] == [
        ("PAN", None),
        ("BANK_STATEMENT", None),
        ("MOBILE", None),
        ("BANK_STATEMENT", "doc-9"),
    ]


async def test_on_code_before_the_patch_the_statement_goes_out_after_the_lookups(env) -> None:  # noqa: ANN001
    """The code before kyc-inputs-ahead-v1: the statement's first attempt is scheduled only with the lookups' results;
    that run's history replays on this code."""
    stubs = StubActivities(kyc={"BANK_STATEMENT": [ANALYSED]}, decision=REJECTED)
    _, history = await before_the_patch(env, stubs, AHEAD_INP, verify_aadhaar_then_decide)
    tasks = task_of(history)
    assert tasks["aadhaar_answered"] < tasks["kyc_mobile"] == tasks["kyc_bank_statement"]


def timers_started(history: WorkflowHistory) -> int:
    return sum(1 for event in history.events if event.HasField("timer_started_event_attributes"))


async def upload_while_aadhaar_is_awaited(run: LoanRun) -> tuple[LoanWorkflowResult, WorkflowHistory]:
    await run.until_kyc_waiting("AADHAAR")
    await run.signal("kyc_input", KycInput("BANK_STATEMENT", "doc-9"))
    for _ in range(250):
        if (await run.kyc_status())["inputsReceived"] == 1:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the upload's signal was not handled")
    return await verify_aadhaar_then_decide(run)


STATEMENT_AFTER_AADHAAR = loan_input(loan_policy=policy(kyc_steps=["PAN", "AADHAAR", "BANK_STATEMENT"]))


async def test_a_statement_uploaded_while_the_otp_is_awaited_leaves_that_wait_alone(env) -> None:  # noqa: ANN001
    """An input wakes only the step it was given for: the Aadhaar step's wait (and its timeout timer) goes on as it
    was; the statement's first attempt reads the upload it names."""
    stubs = StubActivities(kyc={"BANK_STATEMENT": [ANALYSED]}, decision=REJECTED)
    async with running_loan(env, stubs, STATEMENT_AFTER_AADHAAR) as run:
        result, history = await upload_while_aadhaar_is_awaited(run)
        await record_if_asked(env, run, "kyc_input_own_step")
    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    assert timers_started(history) == 1  # the Aadhaar wait's, never restarted
    assert [(r.step, r.ref_id) for r in stubs.kyc_requests()] == [("PAN", None), ("BANK_STATEMENT", "doc-9")]


async def test_on_code_before_the_patch_any_input_restarts_the_aadhaar_wait(env) -> None:  # noqa: ANN001
    stubs = StubActivities(kyc={"BANK_STATEMENT": [ANALYSED]}, decision=REJECTED)
    _, history = await before_the_patch(env, stubs, STATEMENT_AFTER_AADHAAR, upload_while_aadhaar_is_awaited)
    assert timers_started(history) == 2  # woken by the statement's input, the Aadhaar step waited again


# kyc-read-on-upload-v1: a statement given while the Aadhaar OTP is awaited is read at once


async def the_upload_is_read_while_the_otp_is_awaited(run: LoanRun) -> None:
    """The statement's first attempt has run with the upload (doc-9) and the Aadhaar step still waits."""
    stubs = run.stubs
    await stubs.wait_for(
        lambda: [r.ref_id for r in stubs.kyc_requests() if r.step == "BANK_STATEMENT"], "the statement read on upload"
    )
    assert [(r.step, r.ref_id) for r in stubs.kyc_requests()] == [("PAN", None), ("BANK_STATEMENT", "doc-9")]
    assert (await run.kyc_status())["waitingFor"] == "AADHAAR"


async def test_a_statement_uploaded_while_the_otp_is_awaited_is_read_before_the_otp_comes(env) -> None:  # noqa: ANN001
    """The upload's signal starts the statement's first attempt (an activity task) while the Aadhaar step waits; once
    the OTP is verified, the lookup runs and the decision follows with the statement's result already in."""
    stubs = StubActivities(kyc={"BANK_STATEMENT": [ANALYSED]}, decision=REJECTED)
    async with running_loan(env, stubs, AHEAD_INP) as run:
        await run.until_kyc_waiting("AADHAAR")
        await run.signal("kyc_input", KycInput("BANK_STATEMENT", "doc-9"))
        await the_upload_is_read_while_the_otp_is_awaited(run)
        result, history = await verify_aadhaar_then_decide(run)
        await record_if_asked(env, run, "kyc_read_on_upload")
    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    tasks = task_of(history)
    assert tasks["kyc_bank_statement"] < tasks["aadhaar_answered"] < tasks["kyc_mobile"]
    assert [(r.step, r.idempotency_key, r.ref_id) for r in stubs.kyc_requests()] == [
        ("PAN", f"{run.key}:kyc:pan:1", None),
        ("BANK_STATEMENT", f"{run.key}:kyc:bank_statement:1", "doc-9"),
        ("MOBILE", f"{run.key}:kyc:mobile:1", None),
    ]
    assert stubs.decision_facts() == {
        "kyc.pan.ok": True,
        "kyc.aadhaar.name_match": "100.00",
        "kyc.mobile.ok": True,
        "kyc.bsa.salary_months": 3,
    }
    assert {KYC_INPUTS_AHEAD_PATCH, KYC_READ_ON_UPLOAD_PATCH} <= set(patch_markers(history))


ACCOUNT_WAITING = KycStepResult("BANK_ACCOUNT", "WAITING", "add a bank account")
ACCOUNT_FIRST = loan_input(loan_policy=policy(kyc_steps=["PAN", "BANK_ACCOUNT", "AADHAAR", "BANK_STATEMENT"]))


async def test_a_statement_uploaded_before_the_aadhaar_step_is_read_where_that_step_starts(env) -> None:  # noqa: ANN001
    """Uploaded while an earlier step (the penny drop) waits for its own input, the statement neither wakes that step
    nor is read yet; it is read as soon as the Aadhaar step starts waiting, before the OTP comes."""
    stubs = StubActivities(kyc={"BANK_ACCOUNT": [ACCOUNT_WAITING], "BANK_STATEMENT": [ANALYSED]}, decision=REJECTED)
    async with running_loan(env, stubs, ACCOUNT_FIRST) as run:
        await run.until_kyc_waiting("BANK_ACCOUNT")
        await run.signal("kyc_input", KycInput("BANK_STATEMENT", "doc-9"))
        await asyncio.sleep(0.3)  # handled, and nothing started for it
        assert [r.step for r in stubs.kyc_requests()] == ["PAN", "BANK_ACCOUNT"]
        stubs.kyc["BANK_ACCOUNT"] = [ACCOUNT_WAITING, KycStepResult("BANK_ACCOUNT", "PASSED", provider="stub")]
        await run.signal("kyc_input", KycInput("BANK_ACCOUNT", "acct-1"))
        await run.until_kyc_waiting("AADHAAR")
        await stubs.wait_for(
            lambda: [r for r in stubs.kyc_requests() if r.step == "BANK_STATEMENT"], "the statement read on upload"
        )
        assert (await run.kyc_status())["waitingFor"] == "AADHAAR"
        result, _ = await verify_aadhaar_then_decide(run)
    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    assert [(r.step, r.ref_id) for r in stubs.kyc_requests()] == [
        ("PAN", None),
        ("BANK_ACCOUNT", None),
        ("BANK_ACCOUNT", "acct-1"),
        ("BANK_STATEMENT", "doc-9"),
    ]


async def test_a_statement_read_on_upload_is_cancelled_when_the_otp_never_comes(env) -> None:  # noqa: ANN001
    """The statement's read, started on its upload, is still running when the Aadhaar wait times out: the loan is
    rejected for the OTP, and the read is cancelled rather than left running under a rejected loan."""
    held = asyncio.Event()
    stubs = StubActivities(kyc={"BANK_STATEMENT": [ANALYSED]}, kyc_held={"BANK_STATEMENT": held}, decision=REJECTED)
    inp = loan_input(loan_policy=policy(kyc_steps=["PAN", "AADHAAR", "BANK_STATEMENT"], kyc_timeout_seconds=2))
    async with running_loan(env, stubs, inp) as run:
        await run.until_kyc_waiting("AADHAAR")
        await run.signal("kyc_input", KycInput("BANK_STATEMENT", "doc-9"))
        await the_upload_is_read_while_the_otp_is_awaited(run)
        try:
            result = await run.result()
            history = await env.client.get_workflow_handle(run.handle.id).fetch_history()
        finally:
            held.set()
    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    assert stubs.of("record_status") == [
        change(run, 1, "APPLIED", "REJECTED", "KYC_AADHAAR: customer did not complete it in time")
    ]
    assert any(e.HasField("activity_task_cancel_requested_event_attributes") for e in history.events)


async def test_on_code_before_read_on_upload_the_statement_given_ahead_goes_out_with_the_handoff(env) -> None:  # noqa: ANN001
    """The code before kyc-read-on-upload-v1 (that patch refused): an upload during the OTP wait is read only with the
    verified OTP's handoff; that run's history replays on this code."""
    stubs = StubActivities(kyc={"BANK_STATEMENT": [ANALYSED]}, decision=REJECTED)

    async def drive(run: LoanRun) -> None:
        await upload_while_aadhaar_is_awaited(run)

    _, history = await before_the_patch(env, stubs, AHEAD_INP, drive, KYC_READ_ON_UPLOAD_PATCH)
    assert KYC_INPUTS_AHEAD_PATCH in patch_markers(history)
    tasks = task_of(history)
    assert tasks["kyc_bank_statement"] == tasks["aadhaar_answered"] < tasks["kyc_mobile"]


async def test_a_statement_uploaded_again_while_the_otp_is_awaited_is_read_again(env) -> None:  # noqa: ANN001
    """The first upload (doc-9) read and PASSED, the borrower uploads another (doc-10) before the OTP: that one is
    read too, as its own attempt, and its analysis is the one the decision gets."""
    again = KycStepResult("BANK_STATEMENT", "PASSED", provider="stub", facts={"bsa.salary_months": 6})
    stubs = StubActivities(kyc={"BANK_STATEMENT": [ANALYSED, again]}, decision=REJECTED)
    async with running_loan(env, stubs, AHEAD_INP) as run:
        await run.until_kyc_waiting("AADHAAR")
        await run.signal("kyc_input", KycInput("BANK_STATEMENT", "doc-9"))
        await the_upload_is_read_while_the_otp_is_awaited(run)
        await run.signal("kyc_input", KycInput("BANK_STATEMENT", "doc-10"))
        await stubs.wait_for(lambda: len(stubs.kyc_requests()) == 3, "the second upload read")
        result, _ = await verify_aadhaar_then_decide(run)
    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    assert [(r.step, r.idempotency_key, r.ref_id) for r in stubs.kyc_requests()] == [
        ("PAN", f"{run.key}:kyc:pan:1", None),
        ("BANK_STATEMENT", f"{run.key}:kyc:bank_statement:1", "doc-9"),
        ("BANK_STATEMENT", f"{run.key}:kyc:bank_statement:2", "doc-10"),
        ("MOBILE", f"{run.key}:kyc:mobile:1", None),
    ]
    assert stubs.decision_facts()["kyc.bsa.salary_months"] == 6


async def test_a_statement_read_on_upload_that_the_vendor_refuses_holds_the_loan_only_in_its_turn(env) -> None:  # noqa: ANN001
    """The read started on the upload is refused while the OTP is awaited: the loan is not held then (the borrower
    can still ask for the OTP); in its turn, after the OTP, the statement runs again and its refusal holds the loan
    for ops, whose rejection ends it with their reason."""
    stubs = StubActivities(kyc={"BANK_STATEMENT": ["the statement is not a bank statement"]}, decision=REJECTED)
    async with running_loan(env, stubs, AHEAD_INP) as run:
        await run.until_kyc_waiting("AADHAAR")
        await run.signal("kyc_input", KycInput("BANK_STATEMENT", "doc-9"))
        await the_upload_is_read_while_the_otp_is_awaited(run)
        await until_in_history(run, "activity_task_failed_event_attributes")  # its refusal reached the workflow
        assert (await run.kyc_status())["waitingFor"] == "AADHAAR"
        assert stubs.of("record_status") == []  # not held while the OTP is awaited
        sealed = AadhaarInitiate(aadhaar_sealed="sealed-aadhaar", aadhaar_masked="XXXX-XXXX-1236")
        assert await run.update("aadhaar_initiate", sealed) == {"status": "OTP_SENT"}
        assert await run.update("aadhaar_submit", AadhaarOtp("123456")) == {"status": "VERIFIED"}
        await run.until_status("NEEDS_ATTENTION")
        assert await run.update("reject_hold", SUPER_ADMIN.act(reason="not a bank statement")) == "REJECTED"
        result = await run.result()
    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    assert [(r.step, r.idempotency_key) for r in stubs.kyc_requests()] == [
        ("PAN", f"{run.key}:kyc:pan:1"),
        ("BANK_STATEMENT", f"{run.key}:kyc:bank_statement:1"),
        ("MOBILE", f"{run.key}:kyc:mobile:1"),
        ("BANK_STATEMENT", f"{run.key}:kyc:bank_statement:2"),
    ]
    moves = [(c.to_status, c.reason) for c in stubs.of("record_status")]
    assert moves[0][0] == "NEEDS_ATTENTION" and "the statement is not a bank statement" in moves[0][1], moves
    assert moves[-1] == ("REJECTED", "not a bank statement"), moves


async def until_in_history(run: LoanRun, attributes: str) -> None:
    """Wait until the loan's history has an event with ``attributes`` (and a workflow task completed after it)."""
    for _ in range(250):
        events = (await run.env.client.get_workflow_handle(run.handle.id).fetch_history()).events
        at = [n for n, e in enumerate(events) if e.HasField(attributes)]
        if at and any(e.HasField("workflow_task_completed_event_attributes") for e in events[at[0] :]):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"no {attributes} in the history")


async def test_a_run_cancelled_while_its_group_awaits_the_read_on_upload_ends_cancelled(env) -> None:  # noqa: ANN001
    """The OTP verified, the lookup running and the statement's read (started on its upload) still under way: the
    run is cancelled. The read's cancellation is not taken for a failed read: nothing is read again, nothing held,
    and the run ends CANCELED."""
    held = asyncio.Event()
    stubs = StubActivities(
        kyc={"BANK_STATEMENT": [ANALYSED, "the vendor refuses"]}, kyc_held={"BANK_STATEMENT": held}, decision=REJECTED
    )
    async with running_loan(env, stubs, AHEAD_INP) as run:
        await run.until_kyc_waiting("AADHAAR")
        await run.signal("kyc_input", KycInput("BANK_STATEMENT", "doc-9"))
        await the_upload_is_read_while_the_otp_is_awaited(run)
        sealed = AadhaarInitiate(aadhaar_sealed="sealed-aadhaar", aadhaar_masked="XXXX-XXXX-1236")
        await run.update("aadhaar_initiate", sealed)
        await run.update("aadhaar_submit", AadhaarOtp("123456"))
        await stubs.wait_for(lambda: any(r.step == "MOBILE" for r in stubs.kyc_requests()), "the mobile lookup")
        await run.handle.cancel()
        try:
            with pytest.raises(WorkflowFailureError):
                await asyncio.wait_for(run.handle.result(), 30)  # a run that swallowed the cancel would not end
            status = (await run.handle.describe()).status
        finally:
            held.set()
    assert status == WorkflowExecutionStatus.CANCELED
    assert [r.idempotency_key for r in stubs.kyc_requests() if r.step == "BANK_STATEMENT"] == [
        f"{run.key}:kyc:bank_statement:1"
    ]
    assert stubs.of("record_status") == []  # never held
