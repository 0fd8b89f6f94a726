"""Origination's agreement and eSign (see ``workflows.loan``).

Since MONEY_OUT_PATCH: nothing goes for eSign before the borrower accepted the Key Fact Statement (RBI KFS
circular, April 2024), and the acceptance is in the status history (a SANCTIONED → SANCTIONED move, action
KFS_ACCEPTED, with the version's hash and validity). Then, round after round:

1. the agreement (the KFS as its annex) is rendered and a docket opened at the brand's eSign vendor (failing over
   to the other); a docket it replaces is cancelled at its vendor first, so only one can ever be signed;
2. AGREEMENT_PENDING until the vendor's word on *this* docket, the borrower's ask for a new link, or the expiry:
   - SIGNED: the signed PDF is fetched, stored with its SHA-256 and sent to the borrower → AGREEMENT_SIGNED;
   - DECLINED: the loan waits (until the expiry) for the borrower's new link or for staff to cancel it (CANCELLED);
   - EXPIRED, or no word before the expiry: the loan ends EXPIRED;
   - a new link asked for: the next round; when the accepted KFS's validity has lapsed (3 working days, 1 for
     tenors under 7 days), the borrower accepts a recomputed KFS first.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from functools import partial

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.loan import LoanActivities
    from domain.outcomes import AgreementStatus
    from domain.status import TERMINAL, LoanStatus
    from workflows.contracts import (
        AgreementOutcome,
        AgreementRequest,
        AgreementResendRequest,
        AgreementResult,
        EsignEvent,
        KfsAcceptance,
        LoanWorkflowResult,
        SignedAgreementRequest,
        StaffAction,
    )
    from workflows.heartbeats import AGREEMENT_HEARTBEAT
    from workflows.options import (
        AGREEMENT_TIMEOUT,
        IST,
        MONEY_OUT_PATCH,
        PROVIDER_RETRY,
        PROVIDER_TIMEOUT,
    )

from workflows.base import LoanStopped, _check_fresh, _refuse
from workflows.hold import HOLD_ROLES, HoldPhase
from workflows.patches import patched

SIGNED, DECLINED, EXPIRED, RESEND, CANCEL = "SIGNED", "DECLINED", "EXPIRED", "RESEND", "CANCEL"


def _acceptance_key(acceptance: KfsAcceptance) -> str:
    """One acceptance (the same KFS accepted again after it lapsed is a new one)."""
    return f"{acceptance.kfs_hash}@{acceptance.accepted_at.isoformat()}"


def _today() -> date:
    """Today in IST, by the workflow's clock."""
    return workflow.now().astimezone(IST).date()


