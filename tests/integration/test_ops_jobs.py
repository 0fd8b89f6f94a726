"""The three daily jobs through the real database, sandbox vendors and Temporal dev server (docs/operations.md,
"Scheduled jobs"): each workflow run once with a worker of its own, its effects checked, run again to show nothing
is written or sent twice, and its schedule registered once by ``ensure_schedule`` (a pause kept across restarts)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.client import ScheduleOverlapPolicy
from temporalio.worker import Worker

from activities.ops_jobs import BrandRun, BureauRefreshRequest, OpsJobActivities
from activities.ops_jobs_bureau import refresh_candidates
from db.models import (
    AuditLog,
    Brand,
    BureauReport,
    Customer,
    CustomerMessage,
    Loan,
    LoanDecision,
    PartnerUnavailabilityDate,
    ProviderCall,
    StaffActivitySession,
    StaffNotification,
    StaffUser,
)
from domain.ops_jobs import IST, add_years
from los.schedules import ensure_schedule
from los.settings import Settings
from tests.integration.test_money_out_api import _loan
from worker import scheduled_job
from workflows.bureau_refresh import BureauRefreshWorkflow
from workflows.inactivity_alerts import InactivityAlertsWorkflow
from workflows.kyc_expiry import KycExpiryWorkflow

NOW = datetime.now(UTC)


@pytest.fixture(autouse=True)
def _now_when_run() -> None:
    """The clock as of each test, not as of collection: a suite collected before IST midnight and run after it
    would otherwise put a staff member on leave yesterday while the job looks at today."""
    global NOW
    NOW = datetime.now(UTC)


def _staff(brand: dict, role: str) -> str:
    return next(s["id"] for s in brand["staff"] if s["role"] == role)


def _set_config(db, brand_id: str, **ops: object) -> None:  # noqa: ANN001
    with db.unit_of_work() as s:
        b = s.get_one(Brand, brand_id)
        b.config = {**(b.config or {}), "ops_jobs": ops}


def _alerts(db, brand_id: str, alert: str) -> list[StaffNotification]:  # noqa: ANN001
    with db.unit_of_work() as s:
        rows = s.scalars(
            select(StaffNotification)
            .where(StaffNotification.brand_id == brand_id, StaffNotification.meta["alert"].astext == alert)
            .order_by(StaffNotification.staff_id)
        ).all()
        s.expunge_all()
        return list(rows)


async def _run(dev_env, db, workflow, brand_id: str) -> dict:  # noqa: ANN001
    queue = f"ops-{uuid.uuid4().hex[:8]}"
    async with (
        httpx.AsyncClient(timeout=30) as http,
        Worker(dev_env.client, task_queue=queue, workflows=[workflow], activities=OpsJobActivities(db, http).all()),
    ):
        return await dev_env.client.execute_workflow(
            workflow.run, brand_id, id=f"ops-{uuid.uuid4().hex[:8]}", task_queue=queue
        )


async def test_inactive_staff_flagged_to_admins_once_with_their_allocations(dev_env, db, brand) -> None:  # noqa: ANN001
    b = brand["brand_id"]
    idle, busy, away = (
        _staff(brand, "COLLECTION_EXECUTIVE"),
        _staff(brand, "LOAN_EXECUTIVE"),
        _staff(brand, "CREDIT_EXECUTIVE"),
    )
    loan_id, customer_id = _loan(db, b, "DISBURSED", collector_id=idle)
    with db.unit_of_work() as s:
        for staff_id in (idle, busy, away):
            s.get_one(StaffUser, staff_id).created_at = NOW - timedelta(days=60)
        s.get_one(StaffUser, idle).last_login_at = NOW - timedelta(days=12)
        s.add(
            StaffActivitySession(
                staff_id=idle, brand_id=b, login_at=NOW - timedelta(days=12), last_active_at=NOW - timedelta(days=10)
            )
        )
        s.get_one(StaffUser, busy).last_login_at = NOW - timedelta(days=2)
        s.add(PartnerUnavailabilityDate(staff_id=away, day=NOW.astimezone(IST).date(), reason="leave"))
        s.get_one(Customer, customer_id).assigned_to = idle
    out = await _run(dev_env, db, InactivityAlertsWorkflow, b)
    assert out == {"brands": 1, "inactive": 1, "alerts": 1, "failed": 0}
    [alert] = _alerts(db, b, "STAFF_INACTIVE")
    assert alert.staff_id == _staff(brand, "ADMIN") and alert.type == "SYSTEM"
    assert alert.meta["staffId"] == idle and alert.meta["days"] == 10
    assert alert.meta["allocations"] == {"loans": 0, "collections": 1, "customers": 1}
    assert "10 days" in alert.body and "1 in collection" in alert.body
    # a second run (the same day, or any day of the same spell): nothing new
    again = await _run(dev_env, db, InactivityAlertsWorkflow, b)
    assert again["inactive"] == 1 and again["alerts"] == 0
    assert len(_alerts(db, b, "STAFF_INACTIVE")) == 1
    # the brand's threshold: 14 days leaves a 10-day absence alone; allocations not noted when switched off
    _set_config(db, b, inactivityDays=14)
    assert (await _run(dev_env, db, InactivityAlertsWorkflow, b))["inactive"] == 0
    _set_config(db, b, inactivityDays=3, inactivityNoteAllocations=False)
    with db.unit_of_work() as s:
        s.get_one(StaffUser, busy).last_login_at = NOW - timedelta(days=5)
    assert (await _run(dev_env, db, InactivityAlertsWorkflow, b))["alerts"] == 1
    fresh = [a for a in _alerts(db, b, "STAFF_INACTIVE") if a.meta["staffId"] == busy]
    assert len(fresh) == 1 and "allocations" not in fresh[0].meta
    # a setting the code cannot read: the brand's step fails at once (no retries) and the run ends normally
    _set_config(db, b, inactivityDays="soon")
    assert await _run(dev_env, db, InactivityAlertsWorkflow, b) == {
        "brands": 1,
        "inactive": 0,
        "alerts": 0,
        "failed": 1,
    }


def _kyc_decision(db, loan_id: str, *verified: datetime) -> None:  # noqa: ANN001
    with db.unit_of_work() as s:
        s.add(
            LoanDecision(
                loan_id=loan_id,
                stage="KYC",
                outcome="PASS",
                details=[
                    {"step": f"S{n}", "status": "PASSED", "verifiedAt": v.isoformat()} for n, v in enumerate(verified)
                ],
                idempotency_key=f"kyc:{loan_id}",
            )
        )


async def test_customers_due_for_periodic_kyc_marked_told_and_staff_notified_once(dev_env, db, brand, sandbox) -> None:  # noqa: ANN001
    b = brand["brand_id"]
    _set_config(db, b, reKycRisk="HIGH", reKycNoticeDays=30)
    due_loan, due = _loan(db, b, "DISBURSED")  # high risk: 2 years; KYC 2 years less 10 days ago → DUE
    _kyc_decision(db, due_loan, NOW - timedelta(days=720), NOW - timedelta(days=10))
    over_loan, overdue = _loan(db, b, "OVERDUE")  # no KYC recorded: registered 3 years ago → OVERDUE
    recent_loan, recent = _loan(db, b, "DISBURSED")
    _kyc_decision(db, recent_loan, NOW - timedelta(days=100))
    _, closed = _loan(db, b, "COMPLETED")  # no active loan: left alone
    with db.unit_of_work() as s:
        for cid in (overdue, closed):
            s.get_one(Customer, cid).created_at = NOW - timedelta(days=3 * 365)
        s.get_one(Customer, overdue).assigned_to = _staff(brand, "LOAN_EXECUTIVE")
        phones = {cid: s.get_one(Customer, cid).phone for cid in (due, overdue)}
    out = await _run(dev_env, db, KycExpiryWorkflow, b)
    assert out == {"brands": 1, "marked": 2, "failed": 0}
    with db.unit_of_work() as s:
        marks = dict(
            s.execute(
                select(AuditLog.entity_id, AuditLog.action).where(
                    AuditLog.brand_id == b, AuditLog.entity_type == "customer"
                )
            ).all()
        )
        audit = s.scalars(select(AuditLog).where(AuditLog.entity_id == due)).one()
        messages = s.scalars(
            select(CustomerMessage).where(CustomerMessage.brand_id == b, CustomerMessage.event == "KYC_UPDATE_DUE")
        ).all()
        sent = sorted((m.idempotency_key.split(":")[1], m.status) for m in messages)
        due_on = audit.after["dueOn"]
    assert marks == {due: "customer.rekyc_due", overdue: "customer.rekyc_overdue"}
    assert audit.actor_id is None and audit.after["risk"] == "HIGH" and audit.after["loanId"] == due_loan
    assert due_on == add_years((NOW - timedelta(days=720)).astimezone(IST).date(), 2).isoformat()
    assert sent == sorted([(due, "SENT"), (overdue, "SENT")])
    async with httpx.AsyncClient(base_url=sandbox.url) as sbx:
        [sms] = (await sbx.get("/gupshup/messages", params={"to": phones[due]})).json()
        assert "KYC is due for its periodic update" in sms["text"]
        [late] = (await sbx.get("/gupshup/messages", params={"to": phones[overdue]})).json()
        assert "was due" in late["text"]
    alerts = {a.meta["customerId"]: a.staff_id for a in _alerts(db, b, "REKYC_DUE") + _alerts(db, b, "REKYC_OVERDUE")}
    assert alerts == {due: _staff(brand, "ADMIN"), overdue: _staff(brand, "LOAN_EXECUTIVE")}
    # a second run: nobody marked, told or notified again
    assert (await _run(dev_env, db, KycExpiryWorkflow, b))["marked"] == 0
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).where(CustomerMessage.brand_id == b)) == 2
        assert s.scalar(select(func.count()).where(AuditLog.brand_id == b, AuditLog.entity_type == "customer")) == 2
    async with httpx.AsyncClient(base_url=sandbox.url) as sbx:
        assert len((await sbx.get("/gupshup/messages", params={"to": phones[due]})).json()) == 1


def _with_report(db, brand_id: str, status: str, pan: str, age_days: int, **extra: object) -> str:  # noqa: ANN001
    loan_id, customer_id = _loan(db, brand_id, status, **extra)
    with db.unit_of_work() as s:
        c = s.get_one(Customer, customer_id)
        c.pan, c.pan_name = pan, "Asha Verma"
        clean = [{"status": "ACTIVE", "account_type": "CREDIT_CARD", "dpd_by_month": [["2026-01-01", 0]] * 12}]
        s.add(
            BureauReport(
                loan_id=loan_id,
                customer_id=customer_id,
                provider="cibil",
                score=780,
                report={"accounts_parsed": clean},
                created_at=NOW - timedelta(days=age_days),
            )
        )
    return loan_id


def _refreshes(db, loan_id: str) -> list[ProviderCall]:  # noqa: ANN001
    with db.unit_of_work() as s:
        rows = s.scalars(
            select(ProviderCall).where(ProviderCall.loan_id == loan_id, ProviderCall.kind == "BUREAU_REFRESH")
        ).all()
        s.expunge_all()
        return list(rows)


async def test_bureau_refresh_of_due_active_loans_with_an_early_warning_once(dev_env, db, brand) -> None:  # noqa: ANN001
    b = brand["brand_id"]
    collector = _staff(brand, "COLLECTION_EXECUTIVE")
    worse = _with_report(db, b, "OVERDUE", "ABCDE0123Z", 50, collector_id=collector)  # 580 and a loan 30-90 DPD
    same = _with_report(db, b, "DISBURSED", "ABCDE9123A", 40)  # 780, clean
    fresh = _with_report(db, b, "DISBURSED", "ABCDE9124A", 5)  # pulled 5 days ago: not due
    closed = _with_report(db, b, "COMPLETED", "ABCDE9125A", 60)  # closed: never refreshed
    down = _with_report(db, b, "DISBURSED", "DOWNE9126A", 45)  # every bureau answers 503: counted failed, run goes on
    run = BrandRun(b, NOW.isoformat(), NOW.astimezone(IST).date().isoformat())
    with db.unit_of_work() as s:
        assert refresh_candidates(s, run) == [worse, down, same]  # the oldest report first
    _set_config(db, b, bureauBatch=1)
    with db.unit_of_work() as s:
        assert refresh_candidates(s, run) == [worse]
    _set_config(db, b, bureauRefreshDays=0)
    with db.unit_of_work() as s:
        assert refresh_candidates(s, run) == []
    _set_config(db, b)
    out = await _run(dev_env, db, BureauRefreshWorkflow, b)
    assert out == {"brands": 1, "refreshed": 2, "warnings": 1, "refused": 0, "failed": 1}
    [w] = _refreshes(db, worse)
    assert (w.outcome, int(w.score), w.response["previousScore"]) == ("WARNING", 580, 780)
    assert any("score fell 200 points" in r for r in w.response["reasons"])
    assert any("past due" in r for r in w.response["reasons"])
    assert w.response["report"]["accounts_parsed"] and w.provider == "cibil"
    [p] = _refreshes(db, same)
    assert (p.outcome, int(p.score), p.response["reasons"]) == ("PULLED", 780, [])
    assert _refreshes(db, fresh) == [] and _refreshes(db, closed) == [] and _refreshes(db, down) == []
    warned = {a.staff_id for a in _alerts(db, b, "BUREAU_EARLY_WARNING")}
    assert warned == {collector, _staff(brand, "ADMIN")}
    # run again the same day: nothing is due (and the loan's activity, retried, pulls and notifies nothing new)
    _set_config(db, b, bureauRefreshDays=30)
    with db.unit_of_work() as s:
        assert refresh_candidates(s, run) == [down]  # still due: nothing was stored for it
    _set_config(db, b, bureauBatch=1, bureauRefreshDays=30)
    with db.unit_of_work() as s:
        s.get_one(Customer, s.get_one(Loan, down).customer_id).pan = "ABCDE9126A"  # the bureaus are back
    again_run = await _run(dev_env, db, BureauRefreshWorkflow, b)
    assert again_run == {"brands": 1, "refreshed": 1, "warnings": 0, "refused": 0, "failed": 0}
    assert [c.outcome for c in _refreshes(db, down)] == ["PULLED"]
    # a loan closed between the choice and the pull: nothing pulled, nothing stored
    async with httpx.AsyncClient(timeout=30) as http:
        with db.unit_of_work() as s:
            s.get_one(Loan, closed).status = "COMPLETED"
        skipped = await OpsJobActivities(db, http).refresh_bureau(BureauRefreshRequest(b, closed, run.day))
    assert skipped.outcome == "SKIPPED" and _refreshes(db, closed) == []
    assert (await _run(dev_env, db, BureauRefreshWorkflow, b))["refreshed"] == 0
    async with httpx.AsyncClient(timeout=30) as http:
        again = await OpsJobActivities(db, http).refresh_bureau(BureauRefreshRequest(b, worse, run.day))
    assert again.outcome == "WARNING" and again.score == 580
    assert len(_refreshes(db, worse)) == 1 and len(_alerts(db, b, "BUREAU_EARLY_WARNING")) == 2
    # the report the next refresh compares with is this one (580 now: a further pull at 580 would not warn)
    with db.unit_of_work() as s:
        from activities.ops_jobs_bureau import previous_report

        assert previous_report(s, worse)[0] == 580


@pytest.mark.parametrize(
    ("job", "workflow", "hour_minute"),
    [
        (scheduled_job("staff-inactivity-alerts"), "InactivityAlertsWorkflow", (3, 30)),
        (scheduled_job("kyc-expiry"), "KycExpiryWorkflow", (5, 0)),
        (scheduled_job("bureau-refresh"), "BureauRefreshWorkflow", (20, 30)),
    ],
)
async def test_each_schedule_is_registered_once_and_keeps_its_pause(dev_env, job, workflow, hour_minute) -> None:  # noqa: ANN001
    settings = Settings(task_queue=f"ops-{uuid.uuid4().hex[:8]}")
    schedule_id = f"{job.schedule_id}-{uuid.uuid4().hex[:8]}"
    await ensure_schedule(dev_env.client, settings, job, schedule_id)
    handle = dev_env.client.get_schedule_handle(schedule_id)
    try:
        await handle.pause(note="ops paused it")
        await ensure_schedule(dev_env.client, settings, job, schedule_id)  # a restart: no error, one schedule
        desc = await handle.describe()
        (calendar,) = desc.schedule.spec.calendars
        assert [(r.start) for r in calendar.hour] == [hour_minute[0]]
        assert [(r.start) for r in calendar.minute] == [hour_minute[1]]
        assert desc.schedule.action.workflow == workflow
        assert desc.schedule.action.task_queue == settings.task_queue
        assert desc.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
        assert desc.schedule.state.paused
    finally:
        await handle.delete()
