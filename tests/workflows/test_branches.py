"""Every branch of LoanWorkflow against stub activities (tests/workflows/stubs.py), in virtual time.

No database, provider sandbox, browser or API: the real workflow runs on the Java time-skipping test server
with stubs registered under the production activity names, and each test asserts the exact status moves and
activity calls the branch makes, so a change in the workflow's behaviour fails here. Virtual time skips ahead
only while a test awaits the workflow's result or sleeps the test server's clock, so every timer fires when
the test says so. (Once a workflow has ended, awaiting a result may also skip the clock years ahead, to the
test server's leftover execution timeouts of ended workflows: no test reads the clock after its result.)

Run: ``pytest tests/workflows/test_branches.py`` (a few seconds; needs only ``temporal-test-server``).
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import datetime, time, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal

import pytest
from temporalio import activity

from domain.money import MAX_ENTERED_PAISE
from tests.workflows.stubs import (
    CREDIT_EXECUTIVE,
    LOAN_EXECUTIVE,
    SANCTION_HEAD,
    SANCTION_MANAGER,
    SUPER_ADMIN,
    LoanRun,
    Refusal,
    Staff,
    StubActivities,
    change,
    decision_activities,
    decision_keys,
    kfs_change,
    kyc_activity,
    loan_input,
    pay_every_installment,
    policy,
    production_activity_names,
    record_if_asked,
    refused,
    review_change,
    running_loan,
    terms,
    to_agreement_signed,
)
from worker import workflow_runner
from workflows.contracts import (
    AadhaarInitiate,
    AadhaarOtp,
    ClosureRecord,
    CreditBalanceRecord,
    DecisionResult,
    DelinquencyRecord,
    KycInput,
    KycStepResult,
    LoanWorkflowResult,
    OverdueRecord,
    ParkedPayment,
    PaymentEvent,
    PaymentPart,
    PenalLevy,
    RefundSettled,
    TransferFailure,
)

IST = timezone(timedelta(hours=5, minutes=30))
MANUAL_REVIEW = DecisionResult("MANUAL_REVIEW", ["score 700 needs review"], "70.00")
# The stub's verified beneficiary (account ending 1234); the stub bank names no rail, so the reason says "bank".
TR_1_INITIATED = "transfer TR-1 initiated (bank to account XXXX1234)"
TR_2_INITIATED = "transfer TR-2 initiated (bank to account XXXX1234)"


def test_stubs_stand_in_for_every_production_activity() -> None:
    names = {activity._Definition.must_from_callable(fn).name for fn in StubActivities().all()}
    assert names == production_activity_names()


# --- decided before sanction ---------------------------------------------------------------------
async def test_rejected_by_the_credit_decision(env) -> None:  # noqa: ANN001
    stubs = StubActivities(decision=DecisionResult("REJECT", ["bureau score 590 below 650", "FOIR 72%"]))
    async with running_loan(env, stubs) as run:
        result = await run.result()
    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    assert stubs.names() == [kyc_activity("PAN"), *decision_activities("REJECT"), "record_status"]
    (pan,) = stubs.kyc_requests()
    assert (pan.step, pan.idempotency_key, pan.ref_id) == ("PAN", f"{run.key}:kyc:pan:1", None)
    assert [c.arg.idempotency_key for c in stubs.decisions()] == decision_keys(run.key, "REJECT")
    assert stubs.decision_facts() == {"kyc.pan.ok": True}
    assert stubs.of("record_status") == [
        change(run, 1, "APPLIED", "REJECTED", "bureau score 590 below 650; FOIR 72%"),
    ]


async def test_rejected_by_a_failed_kyc_step(env) -> None:  # noqa: ANN001
    stubs = StubActivities(kyc={"MOBILE": [KycStepResult("MOBILE", "FAILED", "mobile not linked to the PAN")]})
    inp = loan_input(loan_policy=policy(kyc_steps=["PAN", "MOBILE", "CKYC"]))
    async with running_loan(env, stubs, inp) as run:
        result = await run.result()
    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    # PAN alone; MOBILE and CKYC (automated) start together; MOBILE's failure ends the loan, no decision.
    steps = [r.step for r in stubs.kyc_requests()]
    assert steps[0] == "PAN" and sorted(steps[1:]) == ["CKYC", "MOBILE"]
    assert stubs.decisions() == []
    assert stubs.of("record_status") == [
        change(run, 1, "APPLIED", "REJECTED", "KYC_MOBILE: mobile not linked to the PAN"),
    ]


async def test_kyc_waits_for_the_customer_then_times_out(env) -> None:  # noqa: ANN001
    waiting = KycStepResult("BANK_STATEMENT", "WAITING", "upload the last 3 months' statement")
    stubs = StubActivities(kyc={"BANK_STATEMENT": [waiting]})
    inp = loan_input(loan_policy=policy(kyc_steps=["PAN", "EMPLOYMENT", "BANK_STATEMENT"], kyc_timeout_seconds=3600))
    async with running_loan(env, stubs, inp) as run:
        await stubs.wait_for(lambda: len(stubs.kyc_requests()) == 3, "the first attempt of each step")
        status = await run.until_kyc_waiting("BANK_STATEMENT")
        assert status["results"] == {"PAN": "PASSED", "EMPLOYMENT": "PASSED"}
        assert status["notes"] == {"BANK_STATEMENT": "upload the last 3 months' statement"}
        # The customer uploads a statement: the step runs again with it, and still waits.
        await run.signal("kyc_input", KycInput("BANK_STATEMENT", "doc-7"))
        await stubs.wait_for(lambda: len(stubs.kyc_requests()) == 4, "the step run again")
        await run.until_kyc_waiting("BANK_STATEMENT")
        await env.sleep(timedelta(seconds=3590))  # the wait restarted with the input: not over yet
        assert (await run.kyc_status())["waitingFor"] == "BANK_STATEMENT" and stubs.of("record_status") == []
        await env.sleep(timedelta(seconds=15))  # ... and now it is
        await stubs.wait_calls("record_status", 1)
        result = await run.result()
    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    calls = [(r.step, r.idempotency_key, r.ref_id) for r in stubs.kyc_requests()]
    assert calls[0] == ("PAN", f"{run.key}:kyc:pan:1", None)
    assert sorted(calls[1:3]) == [
        ("BANK_STATEMENT", f"{run.key}:kyc:bank_statement:1", None),
        ("EMPLOYMENT", f"{run.key}:kyc:employment:1", None),
    ]
    assert calls[3] == ("BANK_STATEMENT", f"{run.key}:kyc:bank_statement:2", "doc-7")
    assert stubs.decisions() == []
    assert stubs.of("record_status") == [
        change(run, 1, "APPLIED", "REJECTED", "KYC_BANK_STATEMENT: customer did not complete it in time"),
    ]


async def test_aadhaar_otp_updates_complete_the_kyc_step(env) -> None:  # noqa: ANN001
    """The customer's Aadhaar and OTP arrive as updates: refused by their validators when out of turn or
    malformed; an OTP the provider finds wrong fails that update (the step keeps waiting); the right one
    completes the step. SELFIE, a step with no automation, is skipped."""
    wrong = KycStepResult("AADHAAR", "FAILED", "OTP does not match")
    right = KycStepResult("AADHAAR", "PASSED", facts={"aadhaar.name_match": "100.00"})
    stubs = StubActivities(
        decision=DecisionResult("REJECT", ["income below policy"]), aadhaar_submit_answers=[wrong, right]
    )
    inp = loan_input(loan_policy=policy(kyc_steps=["PAN", "SELFIE", "AADHAAR"]))
    async with running_loan(env, stubs, inp) as run:
        waiting = await run.until_kyc_waiting("AADHAAR")
        assert waiting["results"] == {"PAN": "PASSED", "SELFIE": "SKIPPED"} and not waiting["aadhaarOtpSent"]
        await refused(
            run, "aadhaar_submit", AadhaarOtp("123456"), "Conflict", "no Aadhaar OTP is awaited; initiate it first"
        )
        await refused(
            run, "aadhaar_initiate", AadhaarInitiate("1234"), "ValidationError", "Aadhaar must be 12 digits",
            "aadhaarNumber",
        )  # fmt: skip
        sealed = AadhaarInitiate(aadhaar_sealed="sealed-aadhaar", aadhaar_masked="XXXX-XXXX-1236")
        assert await run.update("aadhaar_initiate", sealed) == {"status": "OTP_SENT"}
        await refused(run, "aadhaar_submit", AadhaarOtp("12345"), "ValidationError", "OTP must be 6 digits", "otp")
        assert await run.refused("aadhaar_submit", AadhaarOtp("111111")) == Refusal(
            "ValidationError", "OTP does not match", "otp"
        )
        assert (await run.kyc_status())["waitingFor"] == "AADHAAR"
        assert await run.update("aadhaar_submit", AadhaarOtp("123456")) == {"status": "VERIFIED"}
        result = await run.result()
    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    assert stubs.names() == [
        kyc_activity("PAN"), "aadhaar_initiate", "aadhaar_submit", "aadhaar_submit", "aadhaar_answered",
        *decision_activities("REJECT"),
        "record_status",
    ]  # fmt: skip
    (initiate,) = stubs.of("aadhaar_initiate")
    assert (initiate.step, initiate.aadhaar_sealed, initiate.aadhaar_number) == ("AADHAAR", "sealed-aadhaar", None)
    assert initiate.idempotency_key.startswith(f"{run.key}:aadhaar:initiate:")
    assert [(r.reference, r.otp, r.aadhaar_sealed) for r in stubs.of("aadhaar_submit")] == [
        ("AADHAAR-REF-1", "111111", None),
        ("AADHAAR-REF-1", "123456", None),
    ]
    first, second = stubs.of("aadhaar_submit")
    assert first.idempotency_key != second.idempotency_key  # each OTP is a new provider call
    assert stubs.decision_facts() == {"kyc.pan.ok": True, "kyc.aadhaar.name_match": "100.00"}
    assert stubs.of("record_status") == [change(run, 1, "APPLIED", "REJECTED", "income below policy")]
    # the provider's refusal came after the update was accepted: it is in the history, and changed nothing
    assert await run.accepted_updates() == ["aadhaar_initiate", "aadhaar_submit", "aadhaar_submit"]
    # the vendor was called as local activities (aadhaar-otp-local-v1): each update answered in the task that took it
    tasks, local = await run.activity_kinds()
    assert {"aadhaar_initiate", "aadhaar_submit"} <= local and not {"aadhaar_initiate", "aadhaar_submit"} & tasks
    await record_if_asked(env, run, "aadhaar_otp_local")


# --- auto-sanction to closure ----------------------------------------------------------------------
@pytest.mark.parametrize("sandbox", ["default", "passthrough", "unsandboxed"])
async def test_auto_sanction_to_completed(env, sandbox: str) -> None:  # noqa: ANN001
    """The whole way, under the SDK's default sandbox, under the worker's sandbox of development and the tests
    (phase modules passed through), and unsandboxed as production's worker runs it (``sandboxed_workflows``)."""
    stubs = StubActivities()
    runners = {"default": None, "passthrough": workflow_runner(), "unsandboxed": workflow_runner(sandboxed=False)}
    runner = runners[sandbox]
    loan_terms = terms(
        amount=60_000_00,
        tenure=3,
        period_seconds=3600,
        upfront_fees=1_200_00,
        upfront_fees_gst=216_00,
        third_party={"INSURANCE_PREMIUM_PAYABLE": 300_00},
        net_disbursed=58_284_00,
    )
    async with running_loan(env, stubs, loan_input(loan_terms), runner) as run:
        docket = await to_agreement_signed(run)
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "DISBURSAL_PENDING"
        await run.settle("TR-1", "SUCCESS", "UTR0001")
        links = await pay_every_installment(run)
        result = await run.result()

    collected = sum(link.amount for link in links)
    assert result == LoanWorkflowResult(run.loan_id, "COMPLETED", installments_paid=3, total_collected=collected)
    le = LOAN_EXECUTIVE.actor
    assert stubs.of("record_status") == [
        change(run, 1, "APPLIED", "SANCTIONED", "auto-sanctioned: score 780"),
        kfs_change(run, 2, "SANCTIONED"),
        change(run, 3, "SANCTIONED", "AGREEMENT_PENDING", f"eSign docket {docket}"),
        change(run, 4, "AGREEMENT_PENDING", "AGREEMENT_SIGNED", f"signed, docket {docket}"),
        change(run, 5, "AGREEMENT_SIGNED", "DISBURSAL_PENDING", TR_1_INITIATED, le),
        change(run, 6, "DISBURSAL_PENDING", "DISBURSED", "UTR UTR0001"),
        change(run, 7, "DISBURSED", "COMPLETED", "all installments paid"),
    ]
    assert stubs.names() == [
        kyc_activity("PAN"), *decision_activities("AUTO_SANCTION"), "record_status",
        "record_status",  # the KFS accepted
        "prepare_agreement", "record_status",
        "record_agreement_outcome", "store_signed_agreement", "record_status",
        "reverify_beneficiary", "initiate_disbursal", "record_status",
        "record_disbursal", "record_status", "notify_disbursed",
        # servicing (a new run after continue-as-new): a link per installment, each paid before it falls due
        "ensure_payment_link", "record_payment",
        "ensure_payment_link", "record_payment",
        "ensure_payment_link", "record_payment",
        "record_status",
    ]  # fmt: skip
    (agreement,) = stubs.of("prepare_agreement")
    assert (agreement.idempotency_key, agreement.provider, agreement.expires_in_seconds, agreement.terms) == (
        f"{run.key}:agreement:1", "signzy", 600, loan_terms,
    )  # fmt: skip
    assert [(o.docket_id, o.status) for o in stubs.of("record_agreement_outcome")] == [(docket, "SIGNED")]
    (transfer,) = stubs.of("initiate_disbursal")
    assert (transfer.idempotency_key, transfer.provider, transfer.amount, transfer.approved_by) == (
        f"{run.key}:disbursal:1", "idfc", 58_284_00, le,
    )  # fmt: skip
    (disbursed,) = stubs.of("record_disbursal")
    assert (disbursed.utr, disbursed.transfer_id, disbursed.amount, disbursed.ledger_key) == (
        "UTR0001", "TR-1", 60_000_00, f"{run.key}:ledger:disbursal",
    )  # fmt: skip
    assert (disbursed.upfront_fees, disbursed.upfront_fees_gst, disbursed.third_party) == (
        1_200_00, 216_00, {"INSURANCE_PREMIUM_PAYABLE": 300_00},
    )  # fmt: skip
    schedule = disbursed.installments
    assert [i.number for i in schedule] == [1, 2, 3]
    assert sum(i.principal for i in schedule) == 60_000_00 and all(i.interest > 0 for i in schedule)
    assert [i.due_at - disbursed.disbursed_at for i in schedule] == [timedelta(hours=h) for h in (1, 2, 3)]
    # Each link asks for exactly the installment; each payment clears it, interest and principal, no excess.
    assert [(link.installment_no, link.amount, link.provider) for link in links] == [
        (i.number, i.principal + i.interest, "razorpay") for i in schedule
    ]
    payments = stubs.of("record_payment")
    assert [p.payment.payment_id for p in payments] == ["pay_1", "pay_2", "pay_3"]
    assert [[(part.number, part.interest, part.principal) for part in p.parts] for p in payments] == [
        [(i.number, i.interest, i.principal)] for i in schedule
    ]
    assert [(p.excess, p.advance_principal, p.rescheduled_from) for p in payments] == [(0, 0, None)] * 3
    assert [p.outstanding_principal for p in payments] == [
        60_000_00 - schedule[0].principal, schedule[2].principal, 0,
    ]  # fmt: skip
    assert [p.next_due_at for p in payments] == [schedule[1].due_at, schedule[2].due_at, None]
    assert await run.accepted_updates() == ["accept_kfs", "approve_disbursal"]


