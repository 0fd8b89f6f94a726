"""Customer messages end to end over the real database, the sandbox's vendor twins over HTTP and (for delivery
reports and the staff routes) the real API: a notice rendered and sent on every kind the brand has, logged once per
key and kind; the primary SMS vendor failing → the next one, both attempts logged; delivery reports marking messages
DELIVERED (Gupshup's token-in-URL POST, SendGrid's ECDSA-signed events); the templates API refusing with 422 naming
the field, its preview, and a saved template used by the next send; the loan's delivery log with masked recipients."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import select

from activities.messaging import MessagingActivities
from db.models import Customer, CustomerMessage, WebhookEvent
from los.demo import Driver
from los.seed import SANDBOX_SECRET
from tests.conftest import eventually
from tests.integration.test_money_out_api import _loan
from workflows.contracts import NoticeRequest

DUE = {"amount": 450_050, "due_date": "2026-01-05", "payment_link": "https://pay.example/l/1"}


def _customer_loan(db, brand_id: str, phone: str, email: str | None = "asha@example.com") -> tuple[str, str]:  # noqa: ANN001
    loan_id, customer_id = _loan(db, brand_id, "ACTIVE")
    with db.unit_of_work() as s:
        customer = s.get(Customer, customer_id)
        customer.phone, customer.email = phone, email
    return loan_id, phone


def _rows(db, loan_id: str) -> dict[str, CustomerMessage]:  # noqa: ANN001
    with db.unit_of_work() as s:
        rows = s.scalars(select(CustomerMessage).where(CustomerMessage.loan_id == loan_id)).all()
        for r in rows:
            s.expunge(r)
        return {r.kind: r for r in rows}


def _phone(prefix: str = "98") -> str:
    """A random number starting with ``prefix`` (99999: the scenario where Gupshup answers 503) whose last four digits
    take no sandbox scenario (0000: reported FAILED, ...)."""
    from los.demo_identities import plain_ending

    while not plain_ending(phone := f"{prefix}{uuid.uuid4().int % 10 ** (10 - len(prefix)):0{10 - len(prefix)}d}"):
        pass
    return phone


async def test_notice_rendered_sent_logged_once(db, brand, sandbox) -> None:  # noqa: ANN001
    loan_id, phone = _customer_loan(db, brand["brand_id"], _phone())
    async with httpx.AsyncClient(timeout=30) as http, httpx.AsyncClient(base_url=sandbox.url) as sbx:
        acts = MessagingActivities(db, http)
        req = NoticeRequest(loan_id, "DUE_TODAY", f"{loan_id}:due:1", DUE)
        outcome = await acts.send_notice(req)
        assert outcome == {"sms": "SENT", "whatsapp": "SENT", "email": "SENT"}
        [sms] = (await sbx.get("/gupshup/messages", params={"to": phone})).json()
        assert "₹4,500.50 is due today" in sms["text"] and "https://pay.example/l/1" in sms["text"]
        [wa] = (await sbx.get("/aisensy/messages", params={"to": phone})).json()
        assert wa["params"][1] == "₹4,500.50" and wa["campaign"] == "REPLACE-WITH-CAMPAIGN"
        mails = (await sbx.get("/sendgrid/messages", params={"to": "asha@example.com"})).json()
        assert any(m["subject"].endswith("installment due today") for m in mails)
        rows = _rows(db, loan_id)
        assert rows["sms"].vendor == "gupshup" and rows["sms"].vendor_message_id == sms["message_id"]
        assert rows["sms"].recipient == "XXXXXX" + phone[-4:] and rows["email"].recipient == "a***@example.com"
        assert rows["sms"].template_id == "REPLACE-WITH-DLT-TEMPLATE-ID" and rows["sms"].status == "SENT"
        assert [a["outcome"] for a in rows["sms"].attempts] == ["ok"]
        # the same key again (a retried activity): nothing more is sent, nothing more is logged
        assert await acts.send_notice(req) == outcome
        assert len((await sbx.get("/gupshup/messages", params={"to": phone})).json()) == 1
        assert len((await sbx.get("/aisensy/messages", params={"to": phone})).json()) == 1
        assert len(_rows(db, loan_id)) == 3
        # the workflow's camelCase values are mapped, the rest completed from the loan's records
        paid = {"amount": 450_050, "paymentId": "pay_T1", "receiptNo": "R-1"}
        assert (await acts.send_notice(NoticeRequest(loan_id, "PAYMENT_RECEIVED", f"{loan_id}:paid", paid)))[
            "sms"
        ] == "SENT"
        text = (await sbx.get("/gupshup/messages", params={"to": phone})).json()[-1]["text"]
        assert "we received ₹4,500.50 on" in text and f"/loans/{loan_id}/receipts/pay_T1" in text
        # an event the catalogue does not know sends nothing and fails nothing
        assert await acts.send_notice(NoticeRequest(loan_id, "NOT_AN_EVENT", f"{loan_id}:x", {})) == {}
        # a missing value fails the render: logged FAILED, nothing sent, no exception
        missing = await acts.send_notice(NoticeRequest(loan_id, "AA_CONSENT", f"{loan_id}:aa", {}))
        assert set(missing.values()) == {"FAILED"}
        with db.unit_of_work() as s:
            failed = s.scalars(
                select(CustomerMessage).where(CustomerMessage.idempotency_key == f"{loan_id}:aa:sms")
            ).one()
            assert failed.status == "FAILED" and "consent_url" in failed.error and failed.vendor is None
        assert len((await sbx.get("/gupshup/messages", params={"to": phone})).json()) == 2


async def test_step_texts_go_through_the_sender_and_are_logged(db, brand, sandbox) -> None:  # noqa: ANN001
    """The loan and KYC steps' own SMS and emails (``_notify``, ``_sms``, ``_email``): failover, logged, once."""
    import hashlib

    from activities.messaging.send import Sender
    from db.models import Brand

    loan_id, phone = _customer_loan(db, brand["brand_id"], _phone("99999"))
    with db.unit_of_work() as s:
        row = s.get(Brand, brand["brand_id"])
        s.expunge(row)
    pdf = b"%PDF-1.4\n%%EOF\n"
    async with httpx.AsyncClient(timeout=30) as http, httpx.AsyncClient(base_url=sandbox.url) as sbx:
        sender = Sender(db, http)
        for _ in range(2):  # the same key twice: one message
            status = await sender.sms_text(
                row, phone, "ESIGN_LINK", "Sign: https://e.example/1", key=f"{loan_id}:e", loan_id=loan_id
            )
            assert status == "SENT"
        [taken] = (await sbx.get("/msg91/messages", params={"to": phone})).json()  # Gupshup refuses 99999…: failover
        assert taken["variables"] == {"text": "Sign: https://e.example/1"}
        mailed = await sender.email_text(
            row,
            "asha@example.com",
            "Your agreement",
            "Attached.",
            [("a.pdf", "application/pdf", pdf)],
            key=f"{loan_id}:m",
            loan_id=loan_id,
        )
        assert mailed == "SENT"
        sent = (await sbx.get("/sendgrid/messages", params={"to": "asha@example.com"})).json()[-1]
        assert sent["attachments"][0]["sha256"] == hashlib.sha256(pdf).hexdigest()
    rows = _rows(db, loan_id)
    assert rows["sms"].event == "AGREEMENT_READY" and rows["sms"].vendor == "msg91"
    assert rows["email"].event == "EMAIL" and rows["email"].vendor_message_id == sent["message_id"]


