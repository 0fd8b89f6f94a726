"""Money out against stub activities (tests/workflows/stubs.py), in virtual time: the KFS before eSign, a declined
or re-sent agreement, a KFS that lapses, the hold (NEEDS_ATTENTION) around the beneficiary check, failed and
duplicated transfer callbacks, and the transfer reconciler. Each test asserts the exact status moves and activity
calls of its branch (patches ``money-out-v1`` and ``hold-not-fail-v1``; see docs/money-out.md).

Run: ``pytest tests/workflows/test_money_out.py`` (needs only ``temporal-test-server``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta, timezone

from temporalio.client import WorkflowExecutionStatus

from tests.workflows.stubs import (
    BRAND_ID,
    CREDIT_EXECUTIVE,
    CUSTOMER_ID,
    LOAN_EXECUTIVE,
    SANCTION_HEAD,
    SANCTION_MANAGER,
    SUPER_ADMIN,
    LoanRun,
    Staff,
    StubActivities,
    change,
    docket_id,
    kfs_change,
    loan_input,
    policy,
    refused,
    review_change,
    running_loan,
    terms,
    to_agreement_signed,
)
from workflows.contracts import (
    AgreementResendRequest,
    BeneficiaryCheck,
    DecisionResult,
    DisbursalNotice,
    DisbursalResult,
    LoanWorkflowResult,
    SignedAgreementRequest,
    StaleTransfer,
    TransferCheck,
    TransferFailure,
)
from workflows.reconciler import ReconcileTransfersWorkflow

IST = timezone(timedelta(hours=5, minutes=30))
MANUAL_REVIEW = DecisionResult("MANUAL_REVIEW", ["score 700 needs review"], "70.00")
VERIFIED = BeneficiaryCheck(True, None, "acct-2", "5678", "ICIC0000001", reverified=True)
MISMATCH = BeneficiaryCheck(False, "beneficiary name match 40 below 80")
AMOUNT = 60_000_00  # terms()' amount, and what goes out (no upfront fees)



def resend(customer_id: str = CUSTOMER_ID) -> AgreementResendRequest:
    return AgreementResendRequest(customer_id)


def initiated(transfer_id: str, last4: str = "1234") -> str:
    """The DISBURSAL_PENDING move's reason (the stub bank names no rail: "bank")."""
    return f"transfer {transfer_id} initiated (bank to account XXXX{last4})"


def declined(run: LoanRun, seq: int, docket: str) -> object:
    """The move that records a signer's decline."""
    return review_change(
        run, seq, "AGREEMENT_PENDING", "AGREEMENT_PENDING",
        f"the signer declined docket {docket}; awaiting a new link or cancellation", action="ESIGN_DECLINED",
    )  # fmt: skip


def hold(run: LoanRun, seq: int, frm: str, reason: str, step: str = "beneficiary") -> object:
    """The move that parks the loan (NEEDS_ATTENTION, action HOLD)."""
    return review_change(
        run, seq, frm, "NEEDS_ATTENTION", f"{step}: {reason}", action="HOLD", details={"step": step, "resumeTo": frm}
    )


async def until_move(run: LoanRun, count: int) -> None:
    """Wait until the workflow recorded ``count`` moves and holds the last one itself."""
    await run.stubs.wait_calls("record_status", count)
    await run.until_status(run.stubs.of("record_status")[count - 1].to_status)


async def status_of(run: LoanRun) -> WorkflowExecutionStatus | None:
    return (await run.env.client.get_workflow_handle(run.handle.id).describe()).status


