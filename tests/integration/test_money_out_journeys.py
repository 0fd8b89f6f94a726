"""The money-out journeys of `los demo --scenario` over the public API, each to COMPLETED, with what each must
leave behind: one transfer per attempt at the bank and on our side, the bank's reason on a failed one, the
reconciler's settlement of a lost callback, the hold and its resumption, the declined docket replaced."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid
from typing import Any

import httpx
from sqlalchemy import func, select

from db.models import Disbursal, LoanAgreement, LoanStatusHistory, StaffNotification, StaffUser
from los import demo_scenarios
from los.demo_scenarios import SCENARIOS, run_scenario
from los.schedules import ensure_schedule
from tests.conftest import eventually, record_histories
from worker import scheduled_job


def _history(db, loan_id: str) -> list[LoanStatusHistory]:  # noqa: ANN001
    with db.unit_of_work() as s:
        rows = s.scalars(
            select(LoanStatusHistory).where(LoanStatusHistory.loan_id == loan_id).order_by(LoanStatusHistory.seq)
        ).all()
        s.expunge_all()
        return list(rows)


def _transfers(db, loan_id: str) -> list[Disbursal]:  # noqa: ANN001
    with db.unit_of_work() as s:
        rows = s.scalars(select(Disbursal).where(Disbursal.loan_id == loan_id).order_by(Disbursal.created_at)).all()
        s.expunge_all()
        return list(rows)


async def _bank_transfers(sandbox, loan_id: str) -> list[dict]:  # noqa: ANN001
    import httpx

    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        return (await http.get("/_transfers", params={"loan_id": loan_id})).json()


def test_the_cli_names_every_scenario() -> None:
    assert set(SCENARIOS) >= {
        "lost-bank-webhook",
        "bank-timeout",
        "transfer-failed-then-retried",
        "penny-drop-mismatch",
        "esign-declined-then-resent",
    }


async def test_lost_bank_webhook_is_settled_by_the_reconciler_schedule(app, brand, sandbox, db) -> None:  # noqa: ANN001
    schedule_id = f"reconcile-{uuid.uuid4().hex[:8]}"
    app.settings.reconcile_every_seconds = 2
    await ensure_schedule(app.client, app.settings, scheduled_job("reconcile-transfers"), schedule_id)
    try:
        journey = await run_scenario(app.api.url, sandbox.url, "lost-bank-webhook", brand["brand_code"])
    finally:
        await app.client.get_schedule_handle(schedule_id).delete()
    assert journey.status == "COMPLETED"
    (transfer,) = _transfers(db, journey.loan_id)
    assert transfer.status == "SETTLED" and transfer.utr
    assert len(await _bank_transfers(sandbox, journey.loan_id)) == 1
    # no callback ever came for it: the UTR is the one the bank's status API gave the reconciler
    disbursed = [h for h in _history(db, journey.loan_id) if h.to_status == "DISBURSED"]
    assert disbursed[0].reason == f"UTR {transfer.utr}"


async def test_bank_timeout_gives_exactly_one_transfer(app, brand, sandbox, db) -> None:  # noqa: ANN001
    journey = await run_scenario(app.api.url, sandbox.url, "bank-timeout", brand["brand_code"])
    assert journey.status == "COMPLETED"
    (transfer,) = _transfers(db, journey.loan_id)
    assert transfer.status == "SETTLED" and transfer.sent_at is not None
    assert len(await _bank_transfers(sandbox, journey.loan_id)) == 1


async def test_a_refused_status_check_of_a_transfer_sent_before_never_sends_it_again(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """The bank takes the transfer but its answer is lost (bank-timeout); when the retry asks the bank's status API,
    the bank refuses the request twice (HTTP 403, as after a key rotation). That refusal says nothing of the
    transfer, which the bank holds: the step is retried until the bank answers, the row is never refused, and no
    second attempt is sent. Before, the refusal marked the row FAILED, the loan went back to ops, and their new
    approval sent a second transfer."""
    async with httpx.AsyncClient(base_url=sandbox.url) as sbx:
        before = len((await sbx.get("/_transfers")).json())
        journey = asyncio.create_task(run_scenario(app.api.url, sandbox.url, "bank-timeout", brand["brand_code"]))

        async def taken() -> bool:  # the bank holds the transfer; its answer hangs until the request times out
            return len((await sbx.get("/_transfers")).json()) > before

        await eventually(taken, timeout=120)
        fault = {"vendor": "idfc", "mode": "403", "times": 2, "path": "/idfc/v1/payouts", "method": "GET"}
        (await sbx.post("/_faults", json=fault)).raise_for_status()
        try:
            done = await journey
            assert done.status == "COMPLETED"
            left = [f for f in (await sbx.get("/_faults")).json() if f["vendor"] == "idfc"]
            assert left == []  # both refusals were met by the status look-ups
        finally:
            await sbx.delete("/_faults", params={"vendor": "idfc"})
    (transfer,) = _transfers(db, done.loan_id)
    assert transfer.status == "SETTLED" and transfer.failure_reason is None
    assert len(await _bank_transfers(sandbox, done.loan_id)) == 1
    reasons = [h.reason or "" for h in _history(db, done.loan_id)]
    assert not any("403" in r or "failed" in r for r in reasons), reasons  # never back to ops
    # it took a person (the bank's keys): the brand's admins were told, once each, naming the loan and the transfer
    with db.unit_of_work() as s:
        told = s.execute(
            select(StaffNotification.staff_id, StaffNotification.meta).where(
                StaffNotification.idempotency_key.like(f"transfer-unknown:{transfer.idempotency_key}:%")
            )
        ).all()
    assert told and len(told) == len({t[0] for t in told}), told
    assert all(t[1]["loanId"] == done.loan_id and t[1]["bank"] == "idfc" for t in told), told
    assert all(t[1]["alert"] == "TRANSFER_STATUS_REFUSED" for t in told), told
    with db.unit_of_work() as s:  # the staff member who approved the disbursal is told too (it names them ROLE:email)
        approver = s.scalar(
            select(StaffUser.id).where(
                func.lower(StaffUser.email) == (transfer.approved_by or "").rpartition(":")[2].lower()
            )
        )
    assert approver is not None and approver in {t[0] for t in told}, (transfer.approved_by, told)


async def _history_texts(client, workflow_id: str) -> list[str]:  # noqa: ANN001
    """Every payload of every run of the workflow, opened with the project's codec and decoded to text."""
    from tests.decode_history import decode_history_json

    texts: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            if "metadata" in node and "data" in node:
                texts.append(base64.b64decode(node["data"]).decode(errors="replace"))
            for value in node.values():
                walk(value)

    async for run in client.list_workflows(f"WorkflowId = '{workflow_id}'"):
        history = await client.get_workflow_handle(workflow_id, run_id=run.run_id).fetch_history()
        walk(json.loads(await decode_history_json(history.to_json())))
    return texts


