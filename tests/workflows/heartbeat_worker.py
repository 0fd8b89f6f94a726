"""A worker process for tests/workflows/test_heartbeats.py, to be killed mid-activity: the real LoanWorkflow and the
stub activities, except that ``kyc_pan`` is slow: it heartbeats as the real KYC steps do
(``activities.providers.heartbeat.keep_alive``), says it started (writes its attempt number to MARKER), and never
answers. With ``before-kyc-local`` it is a worker of the code before kyc-provider-steps-local-v1 (the patch refused):
its loans run the KYC steps as activity tasks with a heartbeat timeout; else as local activities.

    python -m tests.workflows.heartbeat_worker TARGET TASK_QUEUE MARKER [before-kyc-local]
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
from workflows.options import KYC_LOCAL_PATCH
from workflows.patches import PATCH_EPOCH_2


class SlowPan(StubActivities):
    """The stubs, with a PAN check whose vendor never answers (the step's own timeout is KYC_TIMEOUT, 120 s)."""

    marker: Path = Path("kyc-pan-started")

    @activity.defn(name="kyc_pan")
    async def kyc_pan(self, req: KycStepRequest) -> KycStepResult:
        async with keep_alive("KYC PAN"):
            self.marker.write_text(str(activity.info().attempt))
            await asyncio.sleep(3600)
        raise AssertionError("unreachable: the process is killed first")


async def main(target: str, queue: str, marker: str, mode: str = "") -> None:
    client = await Client.connect(target, data_converter=data_converter(Settings()))
    stubs = SlowPan()
    stubs.marker = Path(marker)
    # the code before the patch is also before the second patch epoch, which bundles it
    refused = {KYC_LOCAL_PATCH, PATCH_EPOCH_2} if mode == "before-kyc-local" else set()
    async with Worker(
        client,
        task_queue=queue,
        workflows=[LoanWorkflow],
        activities=stubs.all(),
        patch_activation_callback=lambda info: info.patch_id not in refused,
    ):
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
