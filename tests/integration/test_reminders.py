"""Staff reminders through the real API, database, sandbox vendors and Temporal dev server (docs/operations.md,
"Staff reminders"): created, listed with filters, read with their log, edited and cancelled while PENDING (409 after),
bad input refused with 422 naming the field, another brand's reminders out of reach; the dispatch activity sending
due ones once (run twice, sent once), a refused message marked FAILED with the vendor's reason, a future one waiting;
the dispatch workflow; the schedule the worker registers once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta, timezone

import httpx
from sqlalchemy import select
from temporalio.client import ScheduleOverlapPolicy
from temporalio.worker import Worker

from activities.reminders import ReminderActivities, message_key
from db.models import AuditLog, Customer, CustomerMessage, MessageTemplate, StaffReminder, StaffReminderLog
from los.demo import Driver
from los.schedules import ensure_schedule
from los.seed import seed_brand
from tests.integration.test_messaging import _phone
from tests.integration.test_money_out_api import _loan
from worker import scheduled_job
from workflows.reminder_dispatch import ReminderDispatchWorkflow

DUE = {"amount": 450_050, "due_date": "2026-01-05", "days_before": 3, "payment_link": "https://pay.example/l/1"}


OVERDUE_VARS = {"amount": 450_050, "dpd": 7, "due_date": "2026-01-05", "payment_link": "https://pay.example/l/1"}


def _ist_tomorrow(hour: int, minute: int) -> str:
    """Tomorrow (IST) at ``hour:minute`` IST, with its offset."""
    ist = timezone(timedelta(hours=5, minutes=30))
    day = datetime.now(ist).date() + timedelta(days=1)
    return datetime.combine(day, time(hour, minute), ist).isoformat()


def _soon(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).astimezone().isoformat()


def _fields(resp: httpx.Response) -> list[str]:
    return [e["field"] for e in resp.json().get("errors", [])]


def _due(db, brand: dict, phone: str, *, ago: timedelta = timedelta(minutes=1)) -> str:  # noqa: ANN001
    """A PENDING SMS reminder for a new customer with ``phone``, due ``ago`` ago (written straight: the API refuses
    the past)."""
    brand_id = brand["brand_id"]
    loan_id, customer_id = _loan(db, brand_id, "DISBURSED")
    with db.unit_of_work() as s:
        customer = s.get_one(Customer, customer_id)
        customer.phone, customer.email = phone, None
        r = StaffReminder(
            brand_id=brand_id,
            customer_id=customer_id,
            loan_id=loan_id,
            created_by=brand["staff"][0]["id"],
            channel="sms",
            template="DUE_REMINDER",
            variables=DUE,
            scheduled_at=datetime.now(UTC) - ago,
            status="PENDING",
            attempts=0,
        )
        s.add(r)
        s.flush()
        return r.id


def _reminder(db, reminder_id: str) -> tuple[StaffReminder, list[str]]:  # noqa: ANN001
    with db.unit_of_work() as s:
        r = s.get_one(StaffReminder, reminder_id)
        s.expunge(r)
        log = s.scalars(
            select(StaffReminderLog.action)
            .where(StaffReminderLog.reminder_id == reminder_id)
            .order_by(StaffReminderLog.created_at)
        ).all()
        return r, list(log)


async def test_create_list_edit_cancel_validation_isolation(app, brand, sandbox, db) -> None:  # noqa: ANN001
    b = brand["brand_id"]
    other = seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:7]}")
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    outsider = Driver(app.api.url, sandbox.url, other["brand_code"])
    api, base = driver.api, f"/api/v1/partner/brand/{b}/reminders"
    loan_id, customer_id = _loan(db, b, "DISBURSED")
    _, second = _loan(db, b, "DISBURSED")
    _, foreign = _loan(db, other["brand_id"], "DISBURSED")
    try:
        staff = await driver.staff_headers("COLLECTION_EXECUTIVE")
        body = {
            "userId": customer_id,
            "loanId": loan_id,
            "channel": "sms",
            "template": "DUE_REMINDER",
            "scheduledAt": _soon(hours=2),
            "variables": DUE,
        }
        r = await api.post(base, json=body, headers=staff)
        assert r.status_code == 201, r.text
        one = r.json()
        assert one["status"] == "PENDING" and one["variables"] == DUE and one["customerName"] == "Asha Verma"
        assert [x["action"] for x in one["log"]] == ["CREATED"]
        r = await api.post(
            base,
            json={**body, "userId": second, "loanId": None, "channel": "whatsapp", "scheduledAt": _soon(days=3)},
            headers=staff,
        )
        assert r.status_code == 201, r.text
        two = r.json()["id"]

        # validation: 422 naming the field, nothing written
        bad = [
            ({"template": "NOT_AN_EVENT"}, "template"),
            ({"channel": "fax"}, "channel"),
            ({"scheduledAt": _soon(hours=-2)}, "scheduledAt"),
            ({"scheduledAt": _soon(days=91)}, "scheduledAt"),
            ({"scheduledAt": "2026-13-01T10:00:00+05:30"}, "scheduledAt"),
            ({"scheduledAt": datetime.now().replace(microsecond=0).isoformat()}, "scheduledAt"),  # no offset
            ({"userId": foreign}, "userId"),
            ({"userId": "nobody"}, "userId"),
            ({"loanId": str(uuid.uuid4())}, "loanId"),
            ({"variables": {"amount": {"nested": 1}}}, "variables.amount"),
        ]
        for change, field in bad:
            r = await api.post(base, json={**body, **change}, headers=staff)
            assert r.status_code == 422 and any(f.startswith(field) for f in _fields(r)), (change, r.text)
        r = await api.post(base, json={**body, "variables": {"amount": 1, "colour": "red", "size": 2}}, headers=staff)
        assert r.status_code == 422 and "colour" in r.text and "size" in r.text
        assert {"variables.colour", "variables.size"} <= set(_fields(r))
        # list with filters, one with its log
        assert (await api.get(base, headers=staff)).json()["total"] == 2
        r = await api.get(base, headers=staff, params={"channel": "whatsapp"})
        assert [x["id"] for x in r.json()["items"]] == [two]
        r = await api.get(base, headers=staff, params={"customerId": customer_id, "status": "PENDING"})
        assert [x["id"] for x in r.json()["items"]] == [one["id"]]
        r = await api.get(base, headers=staff, params={"scheduledFrom": _soon(days=1), "scheduledTo": _soon(days=5)})
        assert [x["id"] for x in r.json()["items"]] == [two]
        r = await api.get(base, headers=staff, params={"limit": 1, "page": 2})
        assert r.json()["total"] == 2 and [x["id"] for x in r.json()["items"]] == [two]
        for params, field in (
            ({"status": "DONE"}, "status"),
            ({"scheduledFrom": _soon(days=5), "scheduledTo": _soon(days=1)}, "scheduledTo"),
            ({"customerId": "x"}, "customerId"),
        ):
            r = await api.get(base, headers=staff, params=params)
            assert r.status_code == 422 and field in _fields(r), (params, r.text)
        viewer = await driver.staff_headers("CREDIT_EXECUTIVE")
        r = await api.get(f"{base}/{one['id']}", headers=viewer)
        assert r.status_code == 200 and [x["action"] for x in r.json()["log"]] == ["CREATED"]

        # edit while PENDING: reschedule, new variables checked against the template
        later = _soon(days=2)
        r = await api.patch(f"{base}/{one['id']}", json={"scheduledAt": later, "channel": "email"}, headers=staff)
        assert r.status_code == 200, r.text
        assert r.json()["channel"] == "email" and [x["action"] for x in r.json()["log"]] == ["CREATED", "EDITED"]
        assert r.json()["log"][1]["details"]["after"]["channel"] == "email"
        r = await api.patch(f"{base}/{one['id']}", json={"variables": {"nope": 1}}, headers=staff)
        assert r.status_code == 422 and "variables.nope" in _fields(r)
        r = await api.patch(f"{base}/{one['id']}", json={"template": "DISBURSED"}, headers=staff)  # DUE's variables
        assert r.status_code == 422 and "variables.due_date" in _fields(r)
        r = await api.patch(f"{base}/{one['id']}", json={}, headers=staff)
        assert r.status_code == 422

        # cancel: PENDING → CANCELLED, then 409 for a second cancel and an edit
        r = await api.post(f"{base}/{one['id']}/cancel", headers=staff)
        assert r.status_code == 200 and r.json()["status"] == "CANCELLED"
        assert (await api.post(f"{base}/{one['id']}/cancel", headers=staff)).status_code == 409
        assert (await api.patch(f"{base}/{one['id']}", json={"channel": "sms"}, headers=staff)).status_code == 409
        with db.unit_of_work() as s:
            actions = s.scalars(select(AuditLog.action).where(AuditLog.entity_id == one["id"])).all()
        assert sorted(actions) == ["reminder.cancel", "reminder.create", "reminder.edit"]

        # the customer's file lists them
        r = await api.get(f"/api/v1/partner/brand/{b}/customers/{customer_id}", headers=staff)
        assert [x["id"] for x in r.json()["reminders"]] == [one["id"]]

        # another brand: nothing of B's is reachable
        outsider_admin = await outsider.staff_headers("ADMIN")
        assert (await api.get(base, headers=outsider_admin)).status_code == 404
        ob = f"/api/v1/partner/brand/{other['brand_id']}/reminders"
        assert (await api.get(f"{ob}/{two}", headers=outsider_admin)).status_code == 404
        assert (await api.post(f"{ob}/{two}/cancel", headers=outsider_admin)).status_code == 404
        assert (await api.get(f"{base}/{uuid.uuid4()}", headers=staff)).status_code == 404
        assert (await api.get(f"{base}/nope", headers=staff)).status_code == 404
        r = await api.post(ob, json={**body, "loanId": None}, headers=outsider_admin)
        assert r.status_code == 422 and "userId" in _fields(r)
    finally:
        await driver.close()
        await outsider.close()


async def test_a_message_about_overdue_dues_is_scheduled_only_from_8_to_19_ist(app, brand, sandbox, db) -> None:  # noqa: ANN001
    """RBI's contact hours (domain.contact_hours): a reminder with a template about overdue dues (OVERDUE,
    COLLECTION_PAYMENT_LINK, SETTLEMENT_OFFER) is refused at 21:00, 07:59 and 19:00 IST, naming scheduledAt, and so is
    changing a night reminder's template to one; a reminder before the due date may go at night; 10:30 IST is fine."""
    b = brand["brand_id"]
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api, base = driver.api, f"/api/v1/partner/brand/{b}/reminders"
    loan_id, customer_id = _loan(db, b, "OVERDUE")
    body = {"userId": customer_id, "loanId": loan_id, "channel": "sms", "template": "DUE_REMINDER", "variables": DUE}
    try:
        staff = await driver.staff_headers("COLLECTION_EXECUTIVE")
        overdue = {**body, "template": "OVERDUE", "variables": OVERDUE_VARS}
        for at in (_ist_tomorrow(21, 0), _ist_tomorrow(7, 59), _ist_tomorrow(19, 0)):
            r = await api.post(base, json={**overdue, "scheduledAt": at}, headers=staff)
            assert r.status_code == 422 and _fields(r) == ["scheduledAt"], (at, r.text)
            assert "only between 08:00 and 19:00 IST" in r.text, r.text
        night = await api.post(base, json={**body, "scheduledAt": _ist_tomorrow(21, 0)}, headers=staff)
        assert night.status_code == 201, night.text  # a reminder before the due date is not about arrears
        r = await api.patch(
            f"{base}/{night.json()['id']}", json={"template": "OVERDUE", "variables": OVERDUE_VARS}, headers=staff
        )
        assert r.status_code == 422 and _fields(r) == ["scheduledAt"], r.text
        r = await api.post(f"{base}/{night.json()['id']}/cancel", headers=staff)
        assert r.status_code == 200, r.text
        r = await api.post(base, json={**overdue, "scheduledAt": _ist_tomorrow(10, 30)}, headers=staff)
        assert r.status_code == 201, r.text
        r = await api.post(f"{base}/{r.json()['id']}/cancel", headers=staff)
        assert r.status_code == 200, r.text

    finally:
        await driver.close()