# --- the KFS before eSign ------------------------------------------------------------------------------
async def test_nothing_goes_for_esign_before_the_kfs_is_accepted(env) -> None:  # noqa: ANN001
    """accept_kfs is refused before sanction, for another customer, for a lapsed or stale KFS and once accepted;
    a sanctioned loan waits (no agreement rendered, however long) until the borrower accepts, then goes for eSign
    with the accepted version's hash."""
    stubs = StubActivities(decision=MANUAL_REVIEW)
    async with running_loan(env, stubs, loan_input(terms(tenure=1))) as run:
        await run.until_status("UNDER_REVIEW")
        await refused(
            run, "accept_kfs", await run.kfs(), "Conflict",
            "loan is UNDER_REVIEW; the KFS is accepted once the loan is sanctioned",
        )  # fmt: skip
        assert await run.update("forward", CREDIT_EXECUTIVE.act()) == "UNDER_REVIEW"
        assert await run.update("approve", SANCTION_MANAGER.act()) == "UNDER_REVIEW"
        assert await run.update("sanction", SANCTION_HEAD.act()) == "SANCTIONED"
        await env.sleep(timedelta(seconds=590))  # just short of the wait's bound: nothing is sent for signature
        assert "prepare_agreement" not in stubs.names() and len(stubs.of("record_status")) == 4
        await refused(run, "accept_kfs", await run.kfs(customer_id="customer-other"), "NotFound", "loan not found")
        await refused(
            run, "accept_kfs", await run.kfs(valid_days=-1), "Conflict", "this KFS is no longer valid; fetch it again"
        )
        now = await env.get_current_time()
        stale = await run.kfs()
        stale.expires_at = now - timedelta(seconds=1)
        await refused(run, "accept_kfs", stale, "Expired")
        await refused(
            run, "resend_agreement", resend(), "Conflict", "loan is SANCTIONED; no agreement is out for signature"
        )
        assert await run.accept_kfs() == {"status": "SANCTIONED", "kfsHash": "a" * 64}
        await run.until_status("AGREEMENT_PENDING")
        await refused(run, "accept_kfs", await run.kfs(kfs_hash="b" * 64), "Conflict", "the KFS is already accepted")

    docket = docket_id(stubs.of("prepare_agreement")[0])
    assert stubs.names()[-4:] == ["record_status", "record_status", "prepare_agreement", "record_status"]
    assert stubs.of("record_status")[3:] == [
        review_change(
            run, 4, "UNDER_REVIEW", "SANCTIONED", "sanctioned by the sanction head", SANCTION_HEAD.actor,
            action="SANCTION", actor_id="sh-1", details={"action": "SANCTION"},
        ),
        kfs_change(run, 5, "SANCTIONED"),
        change(run, 6, "SANCTIONED", "AGREEMENT_PENDING", f"eSign docket {docket}"),
    ]  # fmt: skip
    (agreement,) = stubs.of("prepare_agreement")
    assert (agreement.idempotency_key, agreement.kfs_hash, agreement.replaces_docket) == (
        f"{run.key}:agreement:1", "a" * 64, None,
    )  # fmt: skip
    assert await run.accepted_updates() == ["forward", "approve", "sanction", "accept_kfs"]


async def test_a_kfs_never_accepted_expires_the_loan_and_staff_may_cancel_one_awaited(env) -> None:  # noqa: ANN001
    """The wait for the borrower's KFS acceptance is bounded by the eSign expiry (→ EXPIRED); while it lasts, staff
    may cancel the loan (→ CANCELLED, with their reason)."""
    stubs = StubActivities()
    async with running_loan(env, stubs) as run:
        await run.until_status("SANCTIONED")
        result = await run.result()  # virtual time runs: nobody accepts the KFS
    assert result.status == "EXPIRED" and "prepare_agreement" not in stubs.names()
    assert stubs.of("record_status")[-1] == change(
        run, 2, "SANCTIONED", "EXPIRED", "the Key Fact Statement was not accepted in time"
    )

    stubs = StubActivities()
    async with running_loan(env, stubs) as run:
        await run.until_status("SANCTIONED")
        await stubs.wait_for(lambda: len(stubs.of("record_status")) == 1, "the sanction recorded")
        await refused(run, "cancel_agreement", LOAN_EXECUTIVE.act(reason=" "), "ValidationError")
        assert await run.update("cancel_agreement", LOAN_EXECUTIVE.act(reason="borrower withdrew")) == "CANCELLED"
        result = await run.result()
    assert result.status == "CANCELLED" and "prepare_agreement" not in stubs.names()
    last = stubs.of("record_status")[-1]
    assert (last.from_status, last.to_status, last.reason, last.actor, last.action) == (
        "SANCTIONED",
        "CANCELLED",
        "borrower withdrew",
        LOAN_EXECUTIVE.actor,
        "CANCEL",
    )