# --- the sanction hierarchy --------------------------------------------------------------------------
async def test_review_forward_approve_sanction_and_refusals(env) -> None:  # noqa: ANN001
    """Credit executive forwards, a super admin approves at the sanction manager's stage, the sanction head
    sanctions. Refusals on the way (wrong role, wrong stage, wrong brand, maker-checker, missing reason) change
    nothing: no activity, no accepted update."""
    stubs = StubActivities(decision=MANUAL_REVIEW)
    inp = loan_input(terms(tenure=1))
    async with running_loan(env, stubs, inp) as run:
        await run.until_status("UNDER_REVIEW")
        await refused(
            run, "forward", LOAN_EXECUTIVE.act(), "PermissionDenied", "role LOAN_EXECUTIVE may not forward a loan"
        )
        await refused(
            run,
            "sanction",
            SANCTION_HEAD.act(),
            "Conflict",
            "a loan at the CREDIT_EXECUTIVE stage cannot be sanctioned",
        )
        await refused(
            run,
            "approve",
            SUPER_ADMIN.act(),
            "Conflict",
            "a loan at the CREDIT_EXECUTIVE stage cannot be approved",
        )
        await refused(
            run,
            "send_back",
            SUPER_ADMIN.act(reason_code="CAM_INCOMPLETE"),
            "Conflict",
            "a loan at the CREDIT_EXECUTIVE stage cannot be sent back",
        )
        await refused(run, "forward", CREDIT_EXECUTIVE.act(brand_id="other-brand"), "NotFound", "loan not found")
        await refused(run, "approve_disbursal", LOAN_EXECUTIVE.act(), "Conflict", "loan is UNDER_REVIEW")
        await refused(
            run, "forward", CREDIT_EXECUTIVE.act(score_override="72.50"), "ValidationError",
            "overriding the evaluation score needs a reason",
        )  # fmt: skip
        forward = CREDIT_EXECUTIVE.act(score_override="72.50", reason="payslips verified")
        assert await run.update("forward", forward) == "UNDER_REVIEW"

        await refused(
            run,
            "forward",
            CREDIT_EXECUTIVE.act(),
            "Conflict",
            "a loan at the SANCTION_MANAGER stage cannot be forwarded",
        )
        await refused(
            run,
            "reject",
            SUPER_ADMIN.act(),
            "ValidationError",
            "pick a reason from the brand's status reasons",
            "reasonCode",
        )
        assert await run.update("approve", SUPER_ADMIN.act(conditions="NACH before disbursal")) == "UNDER_REVIEW"

        await refused(
            run, "sanction", SUPER_ADMIN.act(), "PermissionDenied",
            "maker-checker: you already acted on this loan at the SANCTION_MANAGER stage; another person must act now",
        )  # fmt: skip
        await refused(
            run, "sanction", SANCTION_MANAGER.act(), "PermissionDenied", "role SANCTION_MANAGER may not sanction a loan"
        )
        assert await run.update("sanction", SANCTION_HEAD.act(reason="within policy")) == "SANCTIONED"

        await to_agreement_signed(run)
        await refused(run, "sanction", SANCTION_HEAD.act(), "Conflict", "loan is AGREEMENT_SIGNED, not under review")
        await refused(
            run, "approve_disbursal", SUPER_ADMIN.act(), "PermissionDenied",
            "maker-checker: who sanctioned a loan cannot also release its money",
        )  # fmt: skip
        await refused(
            run, "approve_disbursal", SANCTION_HEAD.act(), "PermissionDenied", "role SANCTION_HEAD may not do this"
        )
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "DISBURSAL_PENDING"
        await run.settle("TR-1", "SUCCESS", "UTR0002")
        links = await pay_every_installment(run)
        result = await run.result()

    assert result == LoanWorkflowResult(run.loan_id, "COMPLETED", 1, links[0].amount)
    assert stubs.statuses() == [
        "APPLIED", "UNDER_REVIEW", "UNDER_REVIEW", "UNDER_REVIEW", "SANCTIONED", "SANCTIONED", "AGREEMENT_PENDING",
        "AGREEMENT_SIGNED", "DISBURSAL_PENDING", "DISBURSED", "COMPLETED",
    ]  # fmt: skip
    assert stubs.of("record_status")[:4] == [
        review_change(run, 1, "APPLIED", "UNDER_REVIEW", "manual review: score 700 needs review",
                      review_stage="CREDIT_EXECUTIVE"),
        review_change(
            run, 2, "UNDER_REVIEW", "UNDER_REVIEW", "forwarded to the sanction manager: payslips verified",
            CREDIT_EXECUTIVE.actor, action="FORWARD", actor_id="ce-1", review_stage="SANCTION_MANAGER",
            details={"action": "FORWARD", "reason": "payslips verified", "scoreOverride": "72.50"}, reassign=True,
        ),
        review_change(
            run, 3, "UNDER_REVIEW", "UNDER_REVIEW",
            "approved by the sanction manager, to the sanction head", SUPER_ADMIN.actor, action="APPROVE",
            actor_id="sa-1", review_stage="SANCTION_HEAD",
            details={"action": "APPROVE", "conditions": "NACH before disbursal"}, reassign=True,
        ),
        review_change(
            run, 4, "UNDER_REVIEW", "SANCTIONED", "sanctioned by the sanction head: within policy",
            SANCTION_HEAD.actor, action="SANCTION", actor_id="sh-1",
            details={"action": "SANCTION", "reason": "within policy"},
        ),
    ]  # fmt: skip
    assert stubs.of("record_status")[4] == kfs_change(run, 5, "SANCTIONED")
    assert await run.accepted_updates() == ["forward", "approve", "sanction", "accept_kfs", "approve_disbursal"]
    tasks, local = await run.activity_kinds()
    assert "credit_allocation" in local and "credit_allocation" not in tasks  # origination-local-steps-v1