async def test_variables_are_checked_against_the_message_that_will_go(app, brand, sandbox, db) -> None:  # noqa: ANN001
    b = brand["brand_id"]
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api, base = driver.api, f"/api/v1/partner/brand/{b}/reminders"
    loan_id, customer_id = _loan(db, b, "DISBURSED")
    body = {
        "userId": customer_id,
        "loanId": loan_id,
        "channel": "sms",
        "template": "DUE_REMINDER",
        "scheduledAt": _soon(hours=2),
        "variables": DUE,
    }

    def stored() -> int:
        with db.unit_of_work() as s:
            return len(s.scalars(select(StaffReminder.id).where(StaffReminder.brand_id == b)).all())

    try:
        staff = await driver.staff_headers("COLLECTION_EXECUTIVE")
        # one error per variable, each naming variables.<name>; nothing stored
        cases = [
            ({k: v for k, v in DUE.items() if k != "payment_link"}, {"variables.payment_link": "missing"}),
            ({**DUE, "amount": "4500.50"}, {"variables.amount": "paise"}),
            ({**DUE, "amount": 4500.5}, {"variables.amount": "paise"}),
            ({**DUE, "amount": True}, {"variables.amount": "string or a number"}),
            ({**DUE, "due_date": "05/01/2026"}, {"variables.due_date": "YYYY-MM-DD"}),
            ({**DUE, "days_before": "three"}, {"variables.days_before": "number"}),
            ({**DUE, "payment_link": None}, {"variables.payment_link": "null"}),
            ({**DUE, "payment_link": ["x"]}, {"variables.payment_link": "string or a number"}),
            ({**DUE, "payment_link": "x" * 501}, {"variables.payment_link": "500"}),
            (
                {"amount": "x", "due_date": "2026-01-05", "colour": "red"},
                {
                    "variables.colour": "not a variable",
                    "variables.days_before": "missing",
                    "variables.payment_link": "missing",
                    "variables.amount": "paise",
                },
            ),
        ]
        for variables, expected in cases:
            r = await api.post(base, json={**body, "variables": variables}, headers=staff)
            assert r.status_code == 422, (variables, r.text)
            errors = {e["field"]: e["reason"] for e in r.json()["errors"]}
            assert set(errors) == set(expected), (variables, errors)
            for field, words in expected.items():
                assert words in errors[field], (field, errors[field])
        assert stored() == 0

        # the placeholders are those of the channel's template: WhatsApp's default has no days_before
        no_days = {k: v for k, v in DUE.items() if k != "days_before"}
        r = await api.post(base, json={**body, "channel": "whatsapp", "variables": no_days}, headers=staff)
        assert r.status_code == 201, r.text
        reminder = r.json()
        # ... so moving it to SMS needs days_before; the reminder stays as it was
        r = await api.patch(f"{base}/{reminder['id']}", json={"channel": "sms"}, headers=staff)
        assert r.status_code == 422 and _fields(r) == ["variables.days_before"], r.text
        saved, log = _reminder(db, reminder["id"])
        assert saved.channel == "whatsapp" and log == ["CREATED"]
        r = await api.patch(f"{base}/{reminder['id']}", json={"channel": "sms", "variables": DUE}, headers=staff)
        assert r.status_code == 200 and r.json()["channel"] == "sms", r.text

        # the brand's own template, when it has one, is the one read
        with db.unit_of_work() as s:
            s.add(
                MessageTemplate(
                    brand_id=b,
                    event="DUE_REMINDER",
                    kind="sms",
                    body="{{ customer_name }}: installment {{ installment }} of {{ amount }} is due on {{ due_date }}",
                    dlt_template_id="1107000000000000001",
                )
            )
        r = await api.post(base, json=body, headers=staff)
        assert r.status_code == 422 and _fields(r) == ["variables.installment"], r.text
        r = await api.post(base, json={**body, "variables": {**DUE, "installment": 3}}, headers=staff)
        assert r.status_code == 201, r.text
        assert stored() == 2
    finally:
        await driver.close()