# --- eSign: decline, resend, cancel ----------------------------------------------------------------------
async def test_declined_then_resent_and_signed(env) -> None:  # noqa: ANN001
    """DECLINED → the loan waits (ESIGN_DECLINED); the borrower's resend opens a second docket (round 2, nothing to
    replace: a declined docket cannot be signed) and its signature moves the loan to AGREEMENT_SIGNED."""
    stubs = StubActivities()
    async with running_loan(env, stubs) as run:
        await run.to_agreement_pending()
        first = docket_id(stubs.of("prepare_agreement")[0])
        await refused(
            run, "cancel_agreement", LOAN_EXECUTIVE.act(reason="borrower withdrew"), "Conflict",
            "only an agreement the signer declined, or one waiting for the KFS, can be cancelled",
        )  # fmt: skip
        await run.sign("DECLINED")
        await until_move(run, 4)
        await refused(run, "resend_agreement", resend("customer-other"), "NotFound", "loan not found")
        answer = await run.update("resend_agreement", resend())
        second = docket_id(stubs.of("prepare_agreement")[1])
        assert second != first
        assert answer == {"status": "AGREEMENT_PENDING", "docketId": second, "kfsRequired": False}
        await refused(
            run, "cancel_agreement", LOAN_EXECUTIVE.act(reason="borrower withdrew"), "Conflict",
            "only an agreement the signer declined, or one waiting for the KFS, can be cancelled",
        )  # fmt: skip
        assert await run.sign() == second
        await run.until_status("AGREEMENT_SIGNED")
        await refused(
            run, "resend_agreement", resend(), "Conflict", "loan is AGREEMENT_SIGNED; no agreement is out for signature"
        )

    assert stubs.of("record_status") == [
        change(run, 1, "APPLIED", "SANCTIONED", "auto-sanctioned: score 780"),
        kfs_change(run, 2, "SANCTIONED"),
        change(run, 3, "SANCTIONED", "AGREEMENT_PENDING", f"eSign docket {first}"),
        declined(run, 4, first),
        change(run, 5, "AGREEMENT_PENDING", "AGREEMENT_PENDING", f"eSign docket {second}"),
        change(run, 6, "AGREEMENT_PENDING", "AGREEMENT_SIGNED", f"signed, docket {second}"),
    ]
    assert stubs.names()[stubs.names().index("prepare_agreement") :] == [
        "prepare_agreement", "record_status",
        "record_agreement_outcome", "record_status",  # declined
        "prepare_agreement", "record_status",  # the new link
        "record_agreement_outcome", "store_signed_agreement", "record_status",
    ]  # fmt: skip
    assert [(a.idempotency_key, a.kfs_hash, a.replaces_docket) for a in stubs.of("prepare_agreement")] == [
        (f"{run.key}:agreement:1", "a" * 64, None),
        (f"{run.key}:agreement:2", "a" * 64, None),
    ]
    assert [(o.docket_id, o.status) for o in stubs.of("record_agreement_outcome")] == [
        (first, "DECLINED"), (second, "SIGNED"),
    ]  # fmt: skip
    assert stubs.of("store_signed_agreement") == [SignedAgreementRequest(run.loan_id, BRAND_ID, second)]
    assert stubs.of("cancel_docket") == []  # a declined docket can no longer be signed: nothing to cancel
    assert await run.accepted_updates() == ["accept_kfs", "resend_agreement"]


async def test_declined_then_cancelled_by_staff(env) -> None:  # noqa: ANN001
    """Staff cancel a declined agreement with a reason (loan ops only): the loan ends CANCELLED, not failed."""
    stubs = StubActivities()
    async with running_loan(env, stubs) as run:
        await run.to_agreement_pending()
        docket = await run.sign("DECLINED")
        await until_move(run, 4)
        await refused(
            run, "cancel_agreement", LOAN_EXECUTIVE.act(), "ValidationError", "required to cancel an agreement",
            "reason",
        )  # fmt: skip
        await refused(run, "cancel_agreement", LOAN_EXECUTIVE.act(reason="  "), "ValidationError")
        await refused(
            run, "cancel_agreement", CREDIT_EXECUTIVE.act(reason="withdrew"), "PermissionDenied",
            "role CREDIT_EXECUTIVE may not do this",
        )  # fmt: skip
        await refused(
            run, "cancel_agreement", LOAN_EXECUTIVE.act(reason="withdrew", brand_id="other-brand"), "NotFound",
            "loan not found",
        )  # fmt: skip
        cancel = LOAN_EXECUTIVE.act(reason="borrower withdrew the application")
        assert await run.update("cancel_agreement", cancel) == "CANCELLED"
        result = await run.result()

    assert result == LoanWorkflowResult(run.loan_id, "CANCELLED", 0, 0)
    assert stubs.of("record_status")[2:] == [
        change(run, 3, "SANCTIONED", "AGREEMENT_PENDING", f"eSign docket {docket}"),
        declined(run, 4, docket),
        review_change(
            run, 5, "AGREEMENT_PENDING", "CANCELLED", "borrower withdrew the application", LOAN_EXECUTIVE.actor,
            action="CANCEL", actor_id="le-1",
        ),
    ]  # fmt: skip
    assert [(o.docket_id, o.status) for o in stubs.of("record_agreement_outcome")] == [(docket, "DECLINED")]
    assert len(stubs.of("prepare_agreement")) == 1
    assert await status_of(run) == WorkflowExecutionStatus.COMPLETED
    assert await run.accepted_updates() == ["accept_kfs", "cancel_agreement"]


