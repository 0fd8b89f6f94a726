"""What ``bench/collections_day.py`` reads and prints besides its timings: where a credit's time goes (from each
loan's history, the activities and workflow tasks that follow its ``payment_received`` signal) and the report."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from typing import Any

from lifecycle import percentile
from temporalio.api.enums.v1 import EventType

E = EventType
AIM = 0.5  # credits/s ÷ null signals/s


def _ms(ts: Any) -> float:
    return ts.seconds * 1000 + ts.nanos / 1e6


def _local_activity(attrs: Any) -> str | None:
    """The activity type of a local activity's marker ("<type> (local)"), or None for another marker. Its time is
    inside the workflow task that ran it (counted there), so only the count is kept."""
    if attrs.marker_name != "core_local_activity":
        return None
    try:
        data = json.loads(attrs.details["data"].payloads[0].data)
        return f"{data['activity_type']} (local)"
    except (KeyError, IndexError, ValueError, TypeError):
        return "(local activity)"


async def credit_timeline(client: Any, workflow_ids: list[str], concurrency: int) -> dict[str, Any]:
    """From each loan's ``payment_received`` signal on: the activities it ran (per credit: count, mean queued and
    run ms; local activities counted only), workflow tasks, and signal → ``record_payment`` completed."""
    gate = asyncio.Semaphore(concurrency)
    kinds: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    to_record: list[float] = []
    to_idle: list[float] = []

    async def one(wid: str) -> None:
        async with gate:
            events = [e async for e in client.get_workflow_handle(wid).fetch_history_events()]
        signalled: float | None = None
        scheduled: dict[int, tuple[str, float]] = {}
        started: dict[int, float] = {}
        last = 0.0
        for event in events:
            at = _ms(event.event_time)
            kind = event.event_type
            if kind == E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
                if event.workflow_execution_signaled_event_attributes.signal_name == "payment_received":
                    signalled = at
                continue
            if signalled is None:
                continue
            last = at
            if kind == E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                scheduled[event.event_id] = (event.activity_task_scheduled_event_attributes.activity_type.name, at)
            elif kind == E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
                scheduled[event.event_id] = ("(workflow task)", at)
            elif kind == E.EVENT_TYPE_ACTIVITY_TASK_STARTED:
                started[event.activity_task_started_event_attributes.scheduled_event_id] = at
            elif kind == E.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                started[event.workflow_task_started_event_attributes.scheduled_event_id] = at
            elif kind == E.EVENT_TYPE_MARKER_RECORDED:  # a local activity (local-db-steps-v1): run inside a task
                name = _local_activity(event.marker_recorded_event_attributes)
                if name is not None:
                    kinds[name][0] += 1
                    if name == "record_payment (local)":
                        to_record.append(at - signalled)
            elif kind in (E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED):
                attrs = (
                    event.activity_task_completed_event_attributes
                    if kind == E.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
                    else event.workflow_task_completed_event_attributes
                )
                sid = attrs.scheduled_event_id
                if sid in scheduled and sid in started:
                    name, queued_at = scheduled[sid]
                    row = kinds[name]
                    row[0] += 1
                    row[1] += started[sid] - queued_at
                    row[2] += at - started[sid]
                    if name == "record_payment":
                        to_record.append(at - signalled)
        if signalled is not None:
            to_idle.append(last - signalled)

    await asyncio.gather(*(one(w) for w in workflow_ids))
    n = max(len(to_idle), 1)
    rows = {
        name: {
            "per_credit": round(count / n, 2),
            "queued_ms": round(queued / max(count, 1), 1),
            "run_ms": round(run / max(count, 1), 1),
        }
        for name, (count, queued, run) in sorted(kinds.items(), key=lambda kv: -(kv[1][1] + kv[1][2]))
    }
    pct = {"p50": 0.5, "p95": 0.95}
    return {
        "credits_read": len(to_idle),
        "kinds": rows,
        "activities_per_credit": round(sum(c for name, (c, _, _) in kinds.items() if name != "(workflow task)") / n, 2),
        "local_per_credit": round(sum(c for name, (c, _, _) in kinds.items() if name.endswith("(local)")) / n, 2),
        "signal_to_recorded_ms": {k: round(percentile(to_record, q), 1) for k, q in pct.items()} if to_record else {},
        "signal_to_idle_ms": {k: round(percentile(to_idle, q), 1) for k, q in pct.items()} if to_idle else {},
    }


async def decoded_history_json(client: Any, workflow_id: str) -> str:
    """One workflow's history (its latest run) as the JSON of ``temporal workflow show --output json`` with every
    payload the codec encrypted decrypted by this client's codec: a file tests/histories/ can hold, which the replay
    suite reads without the stack's keys (``--save-history``)."""
    from google.protobuf.json_format import MessageToJson
    from temporalio.api.common.v1 import Payload
    from temporalio.api.history.v1 import History

    history = History(events=list((await client.get_workflow_handle(workflow_id).fetch_history()).events))
    codec = client.data_converter.payload_codec

    async def decrypt(message: Any) -> None:
        for field, value in message.ListFields():
            if field.message_type is None:
                continue
            if field.message_type.GetOptions().map_entry:
                items = list(value.values())
            else:
                items = list(value) if field.is_repeated else [value]
            for item in items:
                if isinstance(item, Payload):
                    if codec is not None and item.metadata.get("encoding") == b"binary/encrypted":
                        (plain,) = await codec.decode([item])
                        item.CopyFrom(plain)
                elif hasattr(item, "ListFields"):
                    await decrypt(item)

    await decrypt(history)
    return MessageToJson(history, indent=2) + "\n"


