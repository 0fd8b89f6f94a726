"""Waiting for a loan's KYC progress to move: the API's side of ``LoanWorkflow.kyc_progress_changed``.

The borrower's app reads ``GET /web/loans/{id}?include=kyc`` while the KYC phase runs, to learn what it must do next
(send the Aadhaar OTP, upload a bank statement). That progress lives in the workflow, so the database's change
notifications (``api.loan_changes``) cannot wake a long poll on it. :class:`KycWait` does: after each read it sends
the progress that read saw to the workflow as the ``kyc_progress_changed`` update, which answers once the workflow's
progress differs from it (or the loan has left APPLIED). ``conditional_read`` waits for that or for the database,
whichever comes first, and reads again.

The update answers the progress it moved to (``kyc_status``'s dict): the read that follows uses it (:meth:`take_answer`)
instead of asking the workflow again with a query, a round trip to the worker less each time the progress moves. When
several readers share an update that finished before this one attached, that answer is the progress it moved to then,
which a later move may have passed: the reader's next long poll, sent with it, is refused as moved at once and reads
afresh, so an app never sees the progress go back, only, rarely, one step late.

Every reader of the same progress shares one update: its id is a hash of the progress (a second long poll on an
unchanged loan attaches to the waiting update instead of adding one, and Temporal keeps at most a few updates in
flight per workflow). The update only reads, and a refused one (the progress already moved, the loan already past
APPLIED) leaves nothing in the history.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from typing import Any

from temporalio.client import Client, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError

from workflows.contracts import KycProgressSeen
from workflows.loan import LoanWorkflow

log = logging.getLogger("los.api.kyc_waits")

RETRY_SECONDS = 1.0
"""How long a long poll waits before reading again when the workflow could not be asked (the Temporal service
unreachable, the update rejected for a reason other than a change), like ``api.loan_changes.FALLBACK_SECONDS``."""


def progress_tag(progress: dict[str, Any]) -> str:
    """A short stable hash of a ``kyc_status`` answer (its JSON with sorted keys): the update id's suffix."""
    canonical = json.dumps(progress, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(canonical.encode(), digest_size=12).hexdigest()


class KycWait:
    """One long poll's view of a loan's KYC progress. The route's read calls :meth:`saw` with the progress it read
    (None once the phase is over or the workflow did not answer); ``conditional_read`` calls :meth:`moved` after each
    read for what to wait on.

    ``client_ready``: an awaitable factory for the Temporal client (``app.state.temporal.get``)."""

    def __init__(self, client_ready: Any) -> None:
        self._client_ready = client_ready
        self._workflow_id = ""
        self._progress: dict[str, Any] | None = None
        self._asked: set[str] = set()  # the update ids this long poll has already waited on
        self._answer: dict[str, Any] | None = None  # the progress the last update answered, until a read takes it

    def saw(self, progress: dict[str, Any] | None, workflow_id: str) -> None:
        """The progress the latest read answered (``kyc_status``'s dict, as the workflow ``workflow_id`` gave it),
        or None."""
        self._progress = progress
        self._workflow_id = workflow_id

    def take_answer(self) -> dict[str, Any] | None:
        """The progress the workflow answered when it last moved (``kyc_progress_changed``'s answer), once: the read
        right after the wait takes it instead of querying the workflow; None when there is none to take (the first
        read, a wait the database ended, a refused update), and the read asks the workflow."""
        answer, self._answer = self._answer, None
        return answer

    def moved(self) -> Any:
        """A coroutine that ends when the progress last :meth:`saw` may have changed in the workflow; None when
        the last read had none (the database alone can change the answer then)."""
        if self._progress is None:
            return None
        return self._until_moved(self._progress)

    async def _until_moved(self, seen: dict[str, Any]) -> None:
        update_id = f"kyc-progress-{progress_tag(seen)}"
        if update_id in self._asked:
            # Temporal answers a finished update's id with its old outcome at once: the progress came back to what
            # was already waited on once. Read again after a pause, not in a loop.
            await asyncio.sleep(RETRY_SECONDS)
            return
        try:
            client: Client = await self._client_ready()
            handle = client.get_workflow_handle(self._workflow_id)
            answer = await handle.execute_update(LoanWorkflow.kyc_progress_changed, KycProgressSeen(seen), id=update_id)
        except WorkflowUpdateFailedError as exc:
            self._asked.add(update_id)
            cause = exc.cause
            if isinstance(cause, ApplicationError) and cause.type == "Conflict":
                return  # refused: the progress had already moved, or the phase is over; the next read shows it
            # another refusal (a worker that does not know the update yet, during a rolling deploy): read again after
            # a pause, as an API without the long poll would be asked
            log.info(
                "loan workflow %s: KYC progress not awaited (%s); read again in %ss",
                self._workflow_id,
                exc,
                RETRY_SECONDS,
            )
            await asyncio.sleep(RETRY_SECONDS)
            return
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise asyncio.CancelledError from None  # the wait was let go (the SDK reports the cancel as its own)
            await asyncio.sleep(RETRY_SECONDS)  # the call timed out at the server: ask again after a pause
            return
        except Exception as exc:  # noqa: BLE001 - the read still answers; it is asked again after a pause
            log.warning("loan workflow %s: KYC progress not awaited: %s", self._workflow_id, exc)
            await asyncio.sleep(RETRY_SECONDS)
            return
        self._asked.add(update_id)  # answered: that id now answers at once with this outcome
        self._answer = answer if isinstance(answer, dict) else None