async def test_resend_before_any_outcome_replaces_the_docket(env) -> None:  # noqa: ANN001
    """A new link asked for while the docket is open: round 2 names the open docket to cancel first; a late word
    on the replaced docket (even SIGNED) changes nothing; the new docket's signature counts."""
    stubs = StubActivities()
    async with running_loan(env, stubs) as run:
        await run.to_agreement_pending()
        first = docket_id(stubs.of("prepare_agreement")[0])
        answer = await run.update("resend_agreement", resend())
        second = docket_id(stubs.of("prepare_agreement")[1])
        assert answer == {"status": "AGREEMENT_PENDING", "docketId": second, "kfsRequired": False}
        calls = list(stubs.calls)
        await run.sign("SIGNED", docket=first)  # the replaced docket
        await env.sleep(timedelta(seconds=60))
        assert stubs.calls == calls and (await run.snapshot())["status"] == "AGREEMENT_PENDING"
        await run.sign("SIGNED")
        await run.until_status("AGREEMENT_SIGNED")

    assert [(a.idempotency_key, a.kfs_hash, a.replaces_docket) for a in stubs.of("prepare_agreement")] == [
        (f"{run.key}:agreement:1", "a" * 64, None),
        (f"{run.key}:agreement:2", "a" * 64, first),
    ]
    assert stubs.of("record_status")[2:] == [
        change(run, 3, "SANCTIONED", "AGREEMENT_PENDING", f"eSign docket {first}"),
        change(run, 4, "AGREEMENT_PENDING", "AGREEMENT_PENDING", f"eSign docket {second}"),
        change(run, 5, "AGREEMENT_PENDING", "AGREEMENT_SIGNED", f"signed, docket {second}"),
    ]
    assert [(o.docket_id, o.status) for o in stubs.of("record_agreement_outcome")] == [(second, "SIGNED")]
    assert stubs.of("store_signed_agreement") == [SignedAgreementRequest(run.loan_id, BRAND_ID, second)]
    # the open docket is cancelled at its vendor at once, before the next round renders anything
    assert stubs.of("cancel_docket") == [SignedAgreementRequest(run.loan_id, BRAND_ID, first)]
    names = stubs.names()
    assert names.index("cancel_docket") < [i for i, n in enumerate(names) if n == "prepare_agreement"][1]
    assert await run.accepted_updates() == ["accept_kfs", "resend_agreement"]


async def test_a_lapsed_kfs_is_accepted_again_before_a_new_docket(env) -> None:  # noqa: ANN001
    """A KFS valid for today only, a decline, and the resend after midnight (IST): the workflow asks for a new
    KFS (kfsRequired) before any new docket; the lapsed one is refused, the new one is recorded and round 2 carries
    its hash."""
    stubs = StubActivities()
    inp = loan_input(loan_policy=policy(esign_expiry_seconds=3 * 86_400))
    async with running_loan(env, stubs, inp) as run:
        await run.accept_kfs(valid_days=0)
        await run.until_status("AGREEMENT_PENDING")
        first = await run.sign("DECLINED")
        await until_move(run, 4)
        today = (await env.get_current_time()).astimezone(IST).date()
        await run.sleep_until(datetime.combine(today + timedelta(days=1), time(0, 1), IST))
        answer = await run.update("resend_agreement", resend())
        assert answer == {"status": "AGREEMENT_PENDING", "docketId": first, "kfsRequired": True}
        assert len(stubs.of("prepare_agreement")) == 1 and len(stubs.of("record_status")) == 4
        lapsed = run.acceptances[0]
        await refused(run, "accept_kfs", lapsed, "Conflict", "this KFS is no longer valid; fetch it again")
        assert await run.accept_kfs(kfs_hash="b" * 64, status="AGREEMENT_PENDING") == {
            "status": "AGREEMENT_PENDING",
            "kfsHash": "b" * 64,
        }
        await stubs.wait_calls("prepare_agreement", 2)
        second = await run.sign()
        await run.until_status("AGREEMENT_SIGNED")

    renewed = run.acceptances[1]
    assert renewed.issued_on == today + timedelta(days=1)
    assert stubs.of("record_status") == [
        change(run, 1, "APPLIED", "SANCTIONED", "auto-sanctioned: score 780"),
        kfs_change(run, 2, "SANCTIONED"),
        change(run, 3, "SANCTIONED", "AGREEMENT_PENDING", f"eSign docket {first}"),
        declined(run, 4, first),
        kfs_change(run, 5, "AGREEMENT_PENDING", renewed),
        change(run, 6, "AGREEMENT_PENDING", "AGREEMENT_PENDING", f"eSign docket {second}"),
        change(run, 7, "AGREEMENT_PENDING", "AGREEMENT_SIGNED", f"signed, docket {second}"),
    ]
    assert [(a.idempotency_key, a.kfs_hash, a.replaces_docket) for a in stubs.of("prepare_agreement")] == [
        (f"{run.key}:agreement:1", "a" * 64, None),
        (f"{run.key}:agreement:2", "b" * 64, None),
    ]
    assert await run.accepted_updates() == ["accept_kfs", "resend_agreement", "accept_kfs"]


