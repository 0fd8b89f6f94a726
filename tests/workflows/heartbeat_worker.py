"""A worker process for tests/workflows/test_heartbeats.py, to be killed mid-activity: the real LoanWorkflow and the
stub activities, except that ``kyc_pan`` is slow: it heartbeats as the real KYC steps do
(``activities.providers.heartbeat.keep_alive``), says it started (writes its attempt number to MARKER), and never
answers.

    python -m tests.workflows.heartbeat_worker TARGET TASK_QUEUE MARKER
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker

from activities.providers.heartbeat import keep_alive
from los.settings import Settings
from los.temporal import data_converter
from tests.workflows.stubs import StubActivities
from workflows.contracts import KycStepRequest, KycStepResult
from workflows.loan import LoanWorkflow


class SlowPan(StubActivities):
    """The stubs, with a PAN check whose vendor never answers (the step's own timeout is KYC_TIMEOUT, 120 s)."""

    marker: Path = Path("kyc-pan-started")

    @activity.defn(name="kyc_pan")
    async def kyc_pan(self, req: KycStepRequest) -> KycStepResult:
        async with keep_alive("KYC PAN"):
            self.marker.write_text(str(activity.info().attempt))
            await asyncio.sleep(3600)
        raise AssertionError("unreachable: the process is killed first")


async def main(target: str, queue: str, marker: str) -> None:
    client = await Client.connect(target, data_converter=data_converter(Settings()))
    stubs = SlowPan()
    stubs.marker = Path(marker)
    async with Worker(client, task_queue=queue, workflows=[LoanWorkflow], activities=stubs.all()):
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
