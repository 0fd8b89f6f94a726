"""SME invoice financing over the real stack (API, worker with the invoice workflow and its activities, Temporal dev
server, PostgreSQL, the sandbox's vendors): an invoice financed, paid by the buyer through the payment link and its
reserve released to the paisa; a duplicate refused with its reason; maker-checker through the staff API (the maker
refused as checker, 403); bad input refused with 422 naming the field, nothing stored; every new route out of reach
of another brand's staff and another business; the migration's tables match the models."""

from __future__ import annotations

import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest_asyncio
from sqlalchemy import func, select
from temporalio.worker import Worker

from activities.kyc import KycActivities
from activities.loan import LoanActivities
from activities.messaging import MessagingActivities
from activities.sme import SmeActivities
from activities.storage import LocalStorage
from api.app import create_app
from db.models import AuditLog, Brand, SmeInvoice, SmeRequestEvent
from domain.sme.ids import make_gstin
from los.demo import Driver
from los.demo_sme import PDF, SmeDriver, business_pan, duplicate_invoice, invoice_financing
from los.seed import seed_brand
from los.settings import Settings
from tests.conftest import App, ThreadedServer, free_port, record_histories
from worker import WORKFLOWS
from workflows.invoice_financing import InvoiceFinancingWorkflow


def sme_providers(db, brand_id: str, sandbox_url: str) -> None:  # noqa: ANN001
    """The brand lists the SME vendors (the sandbox's twins) under ``providers.sme``."""
    with db.unit_of_work() as s:
        brand = s.get_one(Brand, brand_id)
        providers = dict(brand.config.get("providers") or {})
        providers["sme"] = [
            {"vendor": v, "base_url": sandbox_url, "api_key": f"sandbox-{v}-key", "primary": v == "karza"}
            for v in ("karza", "perfios", "crif")
        ]
        brand.config = {**brand.config, "providers": providers}


def seed_sme_request(session, brand_id: str, customer_id: str) -> str:  # noqa: ANN001
    """A business of ``customer_id``, an invoice and a financing request of brand ``brand_id`` written straight (for
    walks that need one of each: tests/integration/test_brand_isolation.py); the request's id."""
    from datetime import date

    from db.models import SmeBusiness, SmeFinancingRequest, SmeOfflineCredit

    pan = business_pan()
    business = SmeBusiness(brand_id=brand_id, customer_id=customer_id, legal_name="B Traders", pan=pan,
                           gstin=make_gstin("27", pan), status="PENDING", verification={})  # fmt: skip
    session.add(business)
    session.flush()
    invoice = SmeInvoice(
        brand_id=brand_id, business_id=business.id, number="B-1", number_key="B1", seller_gstin=business.gstin,
        buyer_gstin=make_gstin("29", business_pan("C", "B")), amount=1_000_00, invoice_date=date(2026, 1, 1),
        due_date=date(2099, 1, 1), document_key="sme/b.pdf", document_sha256="0" * 64,
    )  # fmt: skip
    session.add(invoice)
    session.flush()
    request = SmeFinancingRequest(brand_id=brand_id, business_id=business.id, invoice_id=invoice.id, amount=1_000_00,
                                  status="APPROVAL_PENDING", score_factors={})  # fmt: skip
    session.add(request)
    session.flush()
    session.add(
        SmeOfflineCredit(
            brand_id=brand_id, request_id=request.id, amount=1_000_00, paid_on=date(2026, 1, 2), mode="NEFT",
            utr=f"HDFCN{uuid.uuid4().int % 10**11:011d}", status="PENDING", recorded_by=str(uuid.uuid4()),
        )
    )  # a staff-recorded credit (sme/credits/{id}/approve, reject)
    session.flush()
    return request.id