# --- the hold around the beneficiary check ---------------------------------------------------------------
async def test_unverified_beneficiary_is_held_then_resumed_and_disbursed(env) -> None:  # noqa: ANN001
    """A name mismatch parks the loan (NEEDS_ATTENTION, HOLD, back to AGREEMENT_SIGNED); refusals change nothing;
    an admin resumes it, the check runs again, passes, and the transfer goes to the verified account."""
    stubs = StubActivities(beneficiary_answers=[MISMATCH, VERIFIED])
    async with running_loan(env, stubs, loan_input(terms(tenure=1))) as run:
        await to_agreement_signed(run)
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "NEEDS_ATTENTION"
        await refused(
            run, "resume_hold", CREDIT_EXECUTIVE.act(), "PermissionDenied", "role CREDIT_EXECUTIVE may not do this"
        )
        await refused(run, "resume_hold", SUPER_ADMIN.act(brand_id="other-brand"), "NotFound", "loan not found")
        await refused(
            run, "reject_hold", LOAN_EXECUTIVE.act(), "ValidationError", "required to reject a loan on hold", "reason"
        )
        await refused(run, "approve_disbursal", Staff("le-2", "LOAN_EXECUTIVE").act(), "Conflict")
        resume = SUPER_ADMIN.act(reason="customer corrected the account holder name")
        assert await run.update("resume_hold", resume) == "AGREEMENT_SIGNED"
        await run.until_status("DISBURSAL_PENDING")
        await refused(run, "resume_hold", SUPER_ADMIN.act(), "Conflict", "loan is DISBURSAL_PENDING")
        await run.settle("TR-1", "SUCCESS", "UTR0101")
        await stubs.wait_calls("notify_disbursed", 1)

    le = LOAN_EXECUTIVE.actor
    assert stubs.of("record_status")[3:] == [
        change(run, 4, "AGREEMENT_PENDING", "AGREEMENT_SIGNED", stubs.of("record_status")[3].reason),
        hold(run, 5, "AGREEMENT_SIGNED", "beneficiary name match 40 below 80"),
        review_change(
            run, 6, "NEEDS_ATTENTION", "AGREEMENT_SIGNED", "customer corrected the account holder name",
            SUPER_ADMIN.actor, action="RESUME", actor_id="sa-1",
        ),
        change(run, 7, "AGREEMENT_SIGNED", "DISBURSAL_PENDING", initiated("TR-1", "5678"), le),
        change(run, 8, "DISBURSAL_PENDING", "DISBURSED", "UTR UTR0101"),
    ]  # fmt: skip
    assert stubs.names()[stubs.names().index("store_signed_agreement") + 2 :] == [
        "reverify_beneficiary", "record_status",  # held
        "record_status", "reverify_beneficiary",  # resumed: the check runs again
        "initiate_disbursal", "record_status", "record_disbursal", "record_status", "notify_disbursed",
    ]  # fmt: skip
    assert [r.idempotency_key for r in stubs.of("reverify_beneficiary")] == [
        f"{run.key}:beneficiary:1:1",
        f"{run.key}:beneficiary:1:2",
    ]
    (transfer,) = stubs.of("initiate_disbursal")
    assert (transfer.idempotency_key, transfer.bank_account_id, transfer.amount, transfer.approved_by) == (
        f"{run.key}:disbursal:1", "acct-2", AMOUNT, le,
    )  # fmt: skip
    assert stubs.of("notify_disbursed") == [DisbursalNotice(run.loan_id, BRAND_ID, AMOUNT, "UTR0101")]
    assert await run.accepted_updates() == ["accept_kfs", "approve_disbursal", "resume_hold"]


async def test_unverified_beneficiary_is_held_then_rejected(env) -> None:  # noqa: ANN001
    """Ops reject a loan on hold with a reason: it ends REJECTED (the workflow completes, it does not fail) and no
    money moves."""
    stubs = StubActivities(beneficiary_answers=[BeneficiaryCheck(False, "account closed")])
    async with running_loan(env, stubs) as run:
        await to_agreement_signed(run)
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "NEEDS_ATTENTION"
        await refused(run, "reject_hold", LOAN_EXECUTIVE.act(reason=" "), "ValidationError")
        await refused(
            run, "reject_hold", CREDIT_EXECUTIVE.act(reason="closed"), "PermissionDenied",
            "role CREDIT_EXECUTIVE may not do this",
        )  # fmt: skip
        reject = LOAN_EXECUTIVE.act(reason="account closed; customer unreachable")
        assert await run.update("reject_hold", reject) == "REJECTED"
        result = await run.result()

    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    assert await status_of(run) == WorkflowExecutionStatus.COMPLETED
    assert stubs.of("record_status")[4:] == [
        hold(run, 5, "AGREEMENT_SIGNED", "account closed"),
        review_change(
            run, 6, "NEEDS_ATTENTION", "REJECTED", "account closed; customer unreachable", LOAN_EXECUTIVE.actor,
            action="REJECT", actor_id="le-1",
        ),
    ]  # fmt: skip
    assert len(stubs.of("reverify_beneficiary")) == 1
    assert [n for n in stubs.names() if n in {"initiate_disbursal", "record_disbursal", "notify_disbursed"}] == []
    assert await run.accepted_updates() == ["accept_kfs", "approve_disbursal", "reject_hold"]