async def test_forward_taken_while_the_review_is_being_recorded(env) -> None:  # noqa: ANN001
    """The credit executive sees UNDER_REVIEW in the database before the workflow's own status moves: a forward
    in that window is accepted, and acts once the move is recorded (stage by stage, as recorded)."""
    stubs = StubActivities(decision=MANUAL_REVIEW, hold={"UNDER_REVIEW"})
    async with running_loan(env, stubs, loan_input(terms(tenure=1))) as run:
        await stubs.wait_for(lambda: "UNDER_REVIEW" in stubs.holding, "the review being recorded")
        forward = asyncio.create_task(run.update("forward", CREDIT_EXECUTIVE.act()))
        await asyncio.sleep(0.3)
        assert not forward.done()  # accepted, and waiting for the move to be recorded
        assert [c.review_stage for c in stubs.of("record_status")] == ["CREDIT_EXECUTIVE"]
        stubs.hold.clear()  # the forward's own move is not held
        stubs.release("UNDER_REVIEW")
        assert await forward == "UNDER_REVIEW"
        await refused(
            run,
            "forward",
            CREDIT_EXECUTIVE.act(),
            "Conflict",
            "a loan at the SANCTION_MANAGER stage cannot be forwarded",
        )
    assert [(c.to_status, c.review_stage) for c in stubs.of("record_status")][-2:] == [
        ("UNDER_REVIEW", "CREDIT_EXECUTIVE"),
        ("UNDER_REVIEW", "SANCTION_MANAGER"),
    ]
    assert await run.accepted_updates() == ["forward"]


