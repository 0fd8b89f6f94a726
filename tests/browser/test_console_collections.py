"""The collections workbench in Chromium against the real stack: an overdue loan (made over the public API, the
sandbox playing the borrower's vendors) worked by a collection executive — a call placed through the dialer
sandbox, a follow-up with a promise to pay — then a settlement proposed by the collection head, refused in words
when the same person tries to approve it, approved by the admin, paid by the borrower: the loan SETTLED."""

from __future__ import annotations

import random
import re
import uuid
from datetime import UTC, datetime

from api.partner import dialer as dialer_api
from los.demo import Driver
from los.demo_collections import _begin, _overdue, _sms_link
from los.seed import DEMO_PASSWORD, SANDBOX_SECRET, staff_email
from tests.conftest import eventually


async def sign_in(page, app, brand: dict, role: str, hash_path: str) -> None:  # noqa: ANN001
    await page.goto(f"{app.api.url}/console#{hash_path}")
    await page.get_by_label("E-mail").fill(staff_email(role, brand["brand_code"]))
    await page.get_by_label("Password").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("navigation", name="Main").wait_for()


async def sign_out(page) -> None:  # noqa: ANN001
    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_role("button", name="Sign in").wait_for()


async def configure_dialer(driver: Driver, app, brand: dict) -> None:  # noqa: ANN001
    """The admin's Acefone configuration (the executive's extension) and the sandbox's webhook to this brand."""
    key = f"acefone-{uuid.uuid4().hex}"
    executive = staff_email("COLLECTION_EXECUTIVE", brand["brand_code"])
    settings = {
        "primary": "acefone",
        "vendors": [
            {
                "vendor": "acefone",
                "baseUrl": str(driver.sandbox.base_url),
                "apiKey": key,
                "webhookSecret": SANDBOX_SECRET,
                "options": {f"extension.{executive}": "1001", "caller_id": "8062451617"},
            }
        ],
    }
    await driver.partner("ADMIN", "PUT", "/settings/providers/dialer", json=settings)
    hook = f"{app.api.url}/api/v1/webhooks/{brand['brand_id']}/acefone"
    (await driver.sandbox.put("/_dialer/webhooks/acefone", json={"url": hook, "account": key})).raise_for_status()


async def test_collector_calls_promises_and_a_settlement_is_approved_by_another(  # noqa: ANN001
    app, brand, sandbox, page, monkeypatch
) -> None:
    # a call to a borrower in arrears is placed only from 08:00 to 19:00 IST (domain.contact_hours): midday here
    monkeypatch.setattr(dialer_api, "_now", lambda: datetime(2026, 12, 7, 6, 30, tzinfo=UTC))
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"], timeout=120)
    try:
        await configure_dialer(driver, app, brand)
        headers, j, _, deadline = await _begin(driver, random.randrange(10**6))
        await _overdue(driver, headers, j, deadline)
        loan_id = j.loan_id
        customer_id = (await driver.partner("COLLECTION_EXECUTIVE", "GET", f"/loans/{loan_id}"))["customerId"]

        # the collection executive finds the loan in the pre-collection queue and works it
        await sign_in(page, app, brand, "COLLECTION_EXECUTIVE", "/collections")
        row = page.locator(f"tr:has(a[href='#/customers/{customer_id}'])")
        await row.get_by_role("button", name="Work").click()
        await page.get_by_test_id("loan-status").wait_for()
        assert await page.get_by_test_id("loan-status").inner_text() == "OVERDUE"

        await page.get_by_role("button", name="Call the customer").click()
        assert "Call placed through acefone" in await page.get_by_role("status").first.inner_text()
        calls = await driver.partner("COLLECTION_EXECUTIVE", "GET", f"/acefone/dialer/user/{customer_id}/calls")
        assert calls["total"] == 1 and calls["items"][0]["loanId"] == loan_id
        # the collector ends the call from the log (the vendor's own hangup would arrive by webhook later)
        ended = re.compile(r"^(COMPLETED|MISSED|BUSY)$")
        end = page.get_by_role("button", name="End call")
        if await end.count():
            await end.click()
        await page.get_by_role("table", name="Call log").get_by_role("cell", name=ended).wait_for()

        await page.get_by_label("Promised amount (₹)").fill("500")
        await page.get_by_label("Remarks", exact=True).fill("will pay on Friday")
        await page.get_by_role("button", name="Record the follow-up").click()
        await page.get_by_text("Follow-up recorded.").wait_for()
        follow_ups = await driver.partner("COLLECTION_EXECUTIVE", "GET", f"/collection/{loan_id}/follow-ups")
        (made,) = follow_ups["items"]
        assert (made["disposition"], made["ptpAmountPaise"], made["ptpStatus"]) == ("PROMISE_TO_PAY", 50_000, "PENDING")
        await page.get_by_role("table", name="Promises to pay").get_by_text("PENDING").wait_for()
        await sign_out(page)

        # the collection head proposes a settlement and may not approve their own (maker-checker)
        quote = await driver.partner("COLLECTION_HEAD", "GET", f"/loans/{loan_id}/foreclosure-quote")
        rupees = quote["principal"] * 3 // 5 // 100
        await sign_in(page, app, brand, "COLLECTION_HEAD", f"/collections?loan={loan_id}")
        await page.get_by_label("Settlement amount (₹)").fill(str(rupees))
        await page.get_by_label("Reason", exact=True).fill("job loss; one-time settlement offered")
        await page.get_by_role("button", name="Propose the settlement").click()
        await page.get_by_text("Settlement proposed").wait_for()
        await page.get_by_role("button", name="Approve the settlement").click()
        refusal = await page.get_by_role("alert").inner_text()
        assert refusal.startswith("You are not allowed to do this: maker-checker"), refusal
        (proposed,) = await driver.partner("COLLECTION_HEAD", "GET", f"/collection/{loan_id}/settlements")
        assert proposed["status"] == "PROPOSED" and proposed["amount"] == rupees * 100
        await sign_out(page)

        # the admin, a second person, approves it; the borrower pays the link they are sent: the loan is SETTLED
        await sign_in(page, app, brand, "ADMIN", f"/collections?loan={loan_id}")
        await page.get_by_label("Reason for the decision").fill("within policy")
        await page.get_by_role("button", name="Approve the settlement").click()
        await page.get_by_text("Settlement approved").wait_for()
        (approved,) = await driver.partner("ADMIN", "GET", f"/collection/{loan_id}/settlements")
        staff = {s["role"]: s["id"] for s in brand["staff"]}
        assert approved["status"] == "APPROVED"
        assert (approved["proposedBy"], approved["decidedBy"]) == (staff["COLLECTION_HEAD"], staff["ADMIN"])

        await driver.pay_link(await _sms_link(driver, j.phone, "settle loan", deadline))

        async def settled() -> bool:
            loan = await driver.partner("ADMIN", "GET", f"/loans/{loan_id}")
            return loan["status"] == "SETTLED"

        await eventually(settled, timeout=60, interval=0.5)
        await page.reload()
        await page.get_by_test_id("loan-status").get_by_text("SETTLED").wait_for()
        await page.get_by_test_id("settlement-status").get_by_text("PAID").wait_for()
        await page.get_by_role("link", name="Back to the queues").click()
        await page.get_by_role("link", name="Settled", exact=True).click()
        await page.get_by_role("table", name="Settled loans").locator(f"a[href='#/loans/{loan_id}']").wait_for()
    finally:
        await driver.close()