async def test_a_provider_refusal_parks_the_loan_and_the_workflow_does_not_fail(env) -> None:  # noqa: ANN001
    """The penny-drop provider refuses for good (BusinessRefusal): the loan is parked with the provider's words and
    its workflow keeps running; resumed, the check passes and the money goes out."""
    stubs = StubActivities(beneficiary_answers=["penny drop refused: account frozen", VERIFIED])
    async with running_loan(env, stubs, loan_input(terms(tenure=1))) as run:
        await to_agreement_signed(run)
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "NEEDS_ATTENTION"
        assert await status_of(run) == WorkflowExecutionStatus.RUNNING
        assert len(stubs.of("reverify_beneficiary")) == 1  # a refusal is not retried
        assert await run.update("resume_hold", LOAN_EXECUTIVE.act()) == "AGREEMENT_SIGNED"
        await run.settle("TR-1", "SUCCESS", "UTR0102")
        await stubs.wait_calls("notify_disbursed", 1)

    assert stubs.of("record_status")[4:] == [
        hold(run, 5, "AGREEMENT_SIGNED", "penny drop refused: account frozen"),
        review_change(
            run, 6, "NEEDS_ATTENTION", "AGREEMENT_SIGNED", "resumed: beneficiary runs again", LOAN_EXECUTIVE.actor,
            action="RESUME", actor_id="le-1",
        ),
        change(run, 7, "AGREEMENT_SIGNED", "DISBURSAL_PENDING", initiated("TR-1", "5678"), LOAN_EXECUTIVE.actor),
        change(run, 8, "DISBURSAL_PENDING", "DISBURSED", "UTR UTR0102"),
    ]  # fmt: skip
    # the refused step itself runs again once resumed: the same request (a mismatch, above, is a new check)
    assert [r.idempotency_key for r in stubs.of("reverify_beneficiary")] == [f"{run.key}:beneficiary:1:1"] * 2
    assert await run.accepted_updates() == ["accept_kfs", "approve_disbursal", "resume_hold"]


# --- transfers --------------------------------------------------------------------------------------------
async def test_failed_transfer_is_recorded_with_the_banks_reason_and_retried(env) -> None:  # noqa: ANN001
    """FAILED with the bank's reason: recorded (record_transfer_failure) and in the move's reason; back to
    AGREEMENT_SIGNED; a new approval is attempt 2 (beneficiary checked again, a new transfer key)."""
    stubs = StubActivities()
    second = Staff("le-2", "LOAN_EXECUTIVE")
    async with running_loan(env, stubs, loan_input(terms(tenure=1))) as run:
        await to_agreement_signed(run)
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "DISBURSAL_PENDING"
        await run.settle("TR-1", "FAILED", reason="beneficiary bank offline (NPCI U30)")
        await until_move(run, 6)
        assert await run.update("approve_disbursal", second.act()) == "DISBURSAL_PENDING"
        await run.settle("TR-2", "SUCCESS", "UTR0201")
        await stubs.wait_calls("notify_disbursed", 1)

    assert stubs.of("record_status")[4:] == [
        change(run, 5, "AGREEMENT_SIGNED", "DISBURSAL_PENDING", initiated("TR-1"), LOAN_EXECUTIVE.actor),
        change(
            run, 6, "DISBURSAL_PENDING", "AGREEMENT_SIGNED",
            "transfer TR-1 failed: beneficiary bank offline (NPCI U30); awaiting a new disbursal approval",
        ),
        change(run, 7, "AGREEMENT_SIGNED", "DISBURSAL_PENDING", initiated("TR-2"), second.actor),
        change(run, 8, "DISBURSAL_PENDING", "DISBURSED", "UTR UTR0201"),
    ]  # fmt: skip
    assert stubs.of("record_transfer_failure") == [
        TransferFailure(run.loan_id, "TR-1", "beneficiary bank offline (NPCI U30)", "webhook")
    ]
    assert stubs.names()[stubs.names().index("reverify_beneficiary") :] == [
        "reverify_beneficiary", "initiate_disbursal", "record_status",
        "record_transfer_failure", "record_status",
        "reverify_beneficiary", "initiate_disbursal", "record_status",
        "record_disbursal", "record_status", "notify_disbursed",
    ]  # fmt: skip
    assert [r.idempotency_key for r in stubs.of("reverify_beneficiary")] == [
        f"{run.key}:beneficiary:1:1",
        f"{run.key}:beneficiary:2:1",
    ]
    assert [(t.idempotency_key, t.approved_by, t.bank_account_id) for t in stubs.of("initiate_disbursal")] == [
        (f"{run.key}:disbursal:1", LOAN_EXECUTIVE.actor, "acct-1"),
        (f"{run.key}:disbursal:2", second.actor, "acct-1"),
    ]
    (disbursed,) = stubs.of("record_disbursal")
    assert (disbursed.transfer_id, disbursed.utr) == ("TR-2", "UTR0201")
    assert await run.accepted_updates() == ["accept_kfs", "approve_disbursal", "approve_disbursal"]