async def test_primary_sms_vendor_failing_fails_over(db, brand, sandbox) -> None:  # noqa: ANN001
    # the sandbox Gupshup answers 503 for numbers starting 99999: MSG91, the next SMS vendor, takes the message
    loan_id, phone = _customer_loan(db, brand["brand_id"], _phone("99999"), email=None)
    async with httpx.AsyncClient(timeout=30) as http, httpx.AsyncClient(base_url=sandbox.url) as sbx:
        outcome = await MessagingActivities(db, http).send_notice(
            NoticeRequest(loan_id, "DUE_TODAY", f"{loan_id}:k", DUE)
        )
        assert outcome == {"sms": "SENT", "whatsapp": "SENT"}  # no email address: no email
        assert (await sbx.get("/gupshup/messages", params={"to": phone})).json() == []
        [taken] = (await sbx.get("/msg91/messages", params={"to": phone})).json()
        assert taken["variables"]["amount"] == "₹4,500.50"
    sms = _rows(db, loan_id)["sms"]
    assert sms.vendor == "msg91" and sms.vendor_message_id == taken["message_id"]
    assert [(a["vendor"], a["outcome"]) for a in sms.attempts] == [("gupshup", "error"), ("msg91", "ok")]
    assert "503" in sms.attempts[0]["error"]


