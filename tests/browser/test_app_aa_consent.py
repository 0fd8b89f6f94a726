"""The Account Aggregator step of a loan whose statement step first ran before the activity returned the consent
page: its workflow's ``kyc_status`` carries the consent *handle* as the step's link (recorded in its history, so it
stays the handle on every replay), and the borrower's app, in Chromium at a phone's size against the real stack
(API, worker, Temporal dev server, PostgreSQL, the sandbox's aggregator over HTTP), still opens the consent page
with its own button, because the customer route serves the consent's page from the loan's ``aa_consents`` row.

The worker of this test runs the released activities, except that ``kyc_bank_statement`` answers as it did
before the fix (``reference`` = the consent handle, everything else as today): the loan's history is then the
one such a loan has, and nothing else in the stack differs."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from playwright.async_api import expect
from sqlalchemy import select
from temporalio import activity

from db.models import AaConsent, Brand
from los.demo import Driver, demo_identity
from los.seed import seed_brand
from tests.browser.test_app_journey import SLOW, _loan, _open
from tests.conftest import App, ThreadedServer, eventually, free_port
from workflows.contracts import KycStepRequest, KycStepResult
from workflows.loan import LoanWorkflow


def _kyc_before_the_link_fix(db, http, storage, api_url, field_key):  # noqa: ANN001, ANN202
    """KYC activities whose statement step answers as released before the consent page was its link."""
    from activities.kyc import KycActivities

    class BeforeTheFix(KycActivities):
        @activity.defn(name="kyc_bank_statement")
        async def kyc_bank_statement_as_released_before(self, req: KycStepRequest) -> KycStepResult:
            result = await self.kyc_bank_statement(req)
            if not result.reference:
                return result
            with self.db.unit_of_work() as session:
                handle = session.scalars(
                    select(AaConsent.consent_handle).where(
                        AaConsent.loan_id == req.loan_id, AaConsent.consent_url == result.reference
                    )
                ).one()
            return dataclasses.replace(result, reference=handle)

        def all(self):  # noqa: ANN202
            kept = [fn for fn in super().all() if getattr(fn, "__name__", "") != "kyc_bank_statement"]
            return [*kept, self.kyc_bank_statement_as_released_before]

    return BeforeTheFix(db, http, storage, api_url, field_key)


@pytest_asyncio.fixture
async def old_app(dev_env, database_url, db, storage_dir, renderer) -> AsyncIterator[App]:  # noqa: ANN001
    """The API and a worker as `tests.conftest.running_app` wires them, the statement step as released before."""
    from temporalio.worker import Worker

    from activities.colending import CoLendingActivities
    from activities.loan import LoanActivities
    from activities.messaging import MessagingActivities
    from activities.partners import PartnerActivities
    from activities.refunds import RefundActivities
    from activities.sme import SmeActivities
    from activities.storage import LocalStorage
    from api.app import create_app
    from los.settings import Settings
    from worker import WORKFLOWS

    queue = f"test-{uuid.uuid4().hex[:8]}"
    port = free_port()
    settings = Settings(
        database_url=database_url,
        temporal_address=dev_env.client.service_client.config.target_host,
        task_queue=queue,
        api_port=port,
        storage_dir=storage_dir,
    )
    async with httpx.AsyncClient(timeout=30) as http:
        storage = LocalStorage(storage_dir)
        loan = LoanActivities(db, http, storage, renderer, settings.api_url, settings.field_key())
        kyc = _kyc_before_the_link_fix(db, http, storage, settings.api_url, settings.field_key())
        with ThreadedServer(create_app(settings), port=port) as api:
            activities = (
                loan.all()
                + kyc.all()
                + MessagingActivities(db, http).all()
                + RefundActivities(db, http, storage, renderer, settings.api_url, settings.field_key()).all()
                + PartnerActivities(db, http).all()
                + CoLendingActivities(db, http, storage, settings.api_url).all()
                + SmeActivities(db, http, settings.api_url, settings.field_key()).all()
            )
            async with Worker(dev_env.client, task_queue=queue, workflows=WORKFLOWS, activities=activities):
                yield App(api, dev_env.client, queue, settings, http)


async def test_old_loan_opens_the_consent_page_from_the_app(old_app, db, sandbox, page) -> None:  # noqa: ANN001
    app = old_app
    code = f"c{uuid.uuid4().hex[:8]}"
    brand = seed_brand(
        db, sandbox.url, code=code, name=f"AA {code}", period_seconds=None, kyc_steps=["PAN", "BANK_STATEMENT"]
    )
    with db.unit_of_work() as s:
        row = s.get_one(Brand, brand["brand_id"])
        row.config = {**row.config, "aa_enabled": True}
    driver = Driver(app.api.url, sandbox.url, code)
    try:
        session, loan_id = await _loan(driver, code, until="APPLIED", pan=demo_identity(0, "auto")[1])
        headers = {"Authorization": f"Bearer {session['accessToken']}"}

        async def waiting() -> dict | None:
            kyc = (await driver.loan(headers, loan_id, kyc=True)).get("kyc") or {}
            return kyc if kyc.get("waitingFor") == "BANK_STATEMENT" and kyc.get("links") else None

        served = await eventually(waiting, timeout=60)
    finally:
        await driver.close()
    with db.unit_of_work() as s:
        consent = s.scalars(select(AaConsent).where(AaConsent.loan_id == loan_id)).one()
        handle, url = consent.consent_handle, consent.consent_url
    # the old path for real: the workflow itself gives the handle, which no browser can open ...
    workflow = app.client.get_workflow_handle(f"loan-{loan_id}")
    assert (await workflow.query(LoanWorkflow.kyc_status))["links"]["BANK_STATEMENT"] == handle
    # ... and the customer route serves the consent page in its place
    assert served["links"]["BANK_STATEMENT"] == url
    assert url.startswith(f"{sandbox.url}/finduit/consent/") and url.endswith(handle)

    # the app's own button opens the aggregator's page; the borrower approves there and the app moves on
    await _open(page, app, session, f"/loan/{loan_id}")
    link = page.get_by_role("link", name="Give consent")
    await expect(link).to_have_attribute("href", url, timeout=SLOW)
    async with page.context.expect_page() as opened:
        await link.click()
    aggregator = await opened.value
    await aggregator.wait_for_load_state()
    assert aggregator.url == url
    await expect(aggregator.locator("body")).to_contain_text(f"consent {handle}: PENDING")
    await aggregator.get_by_role("button", name="Approve").click()
    await expect(aggregator.locator("body")).to_contain_text("APPROVED")
    await aggregator.close()

    await expect(page.locator("#loan-status")).not_to_have_text(
        "Application received: verification in progress", timeout=SLOW
    )
    async with httpx.AsyncClient(base_url=app.api.url, headers=headers) as http:
        loan = (await http.get(f"/api/v1/web/loans/{loan_id}")).json()
    assert loan["status"] in ("UNDER_REVIEW", "SANCTIONED", "AGREEMENT_PENDING"), loan["statusHistory"]
    with db.unit_of_work() as s:
        assert s.scalars(select(AaConsent.status).where(AaConsent.loan_id == loan_id)).one() == "APPROVED"