async def test_a_transfer_the_bank_already_failed_needs_a_new_approval(env) -> None:  # noqa: ANN001
    """initiate_disbursal answers FAILED (the bank's status API on a transfer sent earlier under this key): no
    callback is awaited; the failure is recorded with the bank's reason and the loan waits for a new approval."""
    failed = DisbursalResult("TR-1", "FAILED", "account closed at the bank", "IMPS", "1234")
    stubs = StubActivities(transfer_answers=[failed])
    async with running_loan(env, stubs, loan_input(terms(tenure=1))) as run:
        await to_agreement_signed(run)
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "DISBURSAL_PENDING"
        await until_move(run, 6)
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "DISBURSAL_PENDING"
        await run.settle("TR-2", "SUCCESS", "UTR0401")
        await stubs.wait_calls("notify_disbursed", 1)

    assert stubs.of("record_status")[4:] == [
        change(
            run, 5, "AGREEMENT_SIGNED", "DISBURSAL_PENDING", "transfer TR-1 initiated (IMPS to account XXXX1234)",
            LOAN_EXECUTIVE.actor,
        ),
        change(
            run, 6, "DISBURSAL_PENDING", "AGREEMENT_SIGNED",
            "transfer TR-1 failed: account closed at the bank; awaiting a new disbursal approval",
        ),
        change(run, 7, "AGREEMENT_SIGNED", "DISBURSAL_PENDING", initiated("TR-2"), LOAN_EXECUTIVE.actor),
        change(run, 8, "DISBURSAL_PENDING", "DISBURSED", "UTR UTR0401"),
    ]  # fmt: skip
    assert stubs.of("record_transfer_failure") == [
        TransferFailure(run.loan_id, "TR-1", "account closed at the bank", "status_api")
    ]
    assert [t.idempotency_key for t in stubs.of("initiate_disbursal")] == [
        f"{run.key}:disbursal:1",
        f"{run.key}:disbursal:2",
    ]


async def test_a_transfer_the_bank_refuses_parks_the_loan(env) -> None:  # noqa: ANN001
    """The bank refuses the transfer request (BusinessRefusal): the loan is parked at the disbursal step, back to
    AGREEMENT_SIGNED when resumed; rejected, it ends REJECTED."""
    stubs = StubActivities(transfer_answers=["IFSC HDFC0001234 is not valid for IMPS"])
    async with running_loan(env, stubs, loan_input(terms(tenure=1))) as run:
        await to_agreement_signed(run)
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "NEEDS_ATTENTION"
        assert await status_of(run) == WorkflowExecutionStatus.RUNNING
        assert await run.update("reject_hold", LOAN_EXECUTIVE.act(reason="wrong IFSC")) == "REJECTED"
        result = await run.result()

    assert result == LoanWorkflowResult(run.loan_id, "REJECTED", 0, 0)
    assert stubs.of("record_status")[4:] == [
        hold(run, 5, "AGREEMENT_SIGNED", "IFSC HDFC0001234 is not valid for IMPS", step="disbursal"),
        review_change(
            run, 6, "NEEDS_ATTENTION", "REJECTED", "wrong IFSC", LOAN_EXECUTIVE.actor, action="REJECT",
            actor_id="le-1",
        ),
    ]  # fmt: skip
    assert stubs.names()[stubs.names().index("reverify_beneficiary") :] == [
        "reverify_beneficiary", "initiate_disbursal", "record_status", "record_status",
    ]  # fmt: skip


async def test_a_late_failure_after_success_changes_nothing(env) -> None:  # noqa: ANN001
    """The first word on a transfer counts: a FAILED callback for a transfer already settled SUCCESS (right after
    it, and again once servicing) records no failure and moves nothing."""
    stubs = StubActivities()
    async with running_loan(env, stubs, loan_input(terms(tenure=1))) as run:
        await to_agreement_signed(run)
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "DISBURSAL_PENDING"
        await run.settle("TR-1", "SUCCESS", "UTR0301")
        await run.settle("TR-1", "FAILED", reason="reversed")
        link = (await stubs.wait_calls("ensure_payment_link", 1))[0]
        await run.settle("TR-1", "FAILED", reason="reversed")  # to the servicing run
        await run.pay("pay_1", link.amount)
        result = await run.result()

    assert result == LoanWorkflowResult(run.loan_id, "COMPLETED", 1, link.amount)
    assert stubs.statuses()[-4:] == ["AGREEMENT_SIGNED", "DISBURSAL_PENDING", "DISBURSED", "COMPLETED"]
    assert stubs.of("record_transfer_failure") == []
    assert [(d.transfer_id, d.utr) for d in stubs.of("record_disbursal")] == [("TR-1", "UTR0301")]
    assert stubs.of("notify_disbursed") == [DisbursalNotice(run.loan_id, BRAND_ID, AMOUNT, "UTR0301")]
    assert len(stubs.of("initiate_disbursal")) == 1