async def test_every_vendor_down_is_logged_failed_not_raised(db, brand, sandbox) -> None:  # noqa: ANN001
    loan_id, phone = _customer_loan(db, brand["brand_id"], _phone("99999"), email=None)
    async with httpx.AsyncClient(timeout=30) as http, httpx.AsyncClient(base_url=sandbox.url) as sbx:
        for vendor in ("msg91", "nimbusit", "aisensy"):
            assert (await sbx.post("/_faults", json={"vendor": vendor, "mode": "503"})).status_code == 200
        try:
            outcome = await MessagingActivities(db, http).send_notice(
                NoticeRequest(loan_id, "DUE_TODAY", f"{loan_id}:down", DUE)
            )
        finally:
            await sbx.delete("/_faults")
    assert outcome == {"sms": "FAILED", "whatsapp": "FAILED"}
    rows = _rows(db, loan_id)
    assert [a["vendor"] for a in rows["sms"].attempts] == ["gupshup", "msg91", "nimbusit"]
    assert "every vendor failed" in rows["sms"].error


async def test_delivery_reports_and_staff_routes(app, brand, sandbox, db) -> None:  # noqa: ANN001
    brand_id = brand["brand_id"]
    hook = f"{app.api.url}/api/v1/webhooks/{brand_id}"
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    api = driver.api
    base = f"/api/v1/partner/brand/{brand_id}"
    async with httpx.AsyncClient(base_url=sandbox.url) as sbx, httpx.AsyncClient(timeout=30) as http:
        try:
            # the lender registers its report URLs in the vendors' panels (Gupshup signs nothing: a token in the URL)
            await sbx.put("/_messaging/webhooks/gupshup", json={"url": f"{hook}/gupshup?token={SANDBOX_SECRET}"})
            await sbx.put("/_messaging/webhooks/sendgrid", json={"url": f"{hook}/sendgrid"})
            admin = await driver.staff_headers("ADMIN")
            credit = await driver.staff_headers("CREDIT_EXECUTIVE")
            url = f"{base}/settings/templates/DUE_TODAY/sms"

            # the templates API: defaults listed, field errors named, nothing written on a refusal
            listed = (await api.get(f"{base}/settings/templates", headers=admin)).json()
            due_sms = next(t for t in listed if (t["event"], t["kind"]) == ("DUE_TODAY", "sms"))
            assert due_sms["isDefault"] and due_sms["needsDltId"]
            assert {v["name"] for v in due_sms["variables"]} >= {"amount", "due_date", "payment_link"}
            for body, field in (
                ({"body": "Pay {{ amount }}"}, "dltTemplateId"),
                ({"body": "Pay {{ amount }}", "dltTemplateId": "REPLACE-WITH-DLT-TEMPLATE-ID"}, "dltTemplateId"),
                ({"body": "Pay {{ amount }} {{ utr }}", "dltTemplateId": "1107161234567890123"}, "body"),
                ({"body": "{{ amount.__class__.__mro__ }}", "dltTemplateId": "1107161234567890123"}, "body"),
                ({"body": "Pay", "dltTemplateId": "1107161234567890123", "subject": "x"}, "subject"),
            ):
                resp = await api.put(url, json=body, headers=admin)
                assert resp.status_code == 422, resp.text
                assert field in [e["field"] for e in resp.json()["errors"]], resp.text
            resp = await api.put(f"{base}/settings/templates/DUE_TODAY/email", json={"body": "Hi"}, headers=admin)
            assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "subject"
            assert (await api.get(url, headers=admin)).json()["isDefault"]
            good = {
                "body": "{{ brand_name }}: pay {{ amount }} today: {{ payment_link }}",
                "dltTemplateId": "1107161234567890123",
            }
            assert (await api.put(url, json=good, headers=credit)).status_code == 403
            saved = await api.put(url, json=good, headers=admin)
            assert saved.status_code == 200 and not saved.json()["isDefault"] and not saved.json()["needsDltId"]
            preview = await api.post(
                f"{base}/settings/templates/preview",
                json={"event": "DUE_TODAY", "kind": "sms", "values": {"amount": 100_00}},
                headers=admin,
            )
            assert preview.status_code == 200, preview.text
            # the sample values, the amount replaced by the one given
            assert preview.json()["body"] == "Demo Finance: pay ₹100.00 today: https://pay.example/l/abc"
            bad = await api.post(
                f"{base}/settings/templates/preview", json={"event": "DUE_TODAY", "kind": "fax"}, headers=admin
            )
            assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "kind"

            # a notice now uses the saved template; the vendors' delivery reports mark it DELIVERED
            loan_id, phone = _customer_loan(db, brand_id, _phone())
            await MessagingActivities(db, http).send_notice(NoticeRequest(loan_id, "DUE_TODAY", f"{loan_id}:r", DUE))
            [sms] = (await sbx.get("/gupshup/messages", params={"to": phone})).json()
            assert sms["text"].endswith("pay ₹4,500.50 today: https://pay.example/l/1")
            assert sms["template"] == "1107161234567890123"

            def delivered() -> bool:
                rows = _rows(db, loan_id)
                return rows["sms"].status == "DELIVERED" and rows["email"].status == "DELIVERED"

            await eventually(delivered, timeout=20)
            rows = _rows(db, loan_id)
            assert rows["sms"].attempts[-1]["outcome"] == "report" and rows["sms"].attempts[-1]["status"] == "DELIVERED"
            assert rows["whatsapp"].status == "SENT"  # AiSensy sends no reports

            # the delivery log, masked
            log = await api.get(f"{base}/loans/{loan_id}/messages", headers=admin)
            assert log.status_code == 200, log.text
            kinds = {m["kind"]: m for m in log.json()}
            assert kinds["sms"]["status"] == "DELIVERED" and kinds["sms"]["recipient"] == "XXXXXX" + phone[-4:]
            assert kinds["sms"]["templateId"] == "1107161234567890123" and kinds["email"]["vendor"] == "sendgrid"
            assert phone not in log.text and "asha@example.com" not in log.text
            assert (await api.get(f"{base}/loans/{uuid.uuid4()}/messages", headers=admin)).status_code == 404

            # a late, lesser report never moves a message back
            late = [{"externalId": rows["sms"].vendor_message_id, "eventType": "SUBMITTED", "eventTs": 2}]
            resp = await api.post(f"/api/v1/webhooks/{brand_id}/gupshup?token={SANDBOX_SECRET}", json=late)
            assert resp.status_code == 200 and resp.json()["status"] == "delivered", resp.text
            assert _rows(db, loan_id)["sms"].status == "DELIVERED"
            # a report with a wrong token: 401; one for a message nobody sent: stored, answered 200
            report = [{"externalId": "nobody-sent-this", "eventType": "DELIVERED", "eventTs": 1}]
            wrong = await api.post(f"/api/v1/webhooks/{brand_id}/gupshup?token=nope", json=report)
            assert wrong.status_code == 401
            unknown = await api.post(f"/api/v1/webhooks/{brand_id}/gupshup?token={SANDBOX_SECRET}", json=report)
            assert unknown.status_code == 200 and unknown.json()["status"] == "unmatched", unknown.text
            again = await api.post(f"/api/v1/webhooks/{brand_id}/gupshup?token={SANDBOX_SECRET}", json=report)
            assert again.json()["status"] == "duplicate"
            with db.unit_of_work() as s:
                stored = s.scalars(select(WebhookEvent).where(WebhookEvent.provider == "dlr:gupshup")).all()
                assert any(e.payload.get("events", [{}])[0].get("externalId") == "nobody-sent-this" for e in stored)
            # a SendGrid report whose signature does not verify changes nothing
            forged = await api.post(
                f"/api/v1/webhooks/{brand_id}/sendgrid",
                json=[{"event": "bounce", "sg_message_id": rows["email"].vendor_message_id + ".x", "timestamp": 1}],
                headers={
                    "X-Twilio-Email-Event-Webhook-Signature": "MEUCIQ==",
                    "X-Twilio-Email-Event-Webhook-Timestamp": "1",
                },
            )
            assert forged.status_code == 401 and _rows(db, loan_id)["email"].status == "DELIVERED"

            # back to the default
            reset = await api.delete(url, headers=admin)
            assert reset.status_code == 200 and reset.json()["isDefault"]
        finally:
            await sbx.delete("/_messaging/webhooks/gupshup")
            await sbx.delete("/_messaging/webhooks/sendgrid")
            await driver.close()