async def test_review_with_send_back(env) -> None:  # noqa: ANN001
    """approve → the sanction head sends back → the same credit executive forwards again → approve → sanction;
    acting again at one's own stage is allowed. The unsigned agreement then expires."""
    stubs = StubActivities(decision=MANUAL_REVIEW)
    async with running_loan(env, stubs) as run:
        await run.until_status("UNDER_REVIEW")
        assert await run.update("forward", CREDIT_EXECUTIVE.act()) == "UNDER_REVIEW"
        assert await run.update("approve", SANCTION_MANAGER.act()) == "UNDER_REVIEW"
        await refused(run, "send_back", SANCTION_HEAD.act(), "ValidationError")  # a reason code is required
        back = SANCTION_HEAD.act(reason_code="DOCS_MISSING", reason="salary slip for March")
        assert await run.update("send_back", back) == "UNDER_REVIEW"
        await refused(run, "approve", SANCTION_MANAGER.act(), "Conflict")  # back at the credit executive
        assert await run.update("forward", CREDIT_EXECUTIVE.act(reason="slip added")) == "UNDER_REVIEW"
        assert await run.update("approve", SANCTION_MANAGER.act()) == "UNDER_REVIEW"
        assert await run.update("sanction", SANCTION_HEAD.act()) == "SANCTIONED"
        await run.to_agreement_pending()
        result = await run.result()  # nobody signs: the eSign expiry timer fires

    assert result == LoanWorkflowResult(run.loan_id, "EXPIRED", 0, 0)
    moves = stubs.of("record_status")
    assert [(m.seq, m.to_status, m.action, m.review_stage, m.assign_to, m.reassign) for m in moves] == [
        (1, "UNDER_REVIEW", None, "CREDIT_EXECUTIVE", None, False),
        (2, "UNDER_REVIEW", "FORWARD", "SANCTION_MANAGER", None, True),
        (3, "UNDER_REVIEW", "APPROVE", "SANCTION_HEAD", None, True),
        (4, "UNDER_REVIEW", "SEND_BACK", "CREDIT_EXECUTIVE", "ce-1", True),  # back to who forwarded it
        (5, "UNDER_REVIEW", "FORWARD", "SANCTION_MANAGER", None, True),
        (6, "UNDER_REVIEW", "APPROVE", "SANCTION_HEAD", None, True),
        (7, "SANCTIONED", "SANCTION", None, None, False),
        (8, "SANCTIONED", "KFS_ACCEPTED", None, None, False),
        (9, "AGREEMENT_PENDING", None, None, None, False),
        (10, "EXPIRED", None, None, None, False),
    ]
    assert moves[3] == review_change(
        run, 4, "UNDER_REVIEW", "UNDER_REVIEW",
        "sent back to the credit executive: [DOCS_MISSING] salary slip for March",
        SANCTION_HEAD.actor, action="SEND_BACK", actor_id="sh-1", review_stage="CREDIT_EXECUTIVE",
        details={"action": "SEND_BACK", "reasonCode": "DOCS_MISSING", "reason": "salary slip for March"},
        assign_to="ce-1", reassign=True,
    )  # fmt: skip
    assert (moves[9].reason, moves[9].actor) == ("agreement not signed before expiry", "system")
    assert [o.status for o in stubs.of("record_agreement_outcome")] == ["EXPIRED"]
    assert await run.accepted_updates() == [
        "forward", "approve", "send_back", "forward", "approve", "sanction", "accept_kfs",
    ]  # fmt: skip


async def test_rejected_at_the_sanction_manager_stage(env) -> None:  # noqa: ANN001
    stubs = StubActivities(decision=MANUAL_REVIEW)
    async with running_loan(env, stubs) as run:
        await run.until_status("UNDER_REVIEW")
        assert await run.update("forward", CREDIT_EXECUTIVE.act()) == "UNDER_REVIEW"
        await refused(run, "reject", CREDIT_EXECUTIVE.act(reason_code="LOW_INCOME"), "PermissionDenied")
        reject = SANCTION_MANAGER.act(reason_code="LOW_INCOME", reason="income below policy")
        assert await run.update("reject", reject) == "REJECTED"
        result = await run.result()

    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    # a manual-review verdict is allocated to staff before the loan moves to review
    assert stubs.names() == [
        kyc_activity("PAN"), *decision_activities("MANUAL_REVIEW"), "record_status", "record_status", "record_status",
    ]  # fmt: skip
    assert [c.arg.idempotency_key for c in stubs.decisions()] == decision_keys(run.key, "MANUAL_REVIEW")
    assert stubs.statuses() == ["APPLIED", "UNDER_REVIEW", "UNDER_REVIEW", "REJECTED"]
    assert stubs.of("record_status")[-1] == review_change(
        run, 3, "UNDER_REVIEW", "REJECTED", "rejected: [LOW_INCOME] income below policy", SANCTION_MANAGER.actor,
        action="REJECT", actor_id="sm-1",
        details={"action": "REJECT", "reasonCode": "LOW_INCOME", "reason": "income below policy"},
    )  # fmt: skip
    assert "prepare_agreement" not in stubs.names()
    assert await run.accepted_updates() == ["forward", "reject"]


async def test_a_stale_update_is_refused(env) -> None:  # noqa: ANN001
    """An update that reaches the workflow after its caller stopped waiting (StaffAction.expires_at past) is
    refused, whoever sends it; the same action sent again in time is applied."""
    stubs = StubActivities(decision=MANUAL_REVIEW)
    async with running_loan(env, stubs) as run:
        await run.until_status("UNDER_REVIEW")
        now = await env.get_current_time()
        await refused(
            run, "forward", CREDIT_EXECUTIVE.act(expires_at=now - timedelta(seconds=1)), "Expired",
            "this request reached the loan after its caller stopped waiting; send it again",
        )  # fmt: skip
        assert len(stubs.of("record_status")) == 1
        fresh = CREDIT_EXECUTIVE.act(expires_at=now + timedelta(hours=1))
        assert await run.update("forward", fresh) == "UNDER_REVIEW"
        assert stubs.statuses() == ["APPLIED", "UNDER_REVIEW", "UNDER_REVIEW"]
        assert await run.accepted_updates() == ["forward"]