# --- the transfer reconciler -------------------------------------------------------------------------------
async def reconcile(run: LoanRun) -> dict:
    """One ReconcileTransfersWorkflow run on the loan's stub worker; its result."""
    return await run.env.client.execute_workflow(
        ReconcileTransfersWorkflow.run, id=f"reconcile-{uuid.uuid4().hex[:8]}", task_queue=run.task_queue
    )


async def test_reconciler_settles_a_transfer_whose_callback_was_lost(env) -> None:  # noqa: ANN001
    """The bank's callback never comes: a reconciler run that finds the bank still PENDING changes nothing; the next
    one, told SUCCESS with a UTR, signals the loan, which is disbursed with that UTR."""
    stubs = StubActivities()
    async with running_loan(env, stubs, loan_input(terms(tenure=1)), workflows=[ReconcileTransfersWorkflow]) as run:
        await to_agreement_signed(run)
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "DISBURSAL_PENDING"
        stale = StaleTransfer(run.loan_id, BRAND_ID, "TR-1", f"{run.key}:disbursal:1", "idfc")
        stubs.stale_transfers = [stale]
        stubs.transfer_checks = {"TR-1": TransferCheck("PENDING")}
        assert await reconcile(run) == {"asked": 1, "settled": 0}
        assert (await run.snapshot())["status"] == "DISBURSAL_PENDING"
        assert stubs.statuses()[-1] == "DISBURSAL_PENDING"
        stubs.transfer_checks = {"TR-1": TransferCheck("SUCCESS", "UTR-REC-1")}
        assert await reconcile(run) == {"asked": 1, "settled": 1}
        await stubs.wait_calls("notify_disbursed", 1)

    assert stubs.of("check_transfer") == [stale, stale]
    assert len(stubs.of("find_stale_transfers")) == 2
    assert stubs.of("record_status")[-2:] == [
        change(run, 5, "AGREEMENT_SIGNED", "DISBURSAL_PENDING", initiated("TR-1"), LOAN_EXECUTIVE.actor),
        change(run, 6, "DISBURSAL_PENDING", "DISBURSED", "UTR UTR-REC-1"),
    ]
    (disbursed,) = stubs.of("record_disbursal")
    assert (disbursed.transfer_id, disbursed.utr) == ("TR-1", "UTR-REC-1")
    assert stubs.of("record_transfer_failure") == []
    assert stubs.of("notify_disbursed") == [DisbursalNotice(run.loan_id, BRAND_ID, AMOUNT, "UTR-REC-1")]


async def test_reconciler_reports_a_failed_transfer_with_the_banks_reason(env) -> None:  # noqa: ANN001
    """The bank's status API says FAILED: the loan records the failure as the reconciler's, with the bank's reason,
    and waits for a new approval; a transfer of a loan with no workflow is skipped, the run does not fail."""
    stubs = StubActivities()
    async with running_loan(env, stubs, loan_input(terms(tenure=1)), workflows=[ReconcileTransfersWorkflow]) as run:
        await to_agreement_signed(run)
        assert await run.update("approve_disbursal", LOAN_EXECUTIVE.act()) == "DISBURSAL_PENDING"
        gone = StaleTransfer("no-such-loan", BRAND_ID, "TR-9", "loan-no-such-loan:disbursal:1", "icici")
        stale = StaleTransfer(run.loan_id, BRAND_ID, "TR-1", f"{run.key}:disbursal:1", "idfc")
        stubs.stale_transfers = [gone, stale]
        stubs.transfer_checks = {
            "TR-9": TransferCheck("SUCCESS", "UTR-GONE"),
            "TR-1": TransferCheck("FAILED", reason="account closed"),
        }
        assert await reconcile(run) == {"asked": 2, "settled": 1}
        await until_move(run, 6)

    assert stubs.of("check_transfer") == [gone, stale]
    assert stubs.of("record_transfer_failure") == [TransferFailure(run.loan_id, "TR-1", "account closed", "reconciler")]
    assert stubs.of("record_status")[-1] == change(
        run, 6, "DISBURSAL_PENDING", "AGREEMENT_SIGNED",
        "transfer TR-1 failed: account closed; awaiting a new disbursal approval",
    )  # fmt: skip
    assert stubs.of("record_disbursal") == []