async def test_a_notice_claims_and_records_its_kinds_together(db, brand, sandbox, monkeypatch) -> None:  # noqa: ANN001
    """A notice on three kinds is three transactions (load; claim every row; record every answer), the vendors
    called at once; a send that raises (not a vendor's fault) still leaves the others' answers recorded, and the
    retried activity sends only the one that did not go."""
    from activities.messaging import send

    loan_id, phone = _customer_loan(db, brand["brand_id"], _phone())
    transactions = 0
    real_tx = send.Sender._tx

    async def counted(self, fn):  # noqa: ANN001, ANN202
        nonlocal transactions
        transactions += 1
        return await real_tx(self, fn)

    monkeypatch.setattr(send.Sender, "_tx", counted)
    real_failover = send.call_with_failover
    broken = {"whatsapp"}

    async def failover(kind, config, http, op):  # noqa: ANN001, ANN202
        if kind in broken:
            raise RuntimeError("the worker lost its connection mid-send")
        return await real_failover(kind, config, http, op)

    monkeypatch.setattr(send, "call_with_failover", failover)
    async with httpx.AsyncClient(timeout=30) as http, httpx.AsyncClient(base_url=sandbox.url) as sbx:
        acts = MessagingActivities(db, http)
        req = NoticeRequest(loan_id, "DUE_TODAY", f"{loan_id}:due:1", DUE)
        with pytest.raises(RuntimeError, match="mid-send"):
            await acts.send_notice(req)
        assert transactions == 3
        rows = _rows(db, loan_id)
        assert {k: r.status for k, r in rows.items()} == {"sms": "SENT", "email": "SENT", "whatsapp": "QUEUED"}
        broken.clear()  # the activity's retry
        transactions = 0
        assert await acts.send_notice(req) == {"sms": "SENT", "whatsapp": "SENT", "email": "SENT"}
        assert transactions == 3
        assert len((await sbx.get("/gupshup/messages", params={"to": phone})).json()) == 1  # not sent twice
        assert len((await sbx.get("/aisensy/messages", params={"to": phone})).json()) == 1
        transactions = 0
        assert await acts.send_notice(req) == {"sms": "SENT", "whatsapp": "SENT", "email": "SENT"}
        assert transactions == 2  # all sent already: load and claim, nothing to record


