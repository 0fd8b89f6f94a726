"""SME invoice financing: one workflow per financing request, id ``invoice-<requestId>`` (docs/invoice-financing.md).

```
SUBMITTED → CHECKING: duplicate? business verified? buyer verified? risk score → offers (domain.sme.matching)
          → OFFERED: the business accepts one (update accept_offer) before the offers expire
          → APPROVAL_PENDING: maker then checker (update decide; the same person may not be both)
          → DISBURSING: the advance to the seller (bank callback signal or the bank's status API)
          → FUNDED: the buyer's payment link; a reminder before the due date
          → OVERDUE after the due date's day-end (collections queue, reminders) until the buyer pays
          → PAID: settlement (late charge from the reserve) → the reserve released → CLOSED
```

A check that says no REFUSES the request with its reason; a vendor down past its retries or a bank refusing a
transfer parks it in NEEDS_ATTENTION until staff RETRY (update resume); no provider's no fails the workflow.
Side effects are activities (``activities.sme``) called by name; rules are ``domain.sme``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    import workflows.contracts.sme  # noqa: F401  (pydantic resolves the contracts' annotations through it)
    from domain.sme.matching import match_offers
    from domain.sme.money import Terms, settle, terms
    from domain.sme.status import FINAL, REASON_TEXT, RefusalReason, RequestStatus, can_move
    from workflows import options as opt
    from workflows.contracts import sme as c

S = RequestStatus
ADVANCE, RESERVE, CHECKS = "ADVANCE", "RESERVE", "CHECKS"
RETURN_TO = {CHECKS: S.CHECKING, ADVANCE: S.DISBURSING, RESERVE: S.PAID}
#: What the run does in each status (the statuses staff or the business move on are waited out).
STEPS = {S.SUBMITTED: "_checks", S.CHECKING: "_checks", S.OFFERED: "_offered", S.APPROVAL_PENDING: "_until_moved",
         S.NEEDS_ATTENTION: "_until_moved", S.DISBURSING: "_disburse", S.FUNDED: "_collect", S.OVERDUE: "_collect",
         S.PAID: "_release_reserve"}  # fmt: skip
FIRST_POLL, MAX_POLL = timedelta(seconds=5), timedelta(minutes=5)
NOTICE_GIVE_UP = timedelta(minutes=10)


def _refuse(kind: str, message: str) -> ApplicationError:
    return ApplicationError(message, type=kind, non_retryable=True)


def _fresh(expires_at: datetime | None) -> None:
    if expires_at is not None and workflow.now() > expires_at:
        raise _refuse("Expired", "this request reached the workflow after its caller stopped waiting; send it again")


def _ist_date(at: datetime) -> date:
    return at.astimezone(opt.IST).date()


@workflow.defn
class InvoiceFinancingWorkflow:
    """One invoice's financing request, from the checks to the reserve released. Answers its final state."""

    def __init__(self) -> None:
        self.state = c.InvoiceState()
        self.inp = c.InvoiceFinancingInput("", "", "", "", 0, date.min)  # the run's input, set first thing
        self.busy = False  # an update is changing the status: others are refused (409) until it is done
        self.transfers: dict[str, c.TransferEvent] = {}
        self.nudged = False  # a bank callback arrived: ask the bank's status API now

    @workflow.query
    def status(self) -> c.InvoiceState:
        """The request's state as the workflow sees it."""
        return self.state

    @workflow.signal
    def buyer_paid(self, payment: c.BuyerPayment) -> None:
        """A credit from the buyer (gateway webhook, virtual account, bank callback); a payment id seen twice
        counts once; a non-positive amount is ignored."""
        seen = set(self.state.payments) | {p.payment_id for p in self.state.pending}
        if payment.amount > 0 and payment.payment_id not in seen:
            self.state.pending.append(payment)

    @workflow.signal
    def transfer_event(self, event: c.TransferEvent) -> None:
        """The bank's word on the advance or the reserve: a final one (SUCCESS, FAILED) for a known kind is
        kept; CHECK (a bank callback that does not say which transfer) makes the wait ask the bank's status API."""
        if event.kind in (ADVANCE, RESERVE) and event.status in ("SUCCESS", "FAILED"):
            self.transfers[event.kind] = event
        elif event.status == "CHECK":
            self.nudged = True

    @workflow.update
    async def accept_offer(self, acceptance: c.OfferAcceptance) -> dict:
        """The business accepts an offer: APPROVAL_PENDING (staff maker-checker). Answers the new status."""
        self._claim()
        offer = next(o for o in self.state.offers if o.lender_id == acceptance.lender_id)
        self.state.accepted = offer
        await self._db("sme_record_acceptance", c.AcceptedRecord(self.inp.request_id, lender_id=offer.lender_id))
        return await self._release_after(S.APPROVAL_PENDING)

    @accept_offer.validator
    def _check_accept(self, acceptance: c.OfferAcceptance) -> None:
        _fresh(acceptance.expires_at)
        self._allowed(acceptance.business_id == self.inp.business_id, {S.OFFERED})
        if all(o.lender_id != acceptance.lender_id for o in self.state.offers):
            raise ApplicationError("no such offer on this request", {"field": "lenderId"}, type="ValidationError")

    @workflow.update
    async def cancel(self, req: c.BusinessCancel) -> dict:
        """The business withdraws the request before approval: CANCELLED."""
        self._claim()
        return await self._release_after(S.CANCELLED, req.reason or "withdrawn by the business")

    @cancel.validator
    def _check_cancel(self, req: c.BusinessCancel) -> None:
        _fresh(req.expires_at)
        self._allowed(req.business_id == self.inp.business_id, {S.OFFERED, S.APPROVAL_PENDING})

    @workflow.update
    async def decide(self, d: c.SmeStaffDecision) -> dict:
        """Staff approval, maker then checker (two different people), or rejection: DISBURSING or REJECTED."""
        self._claim()
        if d.action == "REJECT":
            return await self._release_after(S.REJECTED, d.reason or "rejected by staff")
        await self._db("sme_record_approval", c.AcceptedRecord(self.inp.request_id, staff_id=d.staff_id, step=d.step))
        if d.step == "MAKER":
            self.state.maker_id = d.staff_id
            self.busy = False
            return {"status": self.state.status, "makerId": d.staff_id}
        self.state.checker_id = d.staff_id
        return await self._release_after(S.DISBURSING)

    @decide.validator
    def _check_decide(self, d: c.SmeStaffDecision) -> None:
        _fresh(d.expires_at)
        self._allowed(d.brand_id == self.inp.brand_id, {S.APPROVAL_PENDING})
        if d.action not in ("APPROVE", "REJECT"):
            raise ApplicationError("action must be APPROVE or REJECT", {"field": "action"}, type="ValidationError")
        if d.action == "APPROVE" and d.step == "MAKER" and self.state.maker_id is not None:
            raise _refuse("Conflict", "the maker has already approved; a checker's approval is awaited")
        if d.action == "APPROVE" and d.step == "CHECKER":
            if self.state.maker_id is None:
                raise _refuse("Conflict", "a maker's approval is needed before the checker's")
            if self.state.maker_id == d.staff_id:
                raise _refuse("PermissionDenied", "maker-checker: the maker may not also approve as checker")

    @workflow.update
    async def resume(self, d: c.SmeStaffDecision) -> dict:
        """Staff on a held request: RETRY the held step, or REJECT it (not once the buyer has paid)."""
        self._claim()
        step = self.state.hold_step or CHECKS
        if d.action == "REJECT":
            return await self._release_after(S.REJECTED, d.reason or f"rejected while {step} was held")
        self.state.hold_step = self.state.hold_reason = None
        return await self._release_after(RETURN_TO[step])

    @resume.validator
    def _check_resume(self, d: c.SmeStaffDecision) -> None:
        _fresh(d.expires_at)
        self._allowed(d.brand_id == self.inp.brand_id, {S.NEEDS_ATTENTION})
        if d.action not in ("RETRY", "REJECT"):
            raise ApplicationError("action must be RETRY or REJECT", {"field": "action"}, type="ValidationError")
        if d.action == "REJECT" and self.state.hold_step == RESERVE:
            raise _refuse("Conflict", "the buyer has paid: the reserve is owed to the seller; retry the release")

    @workflow.run
    async def run(self, inp: c.InvoiceFinancingInput) -> c.InvoiceState:
        self.inp = inp
        if inp.state is not None:
            self.state = inp.state
        while self.state.status not in FINAL:
            step: Callable[[], Awaitable[None]] = getattr(self, STEPS[S(self.state.status)])
            await step()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.state

    def _ref(self) -> c.SmeRequestRef:
        return c.SmeRequestRef(self.inp.request_id)

    async def _until_moved(self) -> None:
        status = self.state.status
        await workflow.wait_condition(lambda: self.state.status != status)

    async def _checks(self) -> None:
        if self.state.status == S.SUBMITTED:
            await self._move(S.CHECKING)
        try:
            for check in ("sme_check_duplicate", "sme_verify_business", "sme_verify_buyer"):
                answer: c.CheckAnswer = await self._provider(check, c.CheckAnswer)
                if not answer.ok:
                    return await self._refuse_request(answer.reason or RefusalReason.BUSINESS_UNVERIFIED, answer.text)
            score: c.ScoreAnswer = await self._provider("sme_score", c.ScoreAnswer)
        except ActivityError as exc:  # a vendor down past its retries: staff retry when it is back
            return await self._hold(CHECKS, f"a check could not be completed: {exc.cause or exc}")
        self.state.score, self.state.grade = score.score, score.grade
        settings: c.SmeTerms = await self._db("sme_terms", self._ref(), c.SmeTerms)
        now = workflow.now()
        offers = match_offers(self.inp.amount, score.score, _ist_date(now), self.inp.due_date, settings.lenders)
        if not offers:
            too_low = all(score.score < lender.min_score for lender in settings.lenders)
            return await self._refuse_request(RefusalReason.SCORE_TOO_LOW if too_low else RefusalReason.NO_OFFER)
        expires = now + timedelta(days=settings.offer_validity_days)
        record = c.OffersRecord(self.inp.request_id, score.score, score.grade, offers, expires)
        await self._db("sme_record_offers", record)
        self.state.offers, self.state.offers_expire_at = offers, expires
        await self._move(S.OFFERED)
        await self._notice("OFFERED", {"offers": len(offers), "best": offers[0].advance})

    async def _offered(self) -> None:
        expires = self.state.offers_expire_at or workflow.now()
        left = max(timedelta(seconds=1), expires - workflow.now())
        moved = await self._wait(lambda: self.state.status != S.OFFERED or self.busy, left)
        if not moved:
            self.busy = True  # no acceptance may slip in while the expiry is recorded
            await self._move(S.EXPIRED, "no offer was accepted in time")
            await self._notice("EXPIRED", {})
        else:
            await self._until_moved()

    async def _disburse(self) -> None:
        offer = self.state.accepted
        assert offer is not None
        answer = await self._transfer(ADVANCE, offer.advance)
        if answer.status != "SUCCESS":
            return await self._hold(ADVANCE, answer.reason or "the bank refused the advance")
        funded_on = _ist_date(workflow.now())
        t = terms(self.inp.amount, offer.advance_rate_bps, offer.discount_rate_bps, funded_on, self.inp.due_date)
        s = self.state
        s.advance_utr, s.funded_on = answer.utr, funded_on
        s.advance, s.discount, s.reserve, s.days = t.advance, t.discount, t.reserve, t.days
        rid = self.inp.request_id
        funded = c.FundedRecord(rid, answer.utr, funded_on, t.advance, t.discount, t.reserve, t.days)
        await self._db("sme_record_funded", funded)
        link: c.CollectionOpened = await self._db("sme_open_collection", self._ref(), c.CollectionOpened)
        await self._move(S.FUNDED)
        await self._notice("FUNDED", {"advance": t.advance, "utr": answer.utr or "-", "link": link.url or "-"})

    async def _collect(self) -> None:
        """FUNDED / OVERDUE: take the buyer's payments; remind before the due date; OVERDUE after its day-end,
        reminded every ``overdue_reminder_days``; PAID once the invoice amount is collected."""
        s, inp = self.state, self.inp
        settings: c.SmeTerms = await self._db("sme_terms", self._ref(), c.SmeTerms)
        due_end = datetime.combine(inp.due_date + timedelta(days=1), time(), opt.IST)  # the due date's day-end
        while s.status in (S.FUNDED, S.OVERDUE):
            await self._take_payments()
            if s.collected >= inp.amount:
                return await self._settle(settings)
            if workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(dataclasses.replace(inp, state=s))
            now = workflow.now()
            remind_at = due_end - timedelta(days=1 + settings.reminder_days_before_due)
            if s.status == S.FUNDED and not s.due_reminded and now >= remind_at:
                s.due_reminded = True
                await self._notice("DUE_SOON", {"due": inp.due_date.isoformat(), "amount": inp.amount})
                continue
            if s.status == S.FUNDED and now >= due_end:
                await self._move(S.OVERDUE, "the buyer has not paid by the due date")
                await self._overdue(now)
                continue
            if s.status == S.FUNDED:
                wake = remind_at if not s.due_reminded else due_end
            else:
                wake = due_end + timedelta(days=settings.overdue_reminder_days * s.reminders)
                if now >= wake:
                    await self._overdue(now)
                    continue
            await self._wait(lambda: bool(s.pending), max(timedelta(seconds=1), wake - now))

    async def _overdue(self, now: datetime) -> None:
        s = self.state
        s.reminders += 1
        days_late = (_ist_date(now) - self.inp.due_date).days
        await self._db("sme_mark_overdue", c.OverdueMark(self.inp.request_id, days_late, s.reminders))
        await self._notice("OVERDUE", {"daysLate": days_late, "reminder": s.reminders}, key=f"overdue:{s.reminders}")

    async def _take_payments(self) -> None:
        s = self.state
        while s.pending:
            payment = s.pending[0]
            await self._db("sme_record_payment", c.PaymentRecord(self.inp.request_id, payment))
            s.pending.pop(0)
            s.payments.append(payment.payment_id)
            s.collected += payment.amount

    async def _settle(self, settings: c.SmeTerms) -> None:
        s, inp, offer = self.state, self.inp, self.state.accepted
        assert offer is not None
        t = Terms(inp.amount, s.advance, s.discount, s.reserve, s.days, offer.advance_rate_bps, offer.discount_rate_bps)
        paid_on = _ist_date(workflow.now())
        result = settle(t, s.collected, offer.overdue_rate_bps, inp.due_date, paid_on)
        s.late_charge, s.release = result.late_charge, result.release
        record = c.SettlementRecord(inp.request_id, s.collected, result.late_charge, result.release, paid_on)
        await self._db("sme_record_settlement", record)
        await self._move(S.PAID)
        await self._notice("PAID", {"collected": s.collected, "release": s.release, "lateCharge": s.late_charge})

    async def _release_reserve(self) -> None:
        s = self.state
        if s.release > 0:
            answer = await self._transfer(RESERVE, s.release)
            if answer.status != "SUCCESS":
                return await self._hold(RESERVE, answer.reason or "the bank refused the reserve release")
            s.release_utr = answer.utr
            today = _ist_date(workflow.now())
            record = c.SettlementRecord(self.inp.request_id, s.collected, s.late_charge, s.release, today, answer.utr)
            await self._db("sme_record_settlement", record)
        await self._move(S.CLOSED)
        await self._notice("CLOSED", {"release": s.release, "utr": s.release_utr or "-"})

    async def _transfer(self, kind: str, amount: int) -> c.TransferAnswer:
        """Send ``amount`` paise once (``sme_send_transfer``), then wait for the bank's callback or ask its status
        API, 5 s doubling to 5 min; SUCCESS or FAILED."""
        self.transfers.pop(kind, None)
        req = c.TransferRequest(self.inp.request_id, kind, amount)
        answer: c.TransferAnswer = await workflow.execute_activity(
            "sme_send_transfer", req, result_type=c.TransferAnswer, start_to_close_timeout=opt.PROVIDER_TIMEOUT,
            retry_policy=opt.TRANSFER_RETRY, summary=f"Send the {kind.lower()} of {amount} paise",
        )  # fmt: skip
        wait = FIRST_POLL
        while answer.status == "SENT":
            if await self._wait(lambda: kind in self.transfers or self.nudged, wait) and kind in self.transfers:
                event = self.transfers[kind]
                answer = c.TransferAnswer(event.status, event.utr, event.reason)
                break
            self.nudged = False
            try:
                answer = await self._provider("sme_check_transfer", c.TransferAnswer, req)
            except ActivityError:
                workflow.logger.warning("request %s: the bank's status API did not answer", req.request_id)
            wait = min(wait * 2, MAX_POLL)
        outcome = c.TransferOutcome(req.request_id, kind, amount, answer.status, answer.utr, answer.reason)
        await self._db("sme_record_transfer", outcome)
        return answer

    async def _wait(self, condition: Callable[[], bool], timeout: timedelta) -> bool:
        try:
            await workflow.wait_condition(condition, timeout=timeout)
        except TimeoutError:
            return False
        return True

    def _claim(self) -> None:
        if self.busy:
            raise _refuse("Conflict", f"the request is changing (now {self.state.status}); reload it")
        self.busy = True

    async def _release_after(self, status: str, reason: str | None = None) -> dict:
        try:
            await self._move(status, reason)
            if status in (S.REJECTED, S.CANCELLED):
                await self._notice(status, {"reason": reason or "-"})
        finally:
            self.busy = False
        return {"status": self.state.status}

    def _allowed(self, mine: bool, states: set[RequestStatus]) -> None:
        """404 for another business's (or brand's) request, 409 unless in ``states`` with no update under way."""
        if not mine:
            raise _refuse("NotFound", "request not found")
        if self.busy or self.state.status not in states:
            raise _refuse("Conflict", f"the request is {self.state.status}")

    async def _refuse_request(self, reason: str, text: str | None = None) -> None:
        self.state.reason, self.state.reason_text = reason, text or REASON_TEXT.get(reason, reason)
        await self._move(S.REFUSED, reason, {"text": self.state.reason_text})
        await self._notice("REFUSED", {"reason": self.state.reason_text})

    async def _hold(self, step: str, reason: str) -> None:
        self.state.hold_step, self.state.hold_reason = step, reason
        await self._move(S.NEEDS_ATTENTION, reason, {"step": step})
        await self._notice("HOLD", {"step": step, "reason": reason})

    async def _move(self, status: str, reason: str | None = None, detail: dict[str, Any] | None = None) -> None:
        """The one way the status changes: checked against ``domain.sme.status.MOVES`` (a move it does not allow
        fails the workflow task loudly, nothing written), recorded once per sequence number, then taken."""
        if not can_move(self.state.status, status):
            raise RuntimeError(f"request {self.inp.request_id}: {self.state.status} → {status} is not allowed")
        self.state.seq += 1
        change = c.SmeStatusChange(self.inp.request_id, status, self.state.seq, reason, detail or {})
        await self._db("sme_record_status", change)
        self.state.status = status

    async def _db(self, name: str, arg: Any, result_type: type | None = None) -> Any:
        return await workflow.execute_activity(
            name, arg, result_type=result_type, start_to_close_timeout=opt.DB_TIMEOUT,
            retry_policy=opt.DB_RETRY, summary=name,
        )  # fmt: skip

    async def _provider(self, name: str, result_type: type, arg: Any = None) -> Any:
        return await workflow.execute_activity(
            name, arg if arg is not None else self._ref(), result_type=result_type,
            start_to_close_timeout=opt.KYC_TIMEOUT if name == "sme_score" else opt.PROVIDER_TIMEOUT,
            retry_policy=opt.PROVIDER_RETRY, summary=name,
        )  # fmt: skip

    async def _notice(self, event: str, values: dict[str, Any], *, key: str | None = None) -> None:
        """The business told (and staff, for queue events), once per key; best effort: a messaging fault never
        holds the request up."""
        notice = c.SmeNotice(self.inp.request_id, event, f"{self.inp.request_id}:{key or event}", values)
        try:
            await workflow.execute_activity(
                "sme_notify", notice, start_to_close_timeout=opt.NOTICE_TIMEOUT,
                schedule_to_close_timeout=NOTICE_GIVE_UP, retry_policy=opt.DB_RETRY, summary=f"Notice {event}",
            )  # fmt: skip
        except ActivityError:
            workflow.logger.warning("request %s: notice %s not sent", self.inp.request_id, event)