# --- eSign -------------------------------------------------------------------------------------------
async def test_esign_expiry(env) -> None:  # noqa: ANN001
    stubs = StubActivities()
    async with running_loan(env, stubs) as run:
        await run.to_agreement_pending()
        await env.sleep(timedelta(seconds=590))
        assert stubs.of("record_agreement_outcome") == [] and len(stubs.of("record_status")) == 3
        await env.sleep(timedelta(seconds=15))  # past the policy's eSign expiry (600 s)
        await stubs.wait_calls("record_agreement_outcome", 1)
        result = await run.result()
    assert result == LoanWorkflowResult(run.loan_id, "EXPIRED", 0, 0)
    docket = stubs.of("prepare_agreement")[0]
    (outcome,) = stubs.of("record_agreement_outcome")
    assert timedelta(seconds=600) <= outcome.at - docket.now < timedelta(seconds=605)
    assert stubs.statuses() == ["APPLIED", "SANCTIONED", "SANCTIONED", "AGREEMENT_PENDING", "EXPIRED"]
    assert stubs.of("record_status")[-1] == change(
        run, 4, "AGREEMENT_PENDING", "EXPIRED", "agreement not signed before expiry"
    )
    # the vendor never said so: the docket is closed there too, so it can no longer be signed
    assert [c.docket_id for c in stubs.of("cancel_docket")] == [f"DKT-{docket.loan_id[:8]}"]
    assert [(o.docket_id, o.status) for o in stubs.of("record_agreement_outcome")] == [
        (f"DKT-{docket.loan_id[:8]}", "EXPIRED")
    ]


async def test_esign_declined(env) -> None:  # noqa: ANN001
    """A decline is recorded and the loan waits for a new link or staff; when neither comes before the eSign
    expiry, it ends EXPIRED."""
    stubs = StubActivities()
    async with running_loan(env, stubs) as run:
        await run.accept_kfs()
        docket = await run.sign("DECLINED")  # may arrive before the workflow waits for it: it is kept
        await stubs.wait_calls("record_status", 4)
        await env.sleep(timedelta(seconds=590))
        assert len(stubs.of("record_status")) == 4  # still waiting for a new link or staff
        result = await run.result()
    assert result == LoanWorkflowResult(run.loan_id, "EXPIRED", 0, 0)
    assert stubs.statuses() == [
        "APPLIED", "SANCTIONED", "SANCTIONED", "AGREEMENT_PENDING", "AGREEMENT_PENDING", "EXPIRED",
    ]  # fmt: skip
    assert stubs.of("record_status")[-2:] == [
        review_change(
            run, 4, "AGREEMENT_PENDING", "AGREEMENT_PENDING",
            f"the signer declined docket {docket}; awaiting a new link or cancellation", action="ESIGN_DECLINED",
        ),
        change(run, 5, "AGREEMENT_PENDING", "EXPIRED", "declined and no new link asked for before expiry"),
    ]  # fmt: skip
    assert [(o.docket_id, o.status) for o in stubs.of("record_agreement_outcome")] == [(docket, "DECLINED")]
    assert stubs.names().count("prepare_agreement") == 1


# --- disbursal ---------------------------------------------------------------------------------------
async def test_failed_transfer_waits_for_a_new_approval(env) -> None:  # noqa: ANN001
    stubs = StubActivities()
    second = Staff("le-2", "LOAN_EXECUTIVE")
    async with running_loan(env, stubs, loan_input(terms(tenure=1))) as run:
        await to_agreement_signed(run)
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "DISBURSAL_PENDING"
        await refused(run, "approve_disbursal", second.act(), "Conflict", "loan is DISBURSAL_PENDING")
        await run.settle("TR-1", "FAILED")
        await run.until_status("AGREEMENT_SIGNED")
        await run.settle("TR-1", "SUCCESS", "UTR-LATE")  # a second word on the failed transfer changes nothing
        assert await run.update("approve_disbursal", second.act()) == "DISBURSAL_PENDING"
        await run.settle("TR-2", "SUCCESS", "UTR0003")
        links = await pay_every_installment(run)
        result = await run.result()

    assert result == LoanWorkflowResult(run.loan_id, "COMPLETED", 1, links[0].amount)
    assert stubs.of("record_status")[3:8] == [
        change(run, 4, "AGREEMENT_PENDING", "AGREEMENT_SIGNED", stubs.of("record_status")[3].reason),
        change(run, 5, "AGREEMENT_SIGNED", "DISBURSAL_PENDING", TR_1_INITIATED, LOAN_EXECUTIVE.actor),
        change(
            run, 6, "DISBURSAL_PENDING", "AGREEMENT_SIGNED",
            "transfer TR-1 failed: no reason given; awaiting a new disbursal approval",
        ),
        change(run, 7, "AGREEMENT_SIGNED", "DISBURSAL_PENDING", TR_2_INITIATED, second.actor),
        change(run, 8, "DISBURSAL_PENDING", "DISBURSED", "UTR UTR0003"),
    ]  # fmt: skip
    assert stubs.statuses() == [
        "APPLIED", "SANCTIONED", "SANCTIONED", "AGREEMENT_PENDING", "AGREEMENT_SIGNED", "DISBURSAL_PENDING",
        "AGREEMENT_SIGNED", "DISBURSAL_PENDING", "DISBURSED", "COMPLETED",
    ]  # fmt: skip
    assert stubs.of("record_transfer_failure") == [TransferFailure(run.loan_id, "TR-1", None, "webhook")]
    assert [(t.idempotency_key, t.approved_by) for t in stubs.of("initiate_disbursal")] == [
        (f"{run.key}:disbursal:1", LOAN_EXECUTIVE.actor),
        (f"{run.key}:disbursal:2", second.actor),
    ]
    (disbursed,) = stubs.of("record_disbursal")
    assert (disbursed.transfer_id, disbursed.utr) == ("TR-2", "UTR0003")
    assert await run.accepted_updates() == ["accept_kfs", "approve_disbursal", "approve_disbursal"]
    tasks, local = await run.activity_kinds()  # origination-local-steps-v1: database writes run in the workflow task
    writes = {"record_transfer_failure", "record_disbursal", "record_agreement_outcome", "credit_rules_and_evaluation"}
    assert writes <= local and not writes & tasks, (tasks, local)
    assert "initiate_disbursal" in tasks  # the transfer stays an activity task (retried for hours, heartbeated)
    # kyc-provider-steps-local-v1: the KYC steps and the bureau pull run in the workflow task too
    assert {"kyc_pan", "credit_bureau_pull"} <= local and not {"kyc_pan", "credit_bureau_pull"} & tasks


async def test_disbursal_approved_while_the_signature_is_being_recorded(env) -> None:  # noqa: ANN001
    """Loan ops act on what the database shows, and AGREEMENT_SIGNED is written there before the workflow's own
    status moves: an approval in that window is accepted and takes effect once the move is recorded."""
    stubs = StubActivities(hold={"AGREEMENT_SIGNED"})
    async with running_loan(env, stubs, loan_input(terms(tenure=1))) as run:
        await run.to_agreement_pending()
        await run.sign()
        await stubs.wait_for(lambda: "AGREEMENT_SIGNED" in stubs.holding, "the signature being recorded")
        approval = asyncio.create_task(run.update("approve_disbursal", LOAN_EXECUTIVE.act()))
        await asyncio.sleep(0.3)
        assert not approval.done()  # accepted, and waiting for the move to be recorded
        assert stubs.of("initiate_disbursal") == []
        stubs.release("AGREEMENT_SIGNED")
        assert await approval == "DISBURSAL_PENDING"
        await refused(run, "approve_disbursal", LOAN_EXECUTIVE.act(), "Conflict", "loan is DISBURSAL_PENDING")
    assert stubs.statuses()[3:6] == ["AGREEMENT_PENDING", "AGREEMENT_SIGNED", "DISBURSAL_PENDING"]
    assert await run.accepted_updates() == ["accept_kfs", "approve_disbursal"]