class AgreementPhase(HoldPhase):
    """Origination, third part: the KFS accepted, the loan agreement rendered and sent for eSign, and the
    borrower's signature (or its expiry, refusal, or a fresh link)."""

    async def _sign_agreement(self, key: str) -> LoanWorkflowResult | None:
        """AGREEMENT_SIGNED (None), or the loan's end (EXPIRED; CANCELLED by staff after a decline)."""
        self.money_out = patched(MONEY_OUT_PATCH)
        if not self.money_out:
            return await self._sign_agreement_v1(key)
        inp = self.inp
        replaces: str | None = None
        round_no = 0
        while True:
            if not await self._await_kfs():
                return await self._end(LoanStatus.EXPIRED, "the Key Fact Statement was not accepted in time")
            assert self.kfs_acceptance is not None
            round_no += 1
            request = AgreementRequest(
                inp.loan_id,
                inp.brand_id,
                inp.policy.esign_provider,
                f"{key}:agreement:{round_no}",
                inp.terms,
                inp.policy.esign_expiry_seconds,
                workflow.now(),
                kfs_hash=self.kfs_acceptance.kfs_hash,
                replaces_docket=replaces,
            )
            agreement = await self._or_hold("agreement", partial(self._prepare, request))
            self.resend_requested = False
            if agreement.docket_id != self.docket_id:
                self.docket_id = agreement.docket_id
                await self._move(LoanStatus.AGREEMENT_PENDING, f"eSign docket {agreement.docket_id}")
            outcome = await self._await_signature(agreement.docket_id)
            if outcome == SIGNED:
                await self._record_agreement(agreement.docket_id, AgreementStatus.SIGNED)
                await self._or_hold("signed agreement", partial(self._keep_signed, agreement.docket_id))
                await self._move(LoanStatus.AGREEMENT_SIGNED, f"signed, docket {agreement.docket_id}")
                return None
            if outcome == EXPIRED:
                if agreement.docket_id not in self.esign_events:  # our timer, not the vendor's: close it there too
                    await self._cancel_open_docket(agreement.docket_id)
                await self._record_agreement(agreement.docket_id, AgreementStatus.EXPIRED)
                return await self._end(LoanStatus.EXPIRED, "agreement not signed before expiry")
            if outcome == DECLINED:
                await self._record_agreement(agreement.docket_id, AgreementStatus.DECLINED)
                await self._move(
                    LoanStatus.AGREEMENT_PENDING,
                    f"the signer declined docket {agreement.docket_id}; awaiting a new link or cancellation",
                    action="ESIGN_DECLINED",
                )
                after = await self._await_after_decline()
                if after == EXPIRED:
                    return await self._end(LoanStatus.EXPIRED, "declined and no new link asked for before expiry")
                replaces = None  # a declined docket can no longer be signed
            else:  # RESEND before any word from the vendor: cancel the open docket at once (before any KFS wait)
                await self._cancel_open_docket(agreement.docket_id)
                replaces = agreement.docket_id  # the next round checks again: a docket signed meanwhile stands

    async def _prepare(self, request: AgreementRequest) -> AgreementResult:
        return await workflow.execute_activity_method(
            LoanActivities.prepare_agreement,
            request,
            start_to_close_timeout=AGREEMENT_TIMEOUT,
            heartbeat_timeout=AGREEMENT_HEARTBEAT,
            retry_policy=PROVIDER_RETRY,
            summary="Render agreement PDF and send for eSign"
            + (f" (replacing docket {request.replaces_docket})" if request.replaces_docket else ""),
        )

    async def _cancel_open_docket(self, docket_id: str) -> None:
        """Cancel an unsigned docket at its vendor so it can no longer be signed; best effort (a docket signed
        meanwhile stays signed, and its callback is taken as usual)."""
        try:
            await workflow.execute_activity_method(
                LoanActivities.cancel_docket,
                SignedAgreementRequest(self.inp.loan_id, self.inp.brand_id, docket_id),
                start_to_close_timeout=PROVIDER_TIMEOUT,
                heartbeat_timeout=AGREEMENT_HEARTBEAT,
                retry_policy=PROVIDER_RETRY,
                summary=f"Cancel eSign docket {docket_id}",
            )
        except ActivityError:
            workflow.logger.warning("eSign docket %s not cancelled at its vendor", docket_id)

    async def _keep_signed(self, docket_id: str) -> None:
        await workflow.execute_activity_method(
            LoanActivities.store_signed_agreement,
            SignedAgreementRequest(self.inp.loan_id, self.inp.brand_id, docket_id),
            start_to_close_timeout=PROVIDER_TIMEOUT,
            heartbeat_timeout=AGREEMENT_HEARTBEAT,
            retry_policy=PROVIDER_RETRY,
            summary="Fetch and store the signed agreement; send it to the borrower",
        )

    async def _await_kfs(self) -> bool:
        """Until the borrower holds an accepted KFS still valid today (IST), recording each acceptance; False when
        none comes within the eSign expiry. Raises ``LoanStopped`` (CANCELLED) when staff cancel meanwhile."""
        if self.kfs_acceptance is not None and self._kfs_lapsed(self.kfs_acceptance):
            self.kfs_acceptance = None  # lapsed: the borrower accepts a recomputed KFS
        self.kfs_wanted = self.kfs_acceptance is None
        try:
            await workflow.wait_condition(
                lambda: self.kfs_acceptance is not None or self.agreement_cancel is not None,
                timeout=timedelta(seconds=self.inp.policy.esign_expiry_seconds),
                timeout_summary="KFS acceptance",
            )
        except asyncio.TimeoutError:
            return False
        self._stop_if_cancelled()
        self.kfs_wanted = False
        acceptance = self.kfs_acceptance
        assert acceptance is not None
        if self.kfs_recorded != _acceptance_key(acceptance):
            await self._move(
                self.status,
                f"KFS accepted, valid until {acceptance.valid_until.isoformat()}",
                f"customer:{acceptance.customer_id}",
                action="KFS_ACCEPTED",
                details={
                    "kfsHash": acceptance.kfs_hash,
                    "issuedOn": acceptance.issued_on.isoformat(),
                    "validUntil": acceptance.valid_until.isoformat(),
                    "acceptedAt": acceptance.accepted_at.isoformat(),
                },
            )
            self.kfs_recorded = _acceptance_key(acceptance)
            self.kfs_accepted_on = _today()
        return True

    def _kfs_lapsed(self, acceptance: KfsAcceptance) -> bool:
        """The KFS's validity (``valid_until`` − ``issued_on`` days, as the API computed it) counted from the day the
        workflow recorded the acceptance, by the workflow's own clock (it need not agree with the API's)."""
        accepted_on = self.kfs_accepted_on or _today()
        return _today() > accepted_on + (acceptance.valid_until - acceptance.issued_on)

    def _stop_if_cancelled(self) -> None:
        action = self.agreement_cancel
        if action is not None:
            raise LoanStopped(
                LoanStatus.CANCELLED,
                action.reason or "cancelled by staff before signature",
                f"{action.role}:{action.staff_email}",
                action,
            )

    async def _await_signature(self, docket_id: str) -> str:
        """SIGNED / DECLINED / EXPIRED (the vendor's word on this docket, or the expiry timer) or RESEND."""
        try:
            await workflow.wait_condition(
                lambda: docket_id in self.esign_events or self.resend_requested,
                timeout=timedelta(seconds=self.inp.policy.esign_expiry_seconds),
                timeout_summary="eSign expiry",
            )
        except asyncio.TimeoutError:
            return EXPIRED
        event = self.esign_events.get(docket_id)
        if event is None:
            return RESEND
        return {AgreementStatus.SIGNED: SIGNED, AgreementStatus.DECLINED: DECLINED}.get(event.status, EXPIRED)

    async def _await_after_decline(self) -> str:
        """RESEND (the borrower asked for a new link) or EXPIRED (no ask before the expiry); raises
        ``LoanStopped`` (CANCELLED) when staff cancel the agreement."""
        try:
            await workflow.wait_condition(
                lambda: self.resend_requested or self.agreement_cancel is not None,
                timeout=timedelta(seconds=self.inp.policy.esign_expiry_seconds),
                timeout_summary="new link or cancellation after a decline",
            )
        except asyncio.TimeoutError:
            return EXPIRED
        self._stop_if_cancelled()
        return RESEND

    # ---------------------------------------------------------------- the borrower's and staff's messages
    @workflow.update(
        description="The borrower accepts the Key Fact Statement (KfsAcceptance: the version's hash, its issue "
        "date and validity); nothing goes for eSign before. Answers {status, kfsHash}."
    )
    async def accept_kfs(self, acceptance: KfsAcceptance) -> dict:
        self.kfs_acceptance = acceptance
        await workflow.wait_condition(
            lambda: (
                (self.kfs_recorded == _acceptance_key(acceptance) and self.moving_to is None) or self.status in TERMINAL
            )
        )
        return {"status": str(self.status), "kfsHash": acceptance.kfs_hash}

    @accept_kfs.validator
    def _validate_accept_kfs(self, acceptance: KfsAcceptance) -> None:
        _check_fresh(acceptance.expires_at)
        if acceptance.customer_id != self.inp.customer_id:
            raise _refuse("NotFound", "loan not found")
        if self.money_out is False:  # a loan on the path from before the KFS step: its agreement is already out
            raise _refuse("Conflict", "this loan's agreement went out before KFS acceptance was asked for")
        status = self.moving_to or self.status  # the customer acts on what the database shows
        if status not in (LoanStatus.SANCTIONED, LoanStatus.AGREEMENT_PENDING) or self.servicing is not None:
            raise _refuse("Conflict", f"loan is {status}; the KFS is accepted once the loan is sanctioned")
        if self.kfs_acceptance is not None:
            raise _refuse("Conflict", "the KFS is already accepted")
        if getattr(self, "partner_state", None) not in (None, "BOOKED"):  # workflows.partner_routing
            raise _refuse("Conflict", "the loan is being offered to partner lenders; its KFS follows once one books it")
        if acceptance.valid_until < acceptance.issued_on or _acceptance_key(acceptance) == self.kfs_recorded:
            raise _refuse("Conflict", "this KFS is no longer valid; fetch it again")

    @workflow.update(
        description="The borrower asks for a fresh signing link (AgreementResendRequest): the open docket is "
        "cancelled at the vendor first, then a new one opens. Answers {status, docketId, kfsRequired}."
    )
    async def resend_agreement(self, req: AgreementResendRequest) -> dict:
        before = self.docket_id
        self.resend_requested = True
        await workflow.wait_condition(
            lambda: (
                (self.docket_id != before and self.moving_to is None)
                or self.kfs_wanted
                or self.status != LoanStatus.AGREEMENT_PENDING
            )
        )
        return {"status": str(self.status), "docketId": self.docket_id, "kfsRequired": self.kfs_wanted}

    @resend_agreement.validator
    def _validate_resend_agreement(self, req: AgreementResendRequest) -> None:
        _check_fresh(req.expires_at)
        if req.customer_id != self.inp.customer_id:
            raise _refuse("NotFound", "loan not found")
        if self.status != LoanStatus.AGREEMENT_PENDING or self.moving_to is not None or self.docket_id is None:
            raise _refuse("Conflict", f"loan is {self.moving_to or self.status}; no agreement is out for signature")
        if self.resend_requested:
            raise _refuse("Conflict", "a new link is already being prepared")
        if self.docket_id in self.esign_events and self.esign_events[self.docket_id].status != AgreementStatus.DECLINED:
            raise _refuse("Conflict", "the agreement is already signed or expired")

    @workflow.update(
        description="Staff cancel a loan whose signer declined the agreement, or that waits for the borrower's KFS "
        "acceptance (StaffAction with reason): the loan ends CANCELLED. Answers the loan's status."
    )
    async def cancel_agreement(self, action: StaffAction) -> str:
        self.agreement_cancel = action
        await workflow.wait_condition(lambda: self.status in TERMINAL and self.moving_to is None)
        return self.status

    @cancel_agreement.validator
    def _validate_cancel_agreement(self, action: StaffAction) -> None:
        _check_fresh(action.expires_at)
        self._check_staff(action, HOLD_ROLES, {LoanStatus.SANCTIONED, LoanStatus.AGREEMENT_PENDING})
        if self.moving_to is not None:  # e.g. the loan is ending EXPIRED right now
            raise _refuse("Conflict", f"loan is moving to {self.moving_to}; try again")
        docket = self.docket_id
        event = self.esign_events.get(docket) if docket else None
        declined = event is not None and event.status == AgreementStatus.DECLINED and not self.resend_requested
        if not (declined or self.kfs_wanted):
            raise _refuse(
                "Conflict", "only an agreement the signer declined, or one waiting for the KFS, can be cancelled"
            )
        if not (action.reason or "").strip():
            raise _refuse("ValidationError", "required to cancel an agreement", field="reason")
        if self.agreement_cancel is not None:
            raise _refuse("Conflict", "already being cancelled")

    # ---------------------------------------------------------------- before MONEY_OUT_PATCH

    async def _sign_agreement_v1(self, key: str) -> LoanWorkflowResult | None:
        """Loans started before MONEY_OUT_PATCH: AGREEMENT_SIGNED (None), or the loan's end (EXPIRED) when the
        borrower does not sign in time or declines."""
        inp = self.inp
        agreement = await workflow.execute_activity_method(
            LoanActivities.prepare_agreement,
            AgreementRequest(
                inp.loan_id,
                inp.brand_id,
                inp.policy.esign_provider,
                f"{key}:agreement:1",
                inp.terms,
                inp.policy.esign_expiry_seconds,
                workflow.now(),
            ),
            start_to_close_timeout=AGREEMENT_TIMEOUT,
            heartbeat_timeout=AGREEMENT_HEARTBEAT,
            retry_policy=PROVIDER_RETRY,
            summary="Render agreement PDF and send for eSign",
        )
        await self._move(LoanStatus.AGREEMENT_PENDING, f"eSign docket {agreement.docket_id}")
        try:
            await workflow.wait_condition(
                lambda: self.esign_event is not None,
                timeout=timedelta(seconds=inp.policy.esign_expiry_seconds),
                timeout_summary="eSign expiry",
            )
        except asyncio.TimeoutError:
            await self._record_agreement(agreement.docket_id, AgreementStatus.EXPIRED)
            return await self._end(LoanStatus.EXPIRED, "agreement not signed before expiry")
        assert self.esign_event is not None
        await self._record_agreement(agreement.docket_id, self.esign_event.status)
        if self.esign_event.status != AgreementStatus.SIGNED:
            return await self._end(LoanStatus.EXPIRED, f"eSign {self.esign_event.status.lower()}")
        await self._move(LoanStatus.AGREEMENT_SIGNED, f"signed, docket {agreement.docket_id}")
        return None

    async def _record_agreement(self, docket_id: str, status: AgreementStatus) -> None:
        await self._origination_step(
            LoanActivities.record_agreement_outcome,
            AgreementOutcome(self.inp.loan_id, docket_id, status, workflow.now()),
            summary=f"Agreement {status.lower()}",
        )

    @workflow.signal(description="The eSign vendor's webhook: a docket was signed, declined or expired.")
    def esign_completed(self, event: EsignEvent) -> None:
        if self.esign_event is None:
            self.esign_event = event
        self.esign_events.setdefault(event.docket_id, event)  # the first word on each docket counts