def test_a_report_moves_its_message_only_up_and_is_logged(db, brand) -> None:  # noqa: ANN001
    """``reports.record`` straight on the database: the status moves only up, a failure's reason is kept only with
    its move, every report is appended to the attempts in order, the stored report names the loan once matched, a
    message id the brand used twice moves one message, and a repeat changes nothing."""
    from datetime import UTC, datetime

    from activities.messaging import reports
    from activities.providers.messaging.base import DeliveryUpdate

    brand_id = brand["brand_id"]
    loan_id, phone = _customer_loan(db, brand_id, _phone())
    vendor_id = f"gs-{uuid.uuid4().hex}"
    with db.unit_of_work() as s:
        for n in (1, 2):  # the same vendor message id on two rows (a vendor reusing ids): one moves
            s.add(
                CustomerMessage(
                    brand_id=brand_id, loan_id=loan_id, event="DUE_TODAY", kind="sms", vendor="gupshup",
                    recipient="XXXXXX" + phone[-4:], status="SENT", vendor_message_id=vendor_id,
                    attempts=[{"vendor": "gupshup", "outcome": "sent"}], idempotency_key=f"{loan_id}:k{n}:sms",
                )
            )  # fmt: skip

    def report(status: str, word: str, reason: str | None, event: str) -> dict:
        update = DeliveryUpdate(vendor_id, status, word, datetime(2026, 12, 5, 6, 0, tzinfo=UTC), reason, event)
        with db.unit_of_work() as s:
            return reports.record(s, brand_id, "gupshup", event.encode(), [update], {"e": event})

    def rows() -> list[CustomerMessage]:
        with db.unit_of_work() as s:
            found = s.scalars(select(CustomerMessage).where(CustomerMessage.vendor_message_id == vendor_id)).all()
            for r in found:
                s.expunge(r)
            return sorted(found, key=lambda r: len(r.attempts), reverse=True)

    first = f"ev-{uuid.uuid4().hex}"
    assert report("FAILED", "UNDELIVERED", "handset off", first) == {
        "status": "delivered",
        "event_id": first,
        "matched": 1,
    }
    moved, untouched = rows()
    assert (moved.status, moved.error) == ("FAILED", "handset off")
    assert (untouched.status, untouched.error, len(untouched.attempts)) == ("SENT", None, 1)
    # a lesser report (SENT after FAILED) moves nothing and keeps the reason, but is logged
    second = f"ev-{uuid.uuid4().hex}"
    assert report("SENT", "SUBMITTED", "late", second)["status"] == "delivered"
    moved = next(r for r in rows() if r.id == moved.id)
    assert (moved.status, moved.error) == ("FAILED", "handset off")
    assert [a.get("status") for a in moved.attempts] == [None, "UNDELIVERED", "SUBMITTED"]
    assert moved.attempts[1] == {
        "vendor": "gupshup", "outcome": "report", "status": "UNDELIVERED", "at": "2026-12-05T06:00:00+00:00",
        "event": first,
    }  # fmt: skip
    # READ outranks FAILED: it moves, without a reason of its own
    third = f"ev-{uuid.uuid4().hex}"
    report("READ", "READ", None, third)
    moved = next(r for r in rows() if r.id == moved.id)
    assert (moved.status, moved.error, len(moved.attempts)) == ("READ", "handset off", 4)
    # a repeat of a report is stored once and applies nothing
    assert report("FAILED", "UNDELIVERED", "again", first)["status"] == "duplicate"
    assert len(next(r for r in rows() if r.id == moved.id).attempts) == 4
    with db.unit_of_work() as s:
        stored = {e.event_id: e for e in s.scalars(select(WebhookEvent).where(WebhookEvent.provider == "dlr:gupshup"))}
        assert stored[first].loan_id == loan_id and stored[first].delivered_at is not None
        assert stored[third].loan_id == loan_id


