"""``api.kyc_waits.KycWait``: what a KYC long poll waits on in the workflow, against a stand-in Temporal client
(the real update, against the real stack, is in tests/integration/test_loan_long_poll.py and
tests/workflows/test_kyc_progress.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import ApplicationError

from api import kyc_waits
from api.kyc_waits import KycWait, progress_tag

PROGRESS = {"steps": ["PAN", "AADHAAR"], "waitingFor": "AADHAAR", "results": {"PAN": "PASSED"}, "inputsReceived": 0}


class Handle:
    """``execute_update`` as a script says: ``answer`` (a value, an exception, or "wait": until cancelled, reported
    as the SDK reports a cancel)."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.ids: list[str] = []

    async def execute_update(self, update: Any, arg: Any, *, id: str) -> Any:  # noqa: A002 - the SDK's name
        self.ids.append(id)
        answer = self.answers.pop(0)
        if answer == "wait":
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                raise WorkflowUpdateRPCTimeoutOrCancelledError() from None
        if isinstance(answer, BaseException):
            raise answer
        return answer


def waiting_on(handle: Handle) -> KycWait:
    class Client:
        def get_workflow_handle(self, workflow_id: str) -> Handle:
            assert workflow_id == "loan-L1"
            return handle

    async def client() -> Client:
        return Client()

    wait = KycWait(client)
    wait.saw(dict(PROGRESS), "loan-L1")
    return wait


@pytest.fixture(autouse=True)
def quick_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kyc_waits, "RETRY_SECONDS", 0.2)


def refusal(kind: str) -> WorkflowUpdateFailedError:
    return WorkflowUpdateFailedError(ApplicationError("refused", type=kind))


async def timed(awaitable: Any) -> float:
    started = time.monotonic()
    await awaitable
    return time.monotonic() - started


async def test_one_update_per_progress_shared_by_id_and_answered_once_it_moves() -> None:
    handle = Handle([{"moved": True}])
    wait = waiting_on(handle)
    assert await timed(wait.moved()) < 0.1
    assert handle.ids == [f"kyc-progress-{progress_tag(PROGRESS)}"]
    assert progress_tag(dict(reversed(list(PROGRESS.items())))) == progress_tag(PROGRESS)  # the keys' order aside
    # the same progress again (it came back to it): that id would answer at once with its old outcome, so a pause
    assert await timed(wait.moved()) >= 0.2 and len(handle.ids) == 1
    wait.saw(None, "loan-L1")
    assert wait.moved() is None  # no progress read (the phase is over): nothing to wait on in the workflow


async def test_a_conflict_answers_at_once_and_another_refusal_after_a_pause() -> None:
    handle = Handle([refusal("Conflict"), refusal("RuntimeError")])
    wait = waiting_on(handle)
    assert await timed(wait.moved()) < 0.1  # the progress had moved: read again now
    wait.saw({**PROGRESS, "waitingFor": None}, "loan-L1")
    assert await timed(wait.moved()) >= 0.2  # e.g. a worker that does not know the update yet
    assert len(handle.ids) == 2


async def test_a_wait_let_go_is_cancelled_and_asked_again_afresh() -> None:
    handle = Handle(["wait", {"moved": True}])
    wait = waiting_on(handle)
    task = asyncio.ensure_future(wait.moved())
    await asyncio.sleep(0.05)
    task.cancel()  # a database change woke the long poll, or its time ran out
    with pytest.raises(asyncio.CancelledError):
        await task
    # the progress read again is the same: the same update is asked for again, not paused on
    assert await timed(wait.moved()) < 0.1
    assert handle.ids == [handle.ids[0]] * 2


async def test_a_server_timeout_or_an_unreachable_service_is_asked_again_after_a_pause() -> None:
    handle = Handle([WorkflowUpdateRPCTimeoutOrCancelledError(), ConnectionError("down")])
    wait = waiting_on(handle)
    assert await timed(wait.moved()) >= 0.2
    assert await timed(wait.moved()) >= 0.2
    assert len(handle.ids) == 2  # neither was taken for an answer


async def test_the_progress_the_update_answered_is_taken_once_by_the_read_after_the_wait() -> None:
    """The workflow's answer (the progress it moved to) is handed to the next read, which then asks no query; once
    taken it is gone, and a refused update or a pause leaves none (that read asks the workflow)."""
    moved_to = {**PROGRESS, "waitingFor": None, "results": {"PAN": "PASSED", "AADHAAR": "PASSED"}}
    handle = Handle([moved_to, refusal("Conflict")])
    wait = waiting_on(handle)
    assert wait.take_answer() is None  # nothing waited on yet: the first read asks the workflow
    await wait.moved()
    assert wait.take_answer() == moved_to
    assert wait.take_answer() is None  # taken once
    wait.saw(moved_to, "loan-L1")
    await wait.moved()  # refused: the progress had moved again
    assert wait.take_answer() is None
    wait.saw(dict(PROGRESS), "loan-L1")
    await wait.moved()  # the id already answered: a pause, no update, no answer
    assert wait.take_answer() is None and len(handle.ids) == 2