async def test_a_failed_transfer_goes_back_to_ops_and_a_new_approval_retries(  # noqa: ANN001
    app, brand, sandbox, db, monkeypatch
) -> None:
    monkeypatch.setattr(demo_scenarios, "_account", lambda prefix: f"{prefix}8642097")
    journey = await run_scenario(app.api.url, sandbox.url, "transfer-failed-then-retried", brand["brand_code"])
    assert journey.status == "COMPLETED"
    first, second = _transfers(db, journey.loan_id)
    assert first.status == "FAILED" and "unavailable" in (first.failure_reason or "").lower()
    assert second.status == "SETTLED" and first.idempotency_key != second.idempotency_key
    back = [h for h in _history(db, journey.loan_id) if h.from_status == "DISBURSAL_PENDING"]
    assert back[0].to_status == "AGREEMENT_SIGNED" and "unavailable" in back[0].reason.lower()
    assert len(await _bank_transfers(sandbox, journey.loan_id)) == 2
    # the beneficiary's account number never entered the workflow's history (it is opened inside the activity)
    texts = await _history_texts(app.client, journey.workflow_id)
    assert any(journey.loan_id in t for t in texts)  # the payloads were opened and read
    assert not any("55558642097" in t for t in texts)


async def test_a_penny_drop_mismatch_parks_the_loan_until_ops_resume_it(app, brand, sandbox, db) -> None:  # noqa: ANN001
    journey = await run_scenario(app.api.url, sandbox.url, "penny-drop-mismatch", brand["brand_code"])
    assert journey.status == "COMPLETED"
    history = _history(db, journey.loan_id)
    held = [h for h in history if h.to_status == "NEEDS_ATTENTION"]
    assert len(held) == 1 and held[0].from_status == "AGREEMENT_SIGNED" and "name match" in held[0].reason
    resumed = history[history.index(held[0]) + 1]
    assert (resumed.to_status, resumed.actor.split(":")[0]) == ("AGREEMENT_SIGNED", "LOAN_EXECUTIVE")
    (transfer,) = _transfers(db, journey.loan_id)  # nothing was sent to the mismatched account
    assert transfer.status == "SETTLED"
    if os.environ.get("LOS_RECORD_HISTORIES"):  # refresh tests/histories from this run
        await record_histories(app.client, journey.workflow_id, "money_out_hold")


async def test_a_declined_agreement_is_resent_and_signed(app, brand, sandbox, db) -> None:  # noqa: ANN001
    journey = await run_scenario(app.api.url, sandbox.url, "esign-declined-then-resent", brand["brand_code"])
    assert journey.status == "COMPLETED"
    history = _history(db, journey.loan_id)
    declined = [h for h in history if h.action == "ESIGN_DECLINED"]
    assert len(declined) == 1
    dockets = [h.reason for h in history if h.to_status == "AGREEMENT_PENDING" and h.reason.startswith("eSign docket")]
    assert len(dockets) == 2 and dockets[0] != dockets[1]
    with db.unit_of_work() as s:
        agreement = s.scalars(select(LoanAgreement).where(LoanAgreement.loan_id == journey.loan_id)).one()
        assert agreement.status == "SIGNED" and f"eSign docket {agreement.docket_id}" == dockets[1]
    if os.environ.get("LOS_RECORD_HISTORIES"):
        await record_histories(app.client, journey.workflow_id, "money_out_esign_declined")