async def test_dispatch_sends_due_ones_once_fails_refused_waits_future(db, brand, sandbox) -> None:  # noqa: ANN001
    phone, refused = _phone(), _phone("99999")
    due = _due(db, brand, phone)
    failing = _due(db, brand, refused)
    future = _due(db, brand, _phone(), ago=timedelta(minutes=-30))
    async with httpx.AsyncClient(timeout=30) as http, httpx.AsyncClient(base_url=sandbox.url) as sbx:
        acts = ReminderActivities(db, http)
        # Gupshup answers 503 for 99999…; with MSG91 and NimbusIT down too, nothing takes it
        for vendor in ("msg91", "nimbusit"):
            assert (await sbx.post("/_faults", json={"vendor": vendor, "mode": "503"})).status_code == 200
        try:
            first = await acts.dispatch_due_reminders()
        finally:
            await sbx.delete("/_faults")
        assert first.claimed >= 2 and first.sent >= 1 and first.failed >= 1
        # a retried activity: the one still PENDING (as after a crash between send and mark) is not sent again
        with db.unit_of_work() as s:
            s.get_one(StaffReminder, due).status = "PENDING"
        await acts.dispatch_due_reminders()
        [sms] = (await sbx.get("/gupshup/messages", params={"to": phone})).json()
        assert "₹4,500.50 is due on 05 Jan 2026" in sms["text"]
    r, log = _reminder(db, due)
    assert r.status == "SENT" and r.sent_at is not None and r.attempts == 2 and log == ["SENT", "SENT"]
    with db.unit_of_work() as s:
        messages = s.scalars(
            select(CustomerMessage).where(CustomerMessage.idempotency_key.like(f"{message_key(due)}:%"))
        ).all()
        assert [(m.kind, m.status, m.vendor) for m in messages] == [("sms", "SENT", "gupshup")]
    r, log = _reminder(db, failing)
    assert r.status == "FAILED" and "every vendor failed" in (r.failure_reason or "") and log == ["FAILED"]
    r, log = _reminder(db, future)
    assert r.status == "PENDING" and r.attempts == 0 and log == []