def test_a_batch_of_reports_applies_each_event_once_however_the_vendor_groups_them(db, brand) -> None:  # noqa: ANN001
    """Gupshup and SendGrid put the events of many messages in one POST, and SendGrid may send an event again in
    another batch: a batch is stored once (by its body), each event moves its message once (by its event id), and a
    batch that starts with an event already taken still applies the ones after it."""
    from datetime import UTC, datetime

    from activities.messaging import reports
    from activities.providers.messaging.base import DeliveryUpdate

    brand_id = brand["brand_id"]
    loan_id, phone = _customer_loan(db, brand_id, _phone())
    ids = [f"sg-{uuid.uuid4().hex}" for _ in range(2)]
    with db.unit_of_work() as s:
        for n, vendor_id in enumerate(ids):
            s.add(
                CustomerMessage(
                    brand_id=brand_id, loan_id=loan_id, event="DUE_TODAY", kind="email", vendor="sendgrid",
                    recipient="a***@example.com", status="SENT", vendor_message_id=vendor_id, attempts=[],
                    idempotency_key=f"{loan_id}:b{n}:email",
                )
            )  # fmt: skip
    at = datetime(2026, 12, 5, 6, 0, tzinfo=UTC)
    processed = [DeliveryUpdate(i, "SENT", "processed", at, None, f"p-{i}") for i in ids]
    delivered = [DeliveryUpdate(i, "DELIVERED", "delivered", at, None, f"d-{i}") for i in ids]

    def record(raw: bytes, updates: list[DeliveryUpdate]) -> dict:
        with db.unit_of_work() as s:
            return reports.record(s, brand_id, "sendgrid", raw, updates, [u.event_id for u in updates])

    def rows() -> dict[str, CustomerMessage]:
        with db.unit_of_work() as s:
            found = s.scalars(select(CustomerMessage).where(CustomerMessage.vendor_message_id.in_(ids))).all()
            for r in found:
                s.expunge(r)
            return {r.vendor_message_id: r for r in found}

    first = record(b"batch-1", [processed[0], processed[1], delivered[0]])
    assert (first["status"], first["matched"]) == ("delivered", 3)
    assert first["event_id"] != "p-" + ids[0]  # a batch is keyed by its body, not by its first event
    assert record(b"batch-1", [processed[0], processed[1], delivered[0]])["status"] == "duplicate"  # a retry
    # regrouped: two events already taken, then one new
    again = record(b"batch-2", [delivered[0], processed[1], delivered[1]])
    assert (again["status"], again["matched"]) == ("delivered", 3)
    got = rows()
    assert [a["event"] for a in got[ids[0]].attempts] == [f"p-{ids[0]}", f"d-{ids[0]}"]
    assert [a["event"] for a in got[ids[1]].attempts] == [f"p-{ids[1]}", f"d-{ids[1]}"]
    assert got[ids[0]].status == got[ids[1]].status == "DELIVERED"


