"""The worker's payload passes per workflow task, at the SDK's default external-storage concurrency and at ours.

    python bench/payload_passes.py [--rounds 4] [--tasks 3000] [--json]

Each workflow task the worker runs is an activation decoded and a completion encoded by the SDK
(``temporalio.bridge.worker.decode_activation`` / ``encode_completion``): a codec pass (the project's data
converter, ``los.temporal.data_converter``: JSON payloads encrypted by its codec), an external-storage pass and a
pass over storage references. With an external-storage concurrency above 1 (the SDK's default is 3) the storage
pass starts an asyncio task per payload even when nothing is stored externally; at 1 it visits them in order
(``worker.worker_tuning``). Both are timed here on the same activation and completion, in alternating rounds:
a servicing loan's task as ``payment_received`` is taken (the signal and two activity results in, three
activities scheduled out). Prints microseconds per task at each setting and their ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from temporalio.bridge.proto.workflow_activation import WorkflowActivation  # noqa: E402
from temporalio.bridge.proto.workflow_commands import WorkflowCommand  # noqa: E402
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion  # noqa: E402
from temporalio.bridge.worker import decode_activation, encode_completion  # noqa: E402
from temporalio.converter import DataConverter  # noqa: E402

from los.settings import Settings  # noqa: E402
from los.temporal import data_converter  # noqa: E402

SDK_DEFAULT = 3
OURS = 1
LOAN = "3f2c9a4e-8b1d-4c55-9e7a-0d6b2f1a9c31"


async def _payloads(dc: DataConverter, *values: object) -> list:
    """``values`` as the worker receives them: converted, then encoded by the data converter's codec."""
    return await dc.encode(list(values))


async def task_pair(dc: DataConverter) -> tuple[WorkflowActivation, WorkflowActivationCompletion]:
    """An activation (a ``payment_received`` signal and two activity results) and its completion (three
    activities scheduled), the payloads in the shape the loan workflow sends them."""
    activation = WorkflowActivation(run_id="run")
    for i, result in enumerate(({"status": "OVERDUE", "dpd": 1}, {"installmentNo": 1, "duePaise": 1_090_264})):
        job = activation.jobs.add()
        job.resolve_activity.seq = i + 1
        job.resolve_activity.result.completed.result.CopyFrom((await _payloads(dc, result))[0])
    signal = activation.jobs.add()
    signal.signal_workflow.signal_name = "payment_received"
    signal.signal_workflow.input.extend(
        await _payloads(dc, {"loanId": LOAN, "gateway": "razorpay", "paymentId": "pay_0001", "amountPaise": 1_090_264})
    )
    completion = WorkflowActivationCompletion(run_id="run")
    for seq, activity in enumerate(("record_payment", "issue_receipt", "ensure_payment_link"), start=3):
        command = WorkflowCommand()
        command.schedule_activity.seq = seq
        command.schedule_activity.activity_type = activity
        command.schedule_activity.arguments.extend(
            dc.payload_converter.to_payloads([{"loanId": LOAN, "installmentNo": 1, "amountPaise": 1_090_264}])
        )
        completion.successful.commands.append(command)
    return activation, completion


async def per_task_us(dc: DataConverter, pair: tuple, limit: int, tasks: int) -> float:
    """Microseconds per workflow task: the activation decoded and the completion encoded (fresh copies of both)."""
    activation, completion = pair
    spent = 0.0
    for _ in range(tasks):
        a, c = WorkflowActivation(), WorkflowActivationCompletion()
        a.CopyFrom(activation)
        c.CopyFrom(completion)
        start = time.perf_counter()
        await decode_activation(a, dc, True, limit)
        await encode_completion(c, dc, True, limit)
        spent += time.perf_counter() - start
    return spent / tasks * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=4, help="alternating rounds of each setting (default 4)")
    parser.add_argument("--tasks", type=int, default=3000, help="workflow tasks per round (default 3000)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    dc = data_converter(Settings())
    pair = await task_pair(dc)
    await per_task_us(dc, pair, OURS, 200)  # warm-up
    runs: dict[int, list[float]] = {SDK_DEFAULT: [], OURS: []}
    for _ in range(args.rounds):
        for limit in (SDK_DEFAULT, OURS):
            runs[limit].append(await per_task_us(dc, pair, limit, args.tasks))
    best = {limit: min(times) for limit, times in runs.items()}
    figures = {
        "sdk_default_us_per_task": round(best[SDK_DEFAULT], 1),
        "ours_us_per_task": round(best[OURS], 1),
        "ratio": round(best[OURS] / best[SDK_DEFAULT], 3),
        "saved_us_per_task": round(best[SDK_DEFAULT] - best[OURS], 1),
    }
    if args.json:
        print(json.dumps(figures))
        return
    print(f"external-storage concurrency {SDK_DEFAULT} (SDK default): {figures['sdk_default_us_per_task']} us per task")
    print(f"external-storage concurrency {OURS} (worker_tuning):   {figures['ours_us_per_task']} us per task")
    saved = figures["saved_us_per_task"]
    print(f"ratio {figures['ratio']} (best of {args.rounds} rounds each); {saved} us saved per task")


if __name__ == "__main__":
    asyncio.run(main())