@pytest_asyncio.fixture
async def sme_app(dev_env, database_url, db, storage_dir, renderer) -> AsyncIterator[App]:  # noqa: ANN001
    """The API and one worker with every workflow and activity plus the invoice workflow and the SME activities."""
    queue = f"sme-{uuid.uuid4().hex[:8]}"
    port = free_port()
    settings = Settings(
        database_url=database_url,
        temporal_address=dev_env.client.service_client.config.target_host,
        task_queue=queue,
        api_port=port,
        storage_dir=storage_dir,
    )
    key = settings.field_key()
    async with httpx.AsyncClient(timeout=30) as http:
        store = LocalStorage(storage_dir)
        activities = (
            LoanActivities(db, http, store, renderer, settings.api_url, key).all()
            + KycActivities(db, http, store, settings.api_url, key).all()
            + MessagingActivities(db, http).all()
            + SmeActivities(db, http, settings.api_url, key).all()
        )
        with ThreadedServer(create_app(settings), port=port) as api:
            workflows = [*WORKFLOWS, *([] if InvoiceFinancingWorkflow in WORKFLOWS else [InvoiceFinancingWorkflow])]
            async with Worker(dev_env.client, task_queue=queue, workflows=workflows, activities=activities):
                yield App(api, dev_env.client, queue, settings, http)


@contextlib.asynccontextmanager
async def driving(app: App, sandbox, db, brand: dict) -> AsyncIterator[Driver]:  # noqa: ANN001
    sme_providers(db, brand["brand_id"], sandbox.url)
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"], timeout=90)
    try:
        yield driver
    finally:
        await driver.close()


async def test_invoice_financed_paid_and_reserve_released(sme_app, brand, sandbox, db) -> None:  # noqa: ANN001
    async with driving(sme_app, sandbox, db, brand) as driver:
        journey = await invoice_financing(driver, uuid.uuid4().int % 10**8)
        if os.environ.get("LOS_RECORD_HISTORIES"):  # refresh tests/histories from this run (the replay suite)
            await record_histories(sme_app.client, f"invoice-{journey.loan_id}", "invoice_financing")
        funded_sms = await driver.latest_sms(journey.phone, "advanced against invoice")
        closed_sms = await driver.latest_sms(journey.phone, "reserve of")
    assert "₹2,00,000.00" in funded_sms and "released" in closed_sms
    assert journey.status == "CLOSED"
    assert journey.advance == 2_00_000_00  # 80 % of ₹2,50,000 (the brand's default own book)
    # ₹2,00,000 at 14 % a year for 30 days, Actual/365: ₹2,301.37
    assert journey.discount == 2_301_37
    assert journey.release == 2_50_000_00 - 2_00_000_00 - 2_301_37
    assert journey.total_collected == 2_50_000_00
    with db.unit_of_work() as s:
        kinds = s.scalars(select(SmeRequestEvent.kind).where(SmeRequestEvent.request_id == journey.loan_id)).all()
        audited = s.scalars(
            select(AuditLog.action).where(AuditLog.entity_id == journey.loan_id).order_by(AuditLog.created_at)
        ).all()
    assert {"MAKER", "CHECKER", "STATUS"} <= set(kinds)
    # the business's own actions and the staff's decisions
    assert audited == ["sme.request.create", "sme.request.accept", "sme.maker.approve", "sme.checker.approve"]


async def test_duplicate_invoice_refused_with_its_reason(sme_app, brand, sandbox, db) -> None:  # noqa: ANN001
    async with driving(sme_app, sandbox, db, brand) as driver:
        journey = await duplicate_invoice(driver, uuid.uuid4().int % 10**8)
    assert (journey.status, journey.reason and journey.reason.startswith("this invoice")) == ("REFUSED", True)


async def _offered(sme: SmeDriver, phone: str) -> tuple[dict[str, str], dict[str, Any]]:
    headers, _ = await sme.onboard(phone, business_pan())
    invoice = await sme.upload(headers, f"MC-{phone}", "100000.00")
    req = await sme.request(headers, invoice["id"])
    import time

    offered = await sme.until(headers, req["id"], {"OFFERED"}, time.monotonic() + 60)
    assert offered["status"] == "OFFERED", offered
    return headers, offered