# --- servicing ---------------------------------------------------------------------------------------
async def _disbursed(run: LoanRun) -> None:
    await to_agreement_signed(run)
    await run.update("approve_disbursal", LOAN_EXECUTIVE.act())
    await run.settle("TR-1", "SUCCESS", "UTR0004")
    await run.stubs.wait_calls("ensure_payment_link", 1)


async def test_unpaid_installment_goes_overdue_then_back_to_disbursed(env) -> None:  # noqa: ANN001
    """A real monthly schedule: the first installment's timer fires at the day-end of its due date (00:00 IST
    the day after) → OVERDUE, DPD 1, SMA-0; paid the next morning → DISBURSED; the second paid on time."""
    stubs = StubActivities()
    async with running_loan(env, stubs, loan_input(terms(tenure=2, period_seconds=None))) as run:
        await _disbursed(run)
        first, second = stubs.of("record_disbursal")[0].installments
        for inst in (first, second):  # each timer: the day-end of its due date, 00:00 IST the day after
            assert inst.due_at == datetime.combine(inst.due_date + timedelta(days=1), time(0), IST)
        await run.sleep_until(first.due_at + timedelta(minutes=1))
        await stubs.wait_calls("ensure_payment_link", 2)
        await run.until_status("OVERDUE")
        link = stubs.of("ensure_payment_link")[-1]
        assert (link.installment_no, link.amount) == (1, first.principal + first.interest)
        await run.pay("pay_1", link.amount)
        await stubs.wait_calls("ensure_payment_link", 3)
        await run.until_status("DISBURSED")
        await run.pay("pay_2", stubs.of("ensure_payment_link")[-1].amount)
        result = await run.result()

    assert result.status == "COMPLETED" and result.installments_paid == 2
    assert stubs.names()[stubs.names().index("notify_disbursed") + 1 :] == [
        "ensure_payment_link",  # installment 1, before its due date
        "mark_overdue", "record_status", "record_delinquency", "ensure_payment_link",  # its due date is over
        "record_payment", "record_delinquency", "ensure_payment_link",  # paid late: the move back recorded with it
        "record_payment", "record_status",  # installment 2, on time
    ]  # fmt: skip
    assert stubs.of("mark_overdue") == [OverdueRecord(run.loan_id, 1, 1)]
    assert stubs.statuses()[-4:] == ["DISBURSED", "OVERDUE", "DISBURSED", "COMPLETED"]
    overdue, completed = stubs.of("record_status")[-2:]
    late, on_time = stubs.of("record_payment")
    cleared = late.status_change  # status-with-payment-v1: in the payment's own transaction
    assert cleared is not None and on_time.status_change is None
    assert (cleared.from_status, cleared.to_status, cleared.seq) == ("OVERDUE", "DISBURSED", overdue.seq + 1)
    assert completed.seq == cleared.seq + 1
    assert (overdue.reason, cleared.reason, completed.reason) == (
        "installment 1 unpaid after due date", "arrears cleared", "all installments paid",
    )  # fmt: skip
    day_after = first.due_date + timedelta(days=1)
    assert stubs.of("record_delinquency") == [
        DelinquencyRecord(run.loan_id, 1, "SMA-0", as_of=first.due_date, class_changed=True),  # its day-end
        DelinquencyRecord(run.loan_id, 0, "STANDARD", as_of=day_after, class_changed=True),  # paid that day
    ]
    assert [p.parts[0].number for p in stubs.of("record_payment")] == [1, 2]
    assert stubs.of("levy_penal") == []  # the policy has no penal charge


async def test_malformed_and_unrecordable_payments_are_parked(env) -> None:  # noqa: ANN001
    """Zero, negative and impossibly large payments are parked for ops, as is one the database refuses for good;
    the payments behind them are applied, and a parked payment sent again is not parked twice."""
    stubs = StubActivities(unrecordable_payments={"pay_refused"})
    async with running_loan(env, stubs, loan_input(terms(tenure=2))) as run:
        await _disbursed(run)
        first_link = stubs.of("ensure_payment_link")[0]
        huge = MAX_ENTERED_PAISE + 1
        for payment_id, amount in (("bad_zero", 0), ("bad_negative", -500), ("bad_huge", huge)):
            await run.pay(payment_id, amount)
        await run.pay("pay_1", first_link.amount)
        await stubs.wait_calls("ensure_payment_link", 2)
        await run.pay("bad_zero", 0)  # the gateway re-sends a parked payment and an applied one
        await run.pay("pay_1", first_link.amount)
        second_link = stubs.of("ensure_payment_link")[-1]
        await run.pay("pay_refused", second_link.amount)
        await stubs.wait_calls("ensure_payment_link", 3)
        await run.pay("pay_2", stubs.of("ensure_payment_link")[-1].amount)
        result = await run.result()

    assert result == LoanWorkflowResult(run.loan_id, "COMPLETED", 2, first_link.amount + second_link.amount)

    def event(payment_id: str, amount: int) -> PaymentEvent:
        return PaymentEvent(payment_id, amount)

    parked = stubs.of("park_payment")
    assert all(p.payment.paid_on is not None for p in parked)  # each dated the day it arrived
    assert [replace(p, payment=replace(p.payment, paid_on=None)) for p in parked] == [
        ParkedPayment(run.loan_id, event("bad_zero", 0), "amount 0 paise is not positive"),
        ParkedPayment(run.loan_id, event("bad_negative", -500), "amount -500 paise is not positive"),
        ParkedPayment(run.loan_id, event("bad_huge", huge), f"amount {huge} paise is implausible for one payment"),
        ParkedPayment(
            run.loan_id, event("pay_refused", second_link.amount),
            "could not be recorded: UnrecordablePayment: DataError: value out of range",
        ),
    ]  # fmt: skip
    payments = stubs.of("record_payment")
    assert [p.payment.payment_id for p in payments] == ["pay_1", "pay_refused", "pay_2"]
    # The refused payment changed nothing: the next one is allocated exactly as it was.
    assert payments[2].parts == payments[1].parts and payments[2].outstanding_principal == 0
    assert [(link.installment_no, link.amount) for link in stubs.of("ensure_payment_link")] == [
        (1, first_link.amount), (2, second_link.amount), (2, second_link.amount),
    ]  # fmt: skip
    assert stubs.statuses()[-2:] == ["DISBURSED", "COMPLETED"]
    assert stubs.of("record_credit_balance") == []


