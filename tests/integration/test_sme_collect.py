"""A financed invoice's collection over the real stack (API, worker, Temporal dev server, PostgreSQL, the sandbox's
Razorpay Smart Collect twin): the virtual account opened at funding and shown to the business and to staff; the
buyer's transfer into it, reported by the signed ``virtual_account.credited`` webhook, counted once (the same event
again, the same UTR under a new event id, a forged signature: nothing more counted); a credit paid outside it
recorded by one staff member and approved by another (the maker refused as checker, a UTR already counted refused),
closing the invoice with the reserve to the paisa and the account closed; the business's own actions in the audit
log with the business as actor. ``LOS_RECORD_HISTORIES=1`` saves the run for the replay suite
(``invoice_virtual_account_*``)."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from typing import Any

import httpx
from sqlalchemy import select

from activities.providers import signing
from db.models import AuditLog, SmeBusiness
from los.demo_sme import SmeDriver, business_pan
from los.seed import SANDBOX_SECRET
from tests.conftest import record_histories
from tests.integration.test_sme_api import driving, sme_app  # noqa: F401  (the fixture)

INVOICE = 2_50_000_00  # ₹2,50,000: the advance is 80 %, ₹2,00,000


async def _funded(sme: SmeDriver, phone: str) -> tuple[dict[str, str], dict[str, Any]]:
    headers, _ = await sme.onboard(phone, business_pan())
    invoice = await sme.upload(headers, f"VA-{phone}", "250000.00")
    req = await sme.request(headers, invoice["id"])
    deadline = time.monotonic() + 90
    offered = await sme.until(headers, req["id"], {"OFFERED"}, deadline)
    assert offered["status"] == "OFFERED", offered
    url = f"/api/v1/sme/requests/{req['id']}/accept"
    assert (await sme.d.api.post(url, json={"lenderId": "own-book"}, headers=headers)).status_code == 200
    await sme.staff("CREDIT_EXECUTIVE", req["id"], "recommend")
    await sme.staff("SANCTION_MANAGER", req["id"], "approve")
    funded = await sme.until(headers, req["id"], {"FUNDED"}, deadline)
    assert funded["status"] == "FUNDED", funded
    return headers, funded


async def _collected(sme: SmeDriver, headers: dict[str, str], rid: str, paise: int) -> dict[str, Any]:
    for _ in range(200):
        row = await sme.get(headers, rid)
        if row["collectedPaise"] >= paise:
            return row
        await asyncio.sleep(0.1)
    raise AssertionError(f"collected {row['collectedPaise']}, never {paise}")


def _signed(payload: dict, event_id: str, secret: str = SANDBOX_SECRET) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-Razorpay-Signature": signing.sign(body, secret),
               "X-Razorpay-Event-Id": event_id}  # fmt: skip
    return body, headers


async def test_a_virtual_account_credit_and_a_staff_credit_close_the_invoice_each_counted_once(
    sme_app, brand, sandbox, db  # noqa: ANN001, F811
) -> None:
    async with driving(sme_app, sandbox, db, brand) as driver:
        sme, api, bid = SmeDriver(driver), driver.api, brand["brand_id"]
        headers, funded = await _funded(sme, f"7{uuid.uuid4().int % 10**9:09d}")
        rid = funded["id"]
        # the business and staff see the account the buyer pays into
        account = funded["virtualAccount"]
        assert account["accountNumber"].startswith("2223330") and account["ifsc"] == "RATN0VAAPIS"
        assert account["status"] == "ACTIVE"
        staff_view = f"/api/v1/partner/brand/{bid}/sme/requests/{rid}"
        viewer = await driver.staff_headers("CREDIT_EXECUTIVE")
        assert (await api.get(staff_view, headers=viewer)).json()["virtualAccount"] == account
        funded_sms = await driver.latest_sms(funded_phone(funded, db), "advanced against invoice")
        assert account["accountNumber"] in funded_sms and "RATN0VAAPIS" in funded_sms
        with db.unit_of_work() as s:
            va_id = _va_id(s, rid)

        # the buyer pays ₹1,00,000 into it by NEFT: the sandbox's test payment sends the signed webhook
        hook = f"{sme_app.settings.api_url}/api/v1/sme/webhooks/{bid}/virtual-accounts/razorpay"
        paid = await driver.sandbox.post(
            f"/razorpay/_test/virtual_accounts/{va_id}/payments",
            json={"amount": 1_00_000_00, "method": "NEFT", "webhook_url": hook},
        )
        assert paid.status_code == 200, paid.text
        credit = paid.json()
        row = await _collected(sme, headers, rid, 1_00_000_00)
        assert row["status"] == "FUNDED"
        assert [(p["source"], p["utr"], p["amountPaise"]) for p in row["payments"]] == [
            ("VA:NEFT", credit["utr"], 1_00_000_00)
        ]
        # the same event again: DUPLICATE; the same UTR under a new event id: counted once; a forged signature: 401
        delivered = next(
            d for d in (await driver.sandbox.get("/_webhooks")).json()
            if d["headers"].get("X-Razorpay-Event-Id") == credit["event_id"]
        )
        path = f"/api/v1/sme/webhooks/{bid}/virtual-accounts/razorpay"
        body, again = _signed(delivered["payload"], credit["event_id"])
        assert (await api.post(path, content=body, headers=again)).json()["outcome"] == "DUPLICATE"
        body, renamed = _signed(delivered["payload"], f"evt_{uuid.uuid4().hex[:14]}")
        assert (await api.post(path, content=body, headers=renamed)).json()["outcome"] == "SIGNALLED"
        body, forged = _signed(delivered["payload"], f"evt_{uuid.uuid4().hex[:14]}", secret="not-the-secret")
        assert (await api.post(path, content=body, headers=forged)).status_code == 401
        unsigned = {k: v for k, v in again.items() if k != "X-Razorpay-Signature"}
        assert (await api.post(path, content=body, headers=unsigned)).status_code == 401
        bad = {**delivered["payload"], "payload": {**delivered["payload"]["payload"], "bank_transfer": {"entity": {}}}}
        body, malformed = _signed(bad, f"evt_{uuid.uuid4().hex[:14]}")
        resp = await api.post(path, content=body, headers=malformed)
        assert resp.status_code == 422 and "bank_reference" in resp.json()["errors"][0]["field"]
        await asyncio.sleep(1.5)
        assert (await sme.get(headers, rid))["collectedPaise"] == 1_00_000_00

        # staff: the rest, paid by RTGS to the lender's account, recorded by one and approved by another
        maker = await driver.staff_headers("COLLECTION_EXECUTIVE")
        checker = await driver.staff_headers("COLLECTION_MANAGER")
        credits = f"/api/v1/partner/brand/{bid}/sme/requests/{rid}/credits"
        today = funded["fundedOn"]
        used = {"amount": "150000.00", "paidOn": today, "mode": "NEFT", "utr": credit["utr"]}
        resp = await api.post(credits, json=used, headers=maker)
        assert resp.status_code == 409 and resp.json()["errors"][0]["field"] == "utr"
        for wrong, field in (({"utr": "12345"}, "utr"), ({"mode": "CASH"}, "mode"), ({"amount": "0"}, "amount"),
                             ({"paidOn": "2999-01-01"}, "paidOn")):  # fmt: skip
            body = {"amount": "150000.00", "paidOn": today, "mode": "RTGS", "utr": f"ICIC{'7' * 18}", **wrong}
            resp = await api.post(credits, json=body, headers=maker)
            assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == field, (wrong, resp.text)
        rtgs = f"ICICR{uuid.uuid4().int % 10**17:017d}"
        body = {"amount": "150000.00", "paidOn": today, "mode": "RTGS", "utr": rtgs.lower(), "remarks": "by RTGS"}
        recorded = await api.post(credits, json=body, headers=maker)
        assert recorded.status_code == 201, recorded.text
        cid = recorded.json()["id"]
        assert recorded.json()["status"] == "PENDING" and recorded.json()["utr"] == rtgs
        assert (await api.post(credits, json=body, headers=maker)).status_code == 409  # the UTR once per brand
        queue = await api.get(f"/api/v1/partner/brand/{bid}/sme/credits", headers=checker)
        assert cid in [c["id"] for c in queue.json()["items"]]  # the checkers' queue
        decide = f"/api/v1/partner/brand/{bid}/sme/credits/{cid}"
        own = await api.post(f"{decide}/approve", headers=maker, json={})
        assert own.status_code == 403  # the maker may not approve (also lacks collections.manage)
        boss = await driver.staff_headers("SUPER_ADMIN")
        as_boss = await api.post(credits, json={**body, "utr": f"ICICR{uuid.uuid4().int % 10**17:017d}"}, headers=boss)
        other = f"/api/v1/partner/brand/{bid}/sme/credits/{as_boss.json()['id']}"
        assert (await api.post(f"{other}/approve", headers=boss, json={})).status_code == 403  # maker-checker
        rejected = await api.post(f"{other}/reject", headers=checker, json={"reason": "a duplicate entry"})
        assert rejected.json()["status"] == "REJECTED"
        approved = await api.post(f"{decide}/approve", headers=checker, json={})
        assert approved.status_code == 200 and approved.json()["status"] == "APPROVED", approved.text
        assert (await api.post(f"{decide}/approve", headers=checker, json={})).status_code == 409  # decided once
        deadline = time.monotonic() + 60
        closed = await sme.until(headers, rid, {"CLOSED"}, deadline)
        if os.environ.get("LOS_RECORD_HISTORIES"):  # refresh tests/histories from this run (the replay suite)
            await record_histories(sme_app.client, f"invoice-{rid}", "invoice_virtual_account")

    assert closed["status"] == "CLOSED" and closed["collectedPaise"] == INVOICE
    assert closed["releasePaise"] == INVOICE - closed["advancePaise"] - closed["discountPaise"]
    assert sorted((p["source"], p["amountPaise"]) for p in closed["payments"]) == [
        ("OFFLINE:RTGS", 1_50_000_00), ("VA:NEFT", 1_00_000_00)
    ]
    assert closed["virtualAccount"]["status"] == "CLOSED"
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        assert (await http.get(f"/razorpay/virtual_accounts/{va_id}")).json()["status"] == "closed"
        late = await http.post(f"/razorpay/_test/virtual_accounts/{va_id}/payments",
                               json={"amount": 100, "method": "IMPS", "webhook_url": hook})  # fmt: skip
        assert late.status_code == 400  # a closed account: the bank returns the transfer
    with db.unit_of_work() as s:
        business = s.scalars(select(SmeBusiness).where(SmeBusiness.id == closed["businessId"])).one()
        rows = s.scalars(select(AuditLog).where(AuditLog.brand_id == bid).order_by(AuditLog.created_at)).all()
    mine = [(r.action, r.entity_id) for r in rows if r.actor_id == business.customer_id]
    assert {r.actor_role for r in rows if r.actor_id == business.customer_id} == {"SME_BUSINESS"}
    assert [a for a, _ in mine] == ["sme.business.create", "sme.invoice.upload", "sme.request.create",
                                    "sme.request.accept"]  # fmt: skip
    assert mine[0][1] == business.id and mine[2][1] == rid and mine[3][1] == rid
    staff_actions = [r.action for r in rows if r.entity_id == cid]
    assert staff_actions == ["sme.credit.recorded", "sme.credit.approved"]


def funded_phone(row: dict[str, Any], db: Any) -> str:  # noqa: ANN401
    """The business's phone (its customer's)."""
    from db.models import Customer

    with db.unit_of_work() as s:
        business = s.get_one(SmeBusiness, row["businessId"])
        return s.get_one(Customer, business.customer_id).phone


def _va_id(session: Any, request_id: str) -> str:  # noqa: ANN401
    from db.models import SmeVirtualAccount

    return session.scalars(select(SmeVirtualAccount.vendor_account_id).where(
        SmeVirtualAccount.request_id == request_id)).one()  # fmt: skip


async def test_the_demo_scenario_pays_into_the_virtual_account_in_two_transfers(sme_app, brand, sandbox, db) -> None:  # noqa: ANN001, F811
    from los.demo_scenarios import SCENARIOS
    from los.demo_sme import invoice_virtual_account

    assert SCENARIOS["invoice-virtual-account"] is invoice_virtual_account
    async with driving(sme_app, sandbox, db, brand) as driver:
        journey = await invoice_virtual_account(driver, uuid.uuid4().int % 10**8)
    assert journey.status == "CLOSED" and journey.total_collected == 3_00_000_00
    assert journey.release == 3_00_000_00 - journey.advance - journey.discount