async def test_maker_checker_bad_input_and_brand_isolation(sme_app, brand, sandbox, db) -> None:  # noqa: ANN001
    other = seed_brand(db, sandbox.url, code=f"o{uuid.uuid4().hex[:7]}")
    async with driving(sme_app, sandbox, db, brand) as driver:
        sme = SmeDriver(driver)
        api = driver.api
        headers, req = await _offered(sme, f"6{uuid.uuid4().int % 10**9:09d}")
        rid, bid = req["id"], brand["brand_id"]
        # the business: a wrong lender is 422 naming lenderId, nothing changed
        wrong = await api.post(f"/api/v1/sme/requests/{rid}/accept", json={"lenderId": "nobody"}, headers=headers)
        assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "lenderId"
        ok = await api.post(f"/api/v1/sme/requests/{rid}/accept", json={"lenderId": "own-book"}, headers=headers)
        assert ok.json()["status"] == "APPROVAL_PENDING"
        # another business (same brand) cannot see or act on it
        stranger, _ = await sme.onboard(f"6{uuid.uuid4().int % 10**9:09d}", business_pan())
        assert (await api.get(f"/api/v1/sme/requests/{rid}", headers=stranger)).status_code == 404
        assert (await api.post(f"/api/v1/sme/requests/{rid}/cancel", json={}, headers=stranger)).status_code == 404
        # staff: the checker before the maker is 409; the same person as maker and checker is 403
        boss = await driver.staff_headers("SUPER_ADMIN")
        base = f"/api/v1/partner/brand/{bid}/sme/requests/{rid}"
        assert (await api.post(f"{base}/approve", headers=boss, json={})).status_code == 409
        assert (await api.post(f"{base}/recommend", headers=boss, json={})).json()["status"] == "APPROVAL_PENDING"
        same = await api.post(f"{base}/approve", headers=boss, json={})
        assert same.status_code == 403 and "maker" in same.text
        # a credit executive may not approve as checker (permission)
        credit = await driver.staff_headers("CREDIT_EXECUTIVE")
        assert (await api.post(f"{base}/approve", headers=credit, json={})).status_code == 403
        queue = await api.get(f"/api/v1/partner/brand/{bid}/sme/queues/approval", headers=credit)
        assert rid in [r["id"] for r in queue.json()["items"]]
        bad_queue = await api.get(f"/api/v1/partner/brand/{bid}/sme/queues/nowhere", headers=credit)
        assert bad_queue.status_code == 422 and bad_queue.json()["errors"][0]["field"] == "queue"
        # another brand's staff, each with the permission the route asks in their own brand: refused here (403/404),
        # and in their brand's path our request is not found (404)
        outsider = Driver(str(driver.api.base_url), sandbox.url, other["brand_code"])
        try:
            routes = (
                ("ADMIN", "GET", base), ("ADMIN", "GET", f"/api/v1/partner/brand/{bid}/sme/queues/approval"),
                ("ADMIN", "GET", f"/api/v1/partner/brand/{bid}/sme/businesses/{req['businessId']}"),
                ("CREDIT_EXECUTIVE", "POST", f"{base}/recommend"), ("CREDIT_EXECUTIVE", "POST", f"{base}/reject"),
                ("SANCTION_MANAGER", "POST", f"{base}/approve"), ("LOAN_EXECUTIVE", "POST", f"{base}/retry"),
                ("LOAN_EXECUTIVE", "POST", f"{base}/reject-hold"),
            )  # fmt: skip
            for role, method, path in routes:
                their = await outsider.staff_headers(role)
                resp = await api.request(method, path, headers=their, json={} if method == "POST" else None)
                assert resp.status_code in (403, 404), (path, resp.status_code)
                mine = path.replace(bid, other["brand_id"])
                resp = await api.request(method, mine, headers=their, json={} if method == "POST" else None)
                if "/queues/" in mine:  # their own queue: ours is not in it
                    assert rid not in [r["id"] for r in resp.json()["items"]]
                else:
                    assert resp.status_code == 404, (mine, resp.status_code)
            # a business of the other brand: our request, invoice and business are not found
            their_business, _ = await SmeDriver(outsider).onboard(f"6{uuid.uuid4().int % 10**9:09d}", business_pan())
            for path in (f"/api/v1/sme/requests/{rid}", f"/api/v1/sme/invoices/{req['invoiceId']}"):
                assert (await api.get(path, headers=their_business)).status_code == 404, path
            for action, body in (("accept", {"lenderId": "own-book"}), ("cancel", {})):
                resp = await api.post(f"/api/v1/sme/requests/{rid}/{action}", json=body, headers=their_business)
                assert resp.status_code == 404, action
            assert rid not in [
                r["id"] for r in (await api.get("/api/v1/sme/requests", headers=their_business)).json()["items"]
            ]
        finally:
            await outsider.close()
        # callbacks: a bad signature is 403, a vendor the brand does not have 404
        hook = f"/api/v1/sme/webhooks/{bid}"
        assert (await api.post(f"{hook}/razorpay", json={"event": "payment_link.paid"})).status_code == 403
        assert (await api.post(f"{hook}/nobody", json={})).status_code == 404
        assert (await api.get(f"/api/v1/sme/requests/{rid}", headers=headers)).json()["collectedPaise"] == 0
        # the checker approves; the request moves on
        manager = await driver.staff_headers("SANCTION_MANAGER")
        assert (await api.post(f"{base}/approve", headers=manager, json={})).json()["status"] == "DISBURSING"


