"""What every part of the invoice financing workflow shares (``workflows.invoice_financing``): its state, the one
way the status changes (``_move``), holds and refusals, the claim an update takes while it changes the status,
and the calls to activities (database facts, providers, notices). Deterministic: no I/O, time from
``workflow.now()``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from domain.sme.status import REASON_TEXT, RequestStatus, can_move
    from workflows import options as opt
    from workflows.contracts import sme as c

S = RequestStatus
ADVANCE, RESERVE, CHECKS = "ADVANCE", "RESERVE", "CHECKS"
RETURN_TO = {CHECKS: S.CHECKING, ADVANCE: S.DISBURSING, RESERVE: S.PAID}
FIRST_POLL, MAX_POLL = timedelta(seconds=5), timedelta(minutes=5)
NOTICE_GIVE_UP = timedelta(minutes=10)


def refuse(kind: str, message: str) -> ApplicationError:
    """A refusal an update's caller gets at once (``kind``: Conflict, NotFound, PermissionDenied, Expired...)."""
    return ApplicationError(message, type=kind, non_retryable=True)


def fresh(expires_at: datetime | None) -> None:
    """Refuse (Expired) an update that reached the workflow after its caller stopped waiting for it."""
    if expires_at is not None and workflow.now() > expires_at:
        raise refuse("Expired", "this request reached the workflow after its caller stopped waiting; send it again")


def ist_date(at: datetime) -> date:
    """The IST calendar date of the instant ``at``."""
    return at.astimezone(opt.IST).date()


class InvoiceBase:
    """The request's state and the helpers the phases (checks, money, collection) call."""

    def __init__(self) -> None:
        self.state = c.InvoiceState()
        self.inp = c.InvoiceFinancingInput("", "", "", "", 0, date.min)  # the run's input (the workflow's init)
        self.busy = False  # an update is changing the status: others are refused (409) until it is done
        self.transfers: dict[str, c.TransferEvent] = {}
        self.nudged = False  # a bank callback arrived: ask the bank's status API now

    def _ref(self) -> c.SmeRequestRef:
        return c.SmeRequestRef(self.inp.request_id)

    async def _until_moved(self) -> None:
        status = self.state.status
        await workflow.wait_condition(lambda: self.state.status != status)

    async def _wait(self, condition: Callable[[], bool], timeout: timedelta) -> bool:
        try:
            await workflow.wait_condition(condition, timeout=timeout)
        except TimeoutError:
            return False
        return True

    def _claim(self) -> None:
        if self.busy:
            raise refuse("Conflict", f"the request is changing (now {self.state.status}); reload it")
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
            raise refuse("NotFound", "request not found")
        if self.busy or self.state.status not in states:
            raise refuse("Conflict", f"the request is {self.state.status}")

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