async def test_dispatch_workflow_and_cancelled_one_not_sent(dev_env, db, brand, sandbox) -> None:  # noqa: ANN001
    phone = _phone()
    due, cancelled = _due(db, brand, phone), _due(db, brand, _phone())
    with db.unit_of_work() as s:
        s.get_one(StaffReminder, cancelled).status = "CANCELLED"
    queue = f"reminders-{uuid.uuid4().hex[:8]}"
    async with (
        httpx.AsyncClient(timeout=30) as http,
        Worker(
            dev_env.client,
            task_queue=queue,
            workflows=[ReminderDispatchWorkflow],
            activities=ReminderActivities(db, http).all(),
        ),
    ):
        out = await dev_env.client.execute_workflow(
            ReminderDispatchWorkflow.run, id=f"rd-{uuid.uuid4().hex[:8]}", task_queue=queue
        )
    assert out["claimed"] >= 1 and out["sent"] >= 1
    assert _reminder(db, due)[0].status == "SENT"
    assert _reminder(db, cancelled)[0].status == "CANCELLED"


async def test_the_worker_registers_the_dispatch_schedule_once(dev_env, app) -> None:  # noqa: ANN001
    schedule_id = f"reminder-dispatch-{uuid.uuid4().hex[:8]}"
    await ensure_schedule(dev_env.client, app.settings, scheduled_job("reminder-dispatch"), schedule_id)
    handle = dev_env.client.get_schedule_handle(schedule_id)
    try:
        await handle.pause(note="ops paused it")
        await ensure_schedule(
            dev_env.client, app.settings, scheduled_job("reminder-dispatch"), schedule_id
        )  # a restart: no error, one schedule
        desc = await handle.describe()
        (interval,) = desc.schedule.spec.intervals
        assert interval.every == timedelta(minutes=1)
        assert desc.schedule.action.workflow == "ReminderDispatchWorkflow"
        assert desc.schedule.action.task_queue == app.settings.task_queue
        assert desc.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
        assert desc.schedule.state.paused  # the pause set in the UI survives the worker's restart
    finally:
        await handle.delete()