async def test_bad_input_is_refused_naming_the_field_and_nothing_stored(sme_app, brand, sandbox, db) -> None:  # noqa: ANN001
    async with driving(sme_app, sandbox, db, brand) as driver:
        api = driver.api
        headers = await driver.register(f"6{uuid.uuid4().int % 10**9:09d}")
        pan = business_pan()
        good = make_gstin("27", pan)
        wrong_check = good[:14] + ("1" if good[14] == "0" else "0")  # (a fixed "0" is right for 1 PAN in 36)
        cases = [
            ({"legalName": "X Traders", "pan": pan, "gstin": make_gstin("27", business_pan())}, "gstin"),
            ({"legalName": "X Traders", "pan": pan, "gstin": wrong_check}, "gstin"),
            ({"legalName": "X Traders", "pan": "ABCZE1234F", "gstin": make_gstin("27", "ABCZE1234F")}, "pan"),
            ({"legalName": "X Co", "pan": business_pan("C"), "gstin": "x" * 15}, "gstin"),
        ]
        for body, field in cases:
            resp = await api.post("/api/v1/sme/business", json=body, headers=headers)
            assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == field, (body, resp.text)
        assert (await api.get("/api/v1/sme/business", headers=headers)).status_code == 404
        body = {"legalName": "X Traders", "pan": pan, "gstin": make_gstin("27", pan)}
        assert (await api.post("/api/v1/sme/business", json=body, headers=headers)).status_code == 201
        fields = {"number": "B-1", "buyerGstin": make_gstin("29", business_pan("C", "B")), "amount": "1000.00",
                  "invoiceDate": "2020-01-01", "dueDate": "2099-01-01"}  # fmt: skip

        async def upload(file: bytes, **changes: Any) -> httpx.Response:
            parts = {"file": ("i.pdf", file, "application/pdf"), "invoice": (None, json.dumps({**fields, **changes}))}
            return await api.post("/api/v1/sme/invoices", files=parts, headers=headers)

        for resp, field in (
            (await upload(b"not a pdf"), "file"),
            (await upload(PDF, dueDate="2020-01-02"), "invoice.dueDate"),
            (await upload(PDF, amount=1000), "invoice.amount"),
            (await upload(PDF, buyerGstin="27AAAAA0000A1Z0"), "invoice.buyerGstin"),
            (await upload(PDF, invoiceDate="2999-01-01"), "invoice.invoiceDate"),
        ):
            assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == field, resp.text
        with db.unit_of_work() as s:
            stored = select(func.count()).select_from(SmeInvoice).where(SmeInvoice.number == "B-1")
            assert s.scalar(stored.where(SmeInvoice.brand_id == brand["brand_id"])) == 0  # other brands may have one
        assert (await upload(PDF)).status_code == 201
        unknown = await api.post("/api/v1/sme/requests", json={"invoiceId": str(uuid.uuid4())}, headers=headers)
        assert unknown.status_code == 404 and unknown.json()["errors"][0]["field"] == "invoiceId"
        assert (await api.get("/api/v1/sme/invoices")).status_code == 401


def test_the_migration_creates_the_sme_tables_as_the_models_declare(db) -> None:  # noqa: ANN001
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from db.models import Base

    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)

    def table_of(diff: Any) -> str:
        item = diff[0] if isinstance(diff, list) else diff
        for part in item[1:]:
            name = getattr(part, "name", None) if not isinstance(part, str) else part
            table = getattr(part, "table", None)
            if table is not None:
                return str(table.name)
            if isinstance(name, str) and name.startswith("sme_"):
                return name
        return ""

    assert [d for d in diffs if table_of(d).startswith("sme_")] == []