# --- more branches ---------------------------------------------------------------------------------
async def test_customer_input_completes_a_waiting_kyc_step(env) -> None:  # noqa: ANN001
    statement = KycStepResult("BANK_STATEMENT", "PASSED", provider="stub", facts={"bsa.salary_months": 3})
    waiting = KycStepResult("BANK_STATEMENT", "WAITING", "upload the last 3 months' statement")
    stubs = StubActivities(
        kyc={"BANK_STATEMENT": [waiting, statement]}, decision=DecisionResult("REJECT", ["FOIR 71% above 60%"])
    )
    inp = loan_input(loan_policy=policy(kyc_steps=["PAN", "BANK_STATEMENT"]))
    async with running_loan(env, stubs, inp) as run:
        await run.until_kyc_waiting("BANK_STATEMENT")
        await run.signal("kyc_input", KycInput("BANK_STATEMENT", "doc-9"))
        result = await run.result()
    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    assert [(r.step, r.idempotency_key, r.ref_id) for r in stubs.kyc_requests()] == [
        ("PAN", f"{run.key}:kyc:pan:1", None),
        ("BANK_STATEMENT", f"{run.key}:kyc:bank_statement:1", None),
        ("BANK_STATEMENT", f"{run.key}:kyc:bank_statement:2", "doc-9"),
    ]
    assert stubs.decision_facts() == {"kyc.pan.ok": True, "kyc.bsa.salary_months": 3}
    assert stubs.of("record_status") == [change(run, 1, "APPLIED", "REJECTED", "FOIR 71% above 60%")]


async def test_payment_before_disbursal_is_applied_once_serviced(env) -> None:  # noqa: ANN001
    """A payment that arrives before disbursal waits in the workflow's state, crosses continue-as-new and is the
    first thing applied; the link then asks for the rest."""
    stubs = StubActivities()
    async with running_loan(env, stubs, loan_input(terms(tenure=1))) as run:
        await to_agreement_signed(run)
        await run.pay("early", 1_000_00)
        await run.update("approve_disbursal", LOAN_EXECUTIVE.act())
        await run.settle("TR-1", "SUCCESS", "UTR0005")
        link = (await stubs.wait_calls("ensure_payment_link", 1))[0]
        await run.pay("rest", link.amount)
        result = await run.result()
    (inst,) = stubs.of("record_disbursal")[0].installments
    due = inst.principal + inst.interest
    assert result == LoanWorkflowResult(run.loan_id, "COMPLETED", 1, due)
    assert stubs.names()[stubs.names().index("record_disbursal") :] == [
        "record_disbursal", "record_status", "notify_disbursed",
        "record_payment", "ensure_payment_link", "record_payment", "record_status",
    ]  # fmt: skip
    early, rest = stubs.of("record_payment")
    assert (early.payment, early.parts[0].interest, early.parts[0].principal) == (
        PaymentEvent("early", 1_000_00), min(1_000_00, inst.interest), max(0, 1_000_00 - inst.interest),
    )  # fmt: skip
    assert (link.installment_no, link.amount) == (1, due - 1_000_00)
    assert early.payment.paid_on is None  # it arrived before servicing; the one after is dated its day
    assert replace(rest.payment, paid_on=None) == PaymentEvent("rest", due - 1_000_00) and rest.payment.paid_on
    assert rest.outstanding_principal == 0


async def test_payments_to_a_loan_that_ends_unserviced_become_credit_balance(env) -> None:  # noqa: ANN001
    """Money received for a loan that then ends before disbursal is kept as its credit balance (a malformed
    amount is parked), never dropped."""
    stubs = StubActivities()
    async with running_loan(env, stubs) as run:
        await run.to_agreement_pending()
        await run.pay("early", 2_500_00)
        await run.pay("early_bad", 0)
        await run.sign("DECLINED")
        result = await run.result()  # declined, and no new link asked for before the expiry
    assert result == LoanWorkflowResult(run.loan_id, "EXPIRED", 0, 0)
    assert stubs.names()[-5:] == [
        "record_agreement_outcome", "record_status", "record_status", "record_credit_balance", "park_payment",
    ]  # fmt: skip
    assert stubs.statuses()[-3:] == ["AGREEMENT_PENDING", "AGREEMENT_PENDING", "EXPIRED"]
    assert stubs.of("record_credit_balance") == [CreditBalanceRecord(run.loan_id, PaymentEvent("early", 2_500_00))]
    assert stubs.of("park_payment") == [
        ParkedPayment(run.loan_id, PaymentEvent("early_bad", 0), "amount 0 paise is not positive")
    ]
    assert stubs.of("record_payment") == []


async def test_flat_penal_charge_on_an_overdue_installment(env) -> None:  # noqa: ANN001
    """A product's per-occurrence penal charge is levied once when the installment goes overdue; the next link
    asks for it too and the payment settles it first."""
    stubs = StubActivities()
    loan_policy = policy(penal={"basis": "FLAT_PER_OCCURRENCE", "flat": 500_00})
    async with running_loan(env, stubs, loan_input(terms(tenure=1, period_seconds=None), loan_policy)) as run:
        await _disbursed(run)
        (inst,) = stubs.of("record_disbursal")[0].installments
        await run.sleep_until(inst.due_at + timedelta(hours=1))
        link = (await stubs.wait_calls("ensure_payment_link", 2))[-1]
        await run.pay("late", link.amount)
        result = await run.result()
    due = inst.principal + inst.interest
    assert result == LoanWorkflowResult(run.loan_id, "COMPLETED", 1, due + 500_00)
    assert stubs.names()[stubs.names().index("notify_disbursed") + 1 :] == [
        "ensure_payment_link", "mark_overdue", "levy_penal", "record_status", "record_delinquency",
        "ensure_payment_link", "record_payment", "record_delinquency", "record_status",  # DPD 0, then COMPLETED
    ]  # fmt: skip
    assert stubs.of("levy_penal") == [
        PenalLevy(run.loan_id, 1, 500_00, "penal:1:flat", "delayed payment (per occurrence)")
    ]
    assert (link.installment_no, link.amount) == (1, due + 500_00)
    (payment,) = stubs.of("record_payment")
    assert [(p.number, p.penal, p.interest, p.principal) for p in payment.parts] == [
        (1, 500_00, inst.interest, inst.principal)
    ]
    assert stubs.statuses()[-3:] == ["DISBURSED", "OVERDUE", "COMPLETED"]
    assert stubs.of("record_delinquency") == [
        DelinquencyRecord(run.loan_id, 1, "SMA-0", as_of=inst.due_date, class_changed=True),
        DelinquencyRecord(run.loan_id, 0, "STANDARD", as_of=inst.due_date + timedelta(days=1), class_changed=True),
    ]


async def test_unpaid_installment_through_sma_to_npa(env) -> None:  # noqa: ANN001
    """Left unpaid, the installment's DPD grows by one at every IST day-end (a day-end timer each night) and the
    asset class follows RBI's table (SMA-0 1-30, SMA-1 31-60, SMA-2 61-90, NPA from 91), each record dated the
    day whose day-end produced it; paid in full, the loan is standard again and completes."""
    stubs = StubActivities()
    async with running_loan(env, stubs, loan_input(terms(tenure=1, period_seconds=None))) as run:
        await _disbursed(run)
        (inst,) = stubs.of("record_disbursal")[0].installments
        await run.sleep_until(inst.due_at + timedelta(days=90, minutes=1))
        await stubs.wait_for(lambda: any(r.dpd == 91 for r in stubs.of("record_delinquency")), "DPD 91")
        assert stubs.statuses()[-1] == "OVERDUE" and len(stubs.of("mark_overdue")) == 1
        link = stubs.of("ensure_payment_link")[-1]
        await run.pay("catch_up", link.amount)
        result = await run.result()

    due = inst.principal + inst.interest
    assert result == LoanWorkflowResult(run.loan_id, "COMPLETED", 1, due)
    assert (link.installment_no, link.amount) == (1, due)

    def asset_class(dpd: int) -> str:
        return "SMA-0" if dpd <= 30 else "SMA-1" if dpd <= 60 else "SMA-2" if dpd <= 90 else "NPA"

    records = stubs.of("record_delinquency")
    assert records[:-1] == [
        DelinquencyRecord(
            run.loan_id, dpd, asset_class(dpd), as_of=inst.due_date + timedelta(days=dpd - 1),
            class_changed=dpd in (1, 31, 61, 91),
        )
        for dpd in range(1, 92)
    ]  # fmt: skip
    # paid during the day after day +90's day-end: every arrear cleared, so the NPA is upgraded
    paid_on = inst.due_date + timedelta(days=91)
    assert records[-1] == DelinquencyRecord(run.loan_id, 0, "STANDARD", as_of=paid_on, class_changed=True)
    assert stubs.of("mark_overdue") == [OverdueRecord(run.loan_id, 1, 1)]
    assert stubs.statuses()[-3:] == ["DISBURSED", "OVERDUE", "COMPLETED"]
    # a link for what is due after each wake: before the due date, then at each of the 91 day-ends
    assert len(stubs.of("ensure_payment_link")) == 92


