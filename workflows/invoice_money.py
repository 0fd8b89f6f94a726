"""The invoice financing workflow's money: the advance to the seller (DISBURSING → FUNDED), the buyer's payments
until the invoice is paid (FUNDED / OVERDUE → PAID, reminders before and after the due date), the settlement and
the reserve released (PAID → CLOSED), each transfer sent once and settled by the bank's callback or status API.
Rules are ``domain.sme.money``; side effects activities."""

from __future__ import annotations

import dataclasses
from datetime import datetime, time, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError

from workflows.invoice_base import ADVANCE, FIRST_POLL, MAX_POLL, RESERVE, InvoiceBase, S, ist_date

with workflow.unsafe.imports_passed_through():
    from domain.sme.money import Terms, settle, terms
    from workflows import options as opt
    from workflows.contracts import sme as c


class InvoiceMoney(InvoiceBase):
    """DISBURSING, FUNDED / OVERDUE and PAID."""

    async def _disburse(self) -> None:
        offer = self.state.accepted
        assert offer is not None
        answer = await self._transfer(ADVANCE, offer.advance)
        if answer.status != "SUCCESS":
            return await self._hold(ADVANCE, answer.reason or "the bank refused the advance")
        funded_on = ist_date(workflow.now())
        t = terms(self.inp.amount, offer.advance_rate_bps, offer.discount_rate_bps, funded_on, self.inp.due_date)
        s = self.state
        s.advance_utr, s.funded_on = answer.utr, funded_on
        s.advance, s.discount, s.reserve, s.days = t.advance, t.discount, t.reserve, t.days
        rid = self.inp.request_id
        funded = c.FundedRecord(rid, answer.utr, funded_on, t.advance, t.discount, t.reserve, t.days)
        await self._db("sme_record_funded", funded)
        link: c.CollectionOpened = await self._db("sme_open_collection", self._ref(), c.CollectionOpened)
        await self._open_account()
        await self._move(S.FUNDED)
        await self._notice("FUNDED", {"advance": t.advance, "utr": answer.utr or "-", "link": link.url or "-"})

    async def _open_account(self) -> None:
        """Open the collection account the buyer pays into; nothing here (``InvoiceCollect`` opens one)."""

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
        days_late = (ist_date(now) - self.inp.due_date).days
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
        paid_on = ist_date(workflow.now())
        result = settle(t, s.collected, offer.overdue_rate_bps, inp.due_date, paid_on)
        s.late_charge, s.release = result.late_charge, result.release
        record = c.SettlementRecord(inp.request_id, s.collected, result.late_charge, result.release, paid_on)
        await self._db("sme_record_settlement", record)
        await self._move(S.PAID)
        await self._notice("PAID", {"collected": s.collected, "release": s.release, "lateCharge": s.late_charge})

    async def _release_reserve(self) -> None:
        s = self.state
        await self._late_credits()
        if s.release > 0:
            answer = await self._transfer(RESERVE, s.release)
            if answer.status != "SUCCESS":
                return await self._hold(RESERVE, answer.reason or "the bank refused the reserve release")
            s.release_utr = answer.utr
            today = ist_date(workflow.now())
            record = c.SettlementRecord(self.inp.request_id, s.collected, s.late_charge, s.release, today, answer.utr)
            await self._db("sme_record_settlement", record)
        await self._close_account()
        await self._late_credits()
        await self._move(S.CLOSED)
        await self._notice("CLOSED", {"release": s.release, "utr": s.release_utr or "-"})

    async def _close_account(self) -> None:
        """Close the collection account once the invoice is settled; nothing here (``InvoiceCollect`` does)."""

    async def _late_credits(self) -> None:
        """Count the credits that arrived once the invoice was settled; nothing here (``InvoiceCollect`` does)."""

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