async def test_sendgrid_batches_as_large_as_sendgrid_sends_are_taken(app, brand) -> None:  # noqa: ANN001
    """SendGrid posts batches of up to 768 KB (the adapter's docstring): one that large, signed, is answered 200,
    not refused for its size."""
    import json

    from sandbox.sendgrid_events import sendgrid_headers

    event = {"email": "a@example.com", "event": "delivered", "timestamp": 1, "sg_message_id": "", "sg_event_id": ""}
    events, size = [], 2
    while size < 760 * 1024:
        n = len(events)
        events.append({**event, "sg_message_id": f"nobody-{n}.filter", "sg_event_id": f"big-{uuid.uuid4().hex}"})
        size += len(json.dumps(events[-1])) + 2
    body = json.dumps(events).encode()
    assert 700 * 1024 < len(body) <= 768 * 1024
    async with httpx.AsyncClient(timeout=60) as http:
        resp = await http.post(
            f"{app.api.url}/api/v1/webhooks/{brand['brand_id']}/sendgrid",
            content=body,
            headers={"Content-Type": "application/json", **sendgrid_headers(body, SANDBOX_SECRET, None)},
        )
    assert resp.status_code == 200, resp.text[:300]
    assert resp.json()["status"] == "unmatched"  # stored, none of those messages sent by this brand


def test_a_notices_rows_are_claimed_and_finished_in_batches(db, brand) -> None:  # noqa: ANN001
    """``claim_all`` creates the rows not there yet (QUEUED) and returns every one, an earlier try's as it left it, in
    two statements whatever the number of kinds; ``finish_all`` records every outcome (attempts appended) in one
    batch."""
    from sqlalchemy import event

    from activities.messaging.log import claim_all, finish_all

    brand_id = brand["brand_id"]
    loan_id, phone = _customer_loan(db, brand_id, _phone())
    keys = {f"{loan_id}:n:{kind}": kind for kind in ("sms", "whatsapp", "email")}

    def fields(kind: str) -> dict:
        return {"brand_id": brand_id, "loan_id": loan_id, "event": "DUE_TODAY", "kind": kind, "recipient": "XXXXXX"}

    statements: list[str] = []

    def counted(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", counted)
    try:
        with db.unit_of_work() as s:  # an earlier try claimed the SMS and sent it
            claim_all(s, {f"{loan_id}:n:sms": fields("sms")})[f"{loan_id}:n:sms"].status = "SENT"
        statements.clear()
        with db.unit_of_work() as s:
            rows = claim_all(s, {key: fields(kind) for key, kind in keys.items()})
            assert {rows[key].kind: rows[key].status for key in keys} == {
                "sms": "SENT", "whatsapp": "QUEUED", "email": "QUEUED",
            }  # fmt: skip
        assert len(statements) == 2, statements
        statements.clear()
        with db.unit_of_work() as s:
            finish_all(
                s,
                {
                    f"{loan_id}:n:whatsapp": {"status": "SENT", "vendor": "aisensy", "vendor_message_id": "wa-1",
                                              "attempts": [{"vendor": "aisensy", "outcome": "ok"}], "error": None},
                    f"{loan_id}:n:email": {"status": "FAILED", "vendor": "brevo", "vendor_message_id": "",
                                           "attempts": [{"vendor": "sendgrid"}, {"vendor": "brevo"}], "error": "down"},
                },
            )  # fmt: skip
        assert len(statements) == 1, statements
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)
    rows = _rows(db, loan_id)
    assert (rows["whatsapp"].status, rows["whatsapp"].vendor_message_id) == ("SENT", "wa-1")
    assert rows["whatsapp"].attempts == [{"vendor": "aisensy", "outcome": "ok"}]
    assert (rows["email"].status, rows["email"].vendor_message_id, rows["email"].error) == ("FAILED", None, "down")
    assert [a["vendor"] for a in rows["email"].attempts] == ["sendgrid", "brevo"]
    assert rows["sms"].status == "SENT" and rows["sms"].attempts == []