async def test_advance_payment_reschedules_and_the_last_overpayment_is_excess(env) -> None:  # noqa: ANN001
    """Paying more than is due prepays principal: the untouched installments are re-amortised keeping the EMI
    (the policy's REDUCE_TENURE) on their own due dates; money beyond everything due is the loan's excess."""
    stubs = StubActivities()
    async with running_loan(env, stubs, loan_input(terms(amount=60_000_00, tenure=3))) as run:
        await _disbursed(run)
        one, two, three = stubs.of("record_disbursal")[0].installments
        first = stubs.of("ensure_payment_link")[0]
        await run.pay("with_advance", first.amount + 10_000_00)
        second = (await stubs.wait_calls("ensure_payment_link", 2))[-1]
        await run.pay("second", second.amount)
        third = (await stubs.wait_calls("ensure_payment_link", 3))[-1]
        await run.pay("last_and_more", third.amount + 500_00)
        # everything paid with ₹500 over: OVERPAID until that credit balance is refunded
        await stubs.wait_for(lambda: "OVERPAID" in stubs.statuses(), "the loan OVERPAID")
        await run.signal("refund_settled", RefundSettled("refund-1", 500_00, "UTR-R1"))
        result = await run.result()

    advance, paid_second, paid_last = stubs.of("record_payment")
    balance = 60_000_00 - one.principal - 10_000_00
    assert (advance.parts, advance.advance_principal, advance.excess, advance.outstanding_principal) == (
        [PaymentPart(1, interest=one.interest, principal=one.principal)], 10_000_00, 0, balance,
    )  # fmt: skip
    new_two, new_three = advance.rescheduled
    assert advance.rescheduled_from == 2 and (new_two.number, new_three.number) == (2, 3)
    assert (new_two.due_at, new_three.due_at) == (two.due_at, three.due_at)
    assert new_two.principal + new_three.principal == balance
    assert new_two.interest == int((Decimal(balance) * Decimal("0.02")).quantize(Decimal(1), ROUND_HALF_UP))  # 24%/12
    assert new_two.principal + new_two.interest == two.principal + two.interest  # the EMI is kept
    assert new_three.principal + new_three.interest < three.principal + three.interest  # the last one shrinks
    assert advance.next_due_at == two.due_at
    assert [(link.installment_no, link.amount) for link in stubs.of("ensure_payment_link")] == [
        (1, one.principal + one.interest),
        (2, new_two.principal + new_two.interest),
        (3, new_three.principal + new_three.interest),
    ]
    assert (paid_second.excess, paid_second.advance_principal) == (0, 0)
    assert (paid_last.excess, paid_last.outstanding_principal, paid_last.next_due_at) == (500_00, 0, None)
    collected = first.amount + 10_000_00 + second.amount + third.amount + 500_00
    assert result == LoanWorkflowResult(run.loan_id, "COMPLETED", 3, collected)
    assert stubs.statuses()[-3:] == ["DISBURSED", "OVERPAID", "COMPLETED"]
    # said in rupees for people; what ends it is the refund
    reasons = [(c.to_status, c.reason) for c in stubs.of("record_status")][-2:]
    assert reasons == [("OVERPAID", "credit balance of ₹500.00 to refund"), ("COMPLETED", "credit balance refunded")]
    assert stubs.of("record_closure") == [ClosureRecord(run.loan_id, "REPAID")]


async def test_percent_penal_charge_accrues_by_the_day(env) -> None:  # noqa: ANN001
    """A percent-per-annum penal charge accrues on the overdue principal and interest, simple, for the days since
    the due date, at each wake; the link asks for it and the payment settles it."""
    stubs = StubActivities()
    loan_policy = policy(penal={"basis": "PERCENT_PER_ANNUM", "annual_percent": "24"})
    async with running_loan(env, stubs, loan_input(terms(tenure=1, period_seconds=None), loan_policy)) as run:
        await _disbursed(run)
        (inst,) = stubs.of("record_disbursal")[0].installments
        await run.sleep_until(inst.due_at + timedelta(days=1, minutes=1))  # the due date's day-end, and the next
        link = (await stubs.wait_calls("ensure_payment_link", 3))[-1]
        await run.pay("late", link.amount)
        result = await run.result()

    due = inst.principal + inst.interest
    penal = int((Decimal(due) * Decimal("0.24") * 2 / 365).quantize(Decimal(1), ROUND_HALF_UP))
    assert result == LoanWorkflowResult(run.loan_id, "COMPLETED", 1, due + penal)
    day = inst.due_date
    # a day at each pass that finds one more: 08:00 IST, when the OVERDUE notice held from the 00:00 day-end goes
    # (RBI's contact hours, overdue-notice-contact-hours-v1), and the next day-end
    one_day = int((Decimal(due) * Decimal("0.24") / 365).quantize(Decimal(1), ROUND_HALF_UP))
    assert stubs.of("levy_penal") == [
        PenalLevy(run.loan_id, 1, one_day, f"penal:1:{day}:{day + timedelta(days=1)}",
                  f"1 day(s) on {due} paise overdue"),
        PenalLevy(run.loan_id, 1, penal - one_day, f"penal:1:{day + timedelta(days=1)}:{day + timedelta(days=2)}",
                  f"1 day(s) on {due} paise overdue"),
    ]  # fmt: skip
    assert stubs.names()[stubs.names().index("notify_disbursed") + 1 :] == [
        "ensure_payment_link",
        "mark_overdue", "record_status", "record_delinquency", "ensure_payment_link",  # the due date's day-end
        "levy_penal", "ensure_payment_link",  # 08:00 IST: the held notice goes; a day of penal, and the link asks it
        "levy_penal", "record_delinquency", "ensure_payment_link",  # the next day-end: the second day
        "record_payment", "record_delinquency", "record_status",  # paid: no further accrual the same day
    ]  # fmt: skip
    assert [n.event for n in stubs.of("send_notice")].count("OVERDUE") == 1
    assert (link.installment_no, link.amount) == (1, due + penal)
    (payment,) = stubs.of("record_payment")
    assert [(p.number, p.penal, p.interest, p.principal) for p in payment.parts] == [
        (1, penal, inst.interest, inst.principal)
    ]
    assert [(r.dpd, r.asset_class) for r in stubs.of("record_delinquency")] == [
        (1, "SMA-0"),
        (2, "SMA-0"),
        (0, "STANDARD"),
    ]