def print_report(r: dict[str, Any]) -> None:
    prod, null = r["production"], r["null"]
    print(
        f"\nCollections day: {r['loans']} loans due at the same instant, each paid by a signed Razorpay webhook, "
        f"{r['concurrency']} in flight, {r['cpus']} CPU(s), {r.get('workers', 1)} worker process(es)\n"
    )
    print(f"{'':<44}{'count':>7}{'seconds':>10}{'per s':>10}")
    print(f"{'production: credits applied (webhook → row)':<44}{r['loans']:>7}{prod['seconds']:>10.2f}"
          f"{prod['credits_per_s']:>10.2f}")  # fmt: skip
    print(f"{'null: bare signals taken (NullLoanWorkflow)':<44}{r['loans']:>7}{null['seconds']:>10.2f}"
          f"{null['signals_per_s']:>10.2f}")  # fmt: skip
    print(f"{'ratio credits/s ÷ null signals/s':<44}{r['ratio']:>27.3f}")
    if r["aim_met"]:
        print(f"Aim ≥ {r['aim']} of the null rate: met")
    else:
        print(
            f"Aim ≥ {r['aim']} of the null rate: NOT met ({r['ratio'] / r['aim']:.0%} of the aim; credits would need "
            f"to be {r['aim'] / r['ratio']:.1f}× faster)"
        )
    t = r["timeline"]
    print(f"\nWebhook answers: {prod['webhook_answers']}; HTTP latency p50 {prod['webhook_ms']['p50']:.0f} ms, "
          f"p95 {prod['webhook_ms']['p95']:.0f} ms")  # fmt: skip
    rec, idle = t["signal_to_recorded_ms"], t["signal_to_idle_ms"]
    if rec:
        print(f"Signal → record_payment done: p50 {rec['p50']:.0f} ms, p95 {rec['p95']:.0f} ms; signal → the loan "
              f"idle again: p50 {idle['p50']:.0f} ms, p95 {idle['p95']:.0f} ms")  # fmt: skip
    print(f"\nWhat one credit runs, from the payment_received signal on ({t['activities_per_credit']} activities "
          f"per credit, {t.get('local_per_credit', 0)} of them local; {t['credits_read']} histories):\n")  # fmt: skip
    print(f"{'':<26}{'per credit':>11}{'queued ms':>11}{'run ms':>9}")
    for name, row in t["kinds"].items():
        print(f"{name:<26}{row['per_credit']:>11}{row['queued_ms']:>11.1f}{row['run_ms']:>9.1f}")
    if "settled_seconds" in prod:
        print(f"Every receipt, notice and next link done {prod['settled_seconds']:.1f} s after the first webhook")
    print("\nCPU ms per credit, by process (until every loan also finished its receipt, notice and next link):")
    cpu = prod["cpu_ms_per_credit"]
    print(f"  production total {sum(cpu.values()):>5}: " + ", ".join(f"{k} {v}" for k, v in cpu.items()))
    if "cpu_ms_per_credit_window" in prod:
        cpu = prod["cpu_ms_per_credit_window"]
        total = round(sum(cpu.values()), 1)
        print(f"  of it until the last credit {total:>5}: " + ", ".join(f"{k} {v}" for k, v in cpu.items()))
    cpu = null["cpu_ms_per_signal"]
    print(f"  null       total {sum(cpu.values()):>5}: " + ", ".join(f"{k} {v}" for k, v in cpu.items()))
