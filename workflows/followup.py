"""A loan's follow-up work: receipts, customer notices and payment links (docs/scaling.md, "Follow-up queue").

A loan that names a follow-up task queue (``LoanWorkflowInput.followup_task_queue``) sends these activities there
and does not wait for them where it asks for them: each runs as a workflow task of its own (``asyncio`` inside the
workflow, deterministic), so a payment, a staff decision or the due-date pass never waits behind the queue's backlog.
The run waits for what is still out only before it ends or continues as new (``_drain_followups``). Payment links
are made one after another in the order asked, and a link superseded before its turn is not made at all.

A loan without a follow-up queue (every loan started before it, and the stub tests) awaits each one where it asks
for it, as it always did, so its history replays unchanged (a payment link that failed for good failed such a loan
before ``LINK_FAILURE_LOGGED_PATCH``; it is logged now).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, is_cancelled_exception

from workflows.base import LoanBase
from workflows.options import LINK_FAILURE_LOGGED_PATCH
from workflows.patches import patched


class FollowupPhase(LoanBase):
    """Running follow-up work in the background, and waiting for it before the run ends."""

    def _in_background(self) -> bool:
        return bool(self.inp.followup_task_queue)

    async def _followup(self, work: Coroutine[Any, Any, Any]) -> None:
        """``work`` (a receipt, a notice): awaited here for a loan without a follow-up queue, else started and left
        to run; an error it raises surfaces when the run drains its follow-up work."""
        if not self._in_background():
            await work
            return
        self.followups.append(asyncio.create_task(work))

    async def _followup_link(self, make: Callable[[], Awaitable[Any]], wanted: object) -> None:
        """Make a payment link with ``make``: awaited here for a loan without a follow-up queue; else after the link
        asked for before it, and only if no newer one (``wanted``, compared by identity) was asked for meanwhile and
        the loan has not ended (``_end`` clears ``link_wanted``). A link no gateway would make (a refusal, or faults
        past its retries) is logged, either way, and asked for again at the loop's next pass for a payment, a due
        date or a day-end: the borrower can still pay by another channel, and a provider's no never fails the
        loan."""
        if not self._in_background():
            await _logged(make, inline=True)
            return
        self.link_wanted = wanted
        previous = self.link_task

        async def in_turn() -> None:
            if previous is not None:
                await previous
            if self.link_wanted is not wanted:
                return  # a newer link was asked for while this one waited: that one is made instead
            await _logged(make)

        self.link_task = asyncio.create_task(in_turn())
        self.followups.append(self.link_task)

    async def _drain_followups(self) -> None:
        """Wait until every follow-up started so far has finished, including those started while waiting (a
        receipt that falls back to a notice); the first error any of them raised is raised here."""
        while self.followups:
            pending, self.followups = self.followups, []
            await asyncio.gather(*pending)


async def _logged(make: Callable[[], Awaitable[Any]], inline: bool = False) -> None:
    """Make a payment link; one that failed for good is logged, not raised. A cancellation is raised. ``inline``
    (a loan without a follow-up queue): a run from before ``LINK_FAILURE_LOGGED_PATCH`` failed there, and replays so."""
    try:
        await make()
    except ActivityError as exc:
        if is_cancelled_exception(exc) or (inline and not patched(LINK_FAILURE_LOGGED_PATCH)):
            raise
        workflow.logger.warning("payment link not made: %s", exc.cause)
