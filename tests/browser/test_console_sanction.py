"""The staff console's daily work in Chromium against the real stack (API, worker, Temporal, PostgreSQL, sandbox).

A loan is brought to the credit executive's queue over the public API, as a borrower would (los.demo's driver); then
in the browser three different staff members, each signing in, take it through the sanction hierarchy, and every
step is read back over the API. Loan ops release the money seeing the beneficiary and its penny drop; an offline
payment is recorded by one staff member and approved by another, after its maker was refused in words. Also: a 403
explained in words, the dashboard's figures, the queue page at a tablet's width, and the sign-in lockout message.
"""

from __future__ import annotations

import random
import re
import time
from typing import Any

from los.demo import Driver, Journey, demo_identity, random_account
from tests.conftest import eventually

PROOF_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


async def _loan_in_review(driver: Driver) -> tuple[dict[str, str], str]:
    """A borrower applies with a PAN the sandbox scores 700: the loan waits in the credit executive's queue."""
    phone, pan = demo_identity(0, "review")
    headers = await driver.register(phone)
    await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
    await driver.add_account(headers, random_account(), primary=True)
    loan = await driver._ok(
        await driver.api.post(
            "/api/v1/web/loans", json={"amount": "25000", "tenure": 3, "productCode": "PL-MONTHLY"}, headers=headers
        )
    )

    async def in_review() -> bool:
        return (await driver.loan(headers, loan["id"]))["status"] == "UNDER_REVIEW"

    await eventually(in_review, timeout=60)
    return headers, loan["id"]


async def _staff_loan(driver: Driver, loan_id: str) -> dict[str, Any]:
    """The loan as staff read it over the API (the admin)."""
    return await driver.partner("ADMIN", "GET", f"/loans/{loan_id}")


async def _open_from_queue(console, queue: str, loan_id: str) -> None:  # noqa: ANN001
    """Open the queue from the navigation, find the loan with the search filter and open it."""
    page = console.page
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Queues").click()
    await page.get_by_role("heading", name="Your queues").wait_for()
    await page.get_by_role("link", name=queue, exact=True).first.click()
    await page.get_by_role("heading", name=f"{queue} queue").wait_for()
    await page.get_by_label("Search", exact=True).fill(loan_id)
    await page.get_by_role("button", name="Apply").click()
    await page.get_by_role("link", name=f"Open loan {loan_id}").click()
    await page.get_by_role("heading", name=re.compile(f"Loan {loan_id[:8]}")).wait_for()


async def _act(console, form: str, button: str, fields: dict[str, str] | None = None) -> str:  # noqa: ANN001
    """Fill a decision form of the loan page, submit it and return the outcome it reports."""
    page = console.page
    box = page.get_by_role("form", name=form)
    for label, value in (fields or {}).items():
        await box.get_by_label(label).fill(value)
    await box.get_by_role("button", name=button).click()
    outcome = page.locator("#action-outcome")
    await outcome.wait_for()
    return await outcome.inner_text()


async def test_sanction_disbursal_and_offline_payment_in_the_console(app, brand, sandbox, console) -> None:  # noqa: ANN001
    page = console.page
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        borrower, loan_id = await _loan_in_review(driver)
        assert (await _staff_loan(driver, loan_id))["reviewStage"] == "CREDIT_EXECUTIVE"

        # the credit executive opens it from their queue and forwards it with a reason
        await console.sign_in("CREDIT_EXECUTIVE")
        await _open_from_queue(console, "Credit executive", loan_id)
        said = await _act(
            console, "Forward to the sanction manager", "Forward", {"Reason / notes": "salary slips verified"}
        )
        assert "Forwarded" in said and "sanction manager stage" in said
        loan = await _staff_loan(driver, loan_id)
        assert (loan["status"], loan["reviewStage"]) == ("UNDER_REVIEW", "SANCTION_MANAGER")
        forward = next(h for h in loan["statusHistory"] if h["action"] == "FORWARD")
        assert "salary slips verified" in (forward["reason"] or "") and forward["actor"].startswith("CREDIT_EXECUTIVE:")

        # the sanction manager approves it with conditions (forwards it to the sanction head)
        await console.sign_in("SANCTION_MANAGER")
        await _open_from_queue(console, "Sanction manager", loan_id)
        await page.get_by_role("tab", name="Timeline").click()
        await page.get_by_text("salary slips verified").first.wait_for()  # the credit executive's reason, shown
        said = await _act(
            console,
            "Approve with conditions",
            "Approve",
            {"Conditions of the approval": "NACH mandate before disbursal", "Reason / notes": "FOIR within policy"},
        )
        assert "Approved" in said and "sanction head stage" in said
        loan = await _staff_loan(driver, loan_id)
        assert (loan["status"], loan["reviewStage"]) == ("UNDER_REVIEW", "SANCTION_HEAD")
        assert loan["review"]["sanctionConditions"] == "NACH mandate before disbursal"

        # the sanction head sanctions it
        await console.sign_in("SANCTION_HEAD")
        await _open_from_queue(console, "Sanction head", loan_id)
        said = await _act(console, "Sanction (final approval)", "Sanction", {"Reason / notes": "approved"})
        assert "Sanctioned" in said
        loan = await _staff_loan(driver, loan_id)
        assert loan["status"] == "SANCTIONED" and loan["reviewStage"] is None
        actors = [h["actor"].split(":")[0] for h in loan["statusHistory"] if h["action"]]
        assert actors[:3] == ["CREDIT_EXECUTIVE", "SANCTION_MANAGER", "SANCTION_HEAD"]

        # the borrower accepts the KFS and signs the agreement (over the API)
        await driver.accept_kfs(borrower, loan_id)
        deadline = time.monotonic() + 60
        journey = Journey(loan_id=loan_id)
        pending = await driver.wait_for(
            borrower, loan_id, lambda x: x["status"] == "AGREEMENT_PENDING" and x["agreement"], "eSign", deadline
        )
        signed = await driver.sign(borrower, journey, pending, deadline)
        assert signed["status"] == "AGREEMENT_SIGNED"

        # loan ops see the beneficiary and its penny drop, and release the money
        await console.sign_in("LOAN_EXECUTIVE")
        await _open_from_queue(console, "Loans ops", loan_id)
        form = page.get_by_role("form", name="Approve the disbursal")
        beneficiary = form.locator(".beneficiary")
        await beneficiary.wait_for()
        shown = await beneficiary.inner_text()
        assert re.search(r"XXXX\d{4}", shown) and "HDFC0001234" in shown, shown
        penny = await form.locator("[data-penny-drop]").inner_text()
        assert penny.strip(), "the penny drop's result is shown"
        said = await _act(console, "Approve the disbursal", "Approve disbursal")
        assert "Disbursal approved" in said

        async def disbursed() -> dict | None:
            current = await _staff_loan(driver, loan_id)
            return current if current["status"] in ("DISBURSED", "OVERDUE") else None

        loan = await eventually(disbursed, timeout=60)
        assert loan["transfers"][-1]["approvedBy"].startswith("LOAN_EXECUTIVE:")

        # an offline payment recorded by the admin (maker) ...
        reference = f"{random.randrange(10**11, 10**12)}"
        await console.sign_in("ADMIN")
        await console.open(f"/loans/{loan_id}")
        record = page.get_by_role("form", name="Record an offline payment")
        # a digit too many: refused with the quote, until the maker says that much really came
        excess = f"{random.randrange(10**11, 10**12)}"
        await record.get_by_label("Amount").fill("99999999")
        await record.get_by_label("Mode").select_option("UPI")
        await record.get_by_label("Reference").fill(excess)
        await record.get_by_role("button", name="Record payment").click()
        slip = record.get_by_role("alert")
        await slip.wait_for()
        assert "foreclosure quote" in await slip.inner_text()
        await record.get_by_label("More than today's foreclosure quote was received").check()
        await record.get_by_role("button", name="Record payment").click()
        await record.get_by_role("status").wait_for()
        assert "₹9,99,99,999.00 recorded" in await record.get_by_role("status").inner_text()
        pending = await driver.partner("ADMIN", "GET", "/payment/approval", params={"loanId": loan_id})
        assert [p["amountPaise"] for p in pending["items"] if p["reference"] == excess] == [99999999_00]
        # told as a cooling-off exit, ₹1,000 is refused: less than the exit amount, it would not close the loan
        await record.get_by_label("Amount").fill("1000")
        await record.get_by_label("Mode").select_option("UPI")
        await record.get_by_label("Reference").fill(reference)
        await record.get_by_label("Purpose").select_option("COOLING_OFF")
        await record.get_by_role("button", name="Record payment").click()
        exit_refused = record.get_by_role("alert").filter(has_text="cooling-off exit amount")
        await exit_refused.wait_for()
        await record.get_by_label("Purpose").select_option("PREPAYMENT")
        await record.get_by_label("Proof").set_input_files(
            {"name": "proof.pdf", "mimeType": "application/pdf", "buffer": PROOF_PDF}
        )
        await record.get_by_role("button", name="Record payment").click()
        await record.get_by_role("status").wait_for()
        assert "with its proof" in await record.get_by_role("status").inner_text()

        # ... who cannot approve it: refused with a message
        await page.get_by_role("navigation", name="Main").get_by_role("link", name="Payment approval").click()
        row = page.locator(f'tr[data-reference="{reference}"]')
        await row.get_by_role("button", name="Approve").click()
        refusal = row.get_by_role("alert")
        await refusal.wait_for()
        text = await refusal.inner_text()
        assert "not allowed" in text and "maker-checker" in text, text

        # another staff member approves it
        await console.sign_in("COLLECTION_MANAGER")
        await console.open("/payments/approval")
        row = page.locator(f'tr[data-reference="{reference}"]')
        await row.get_by_role("button", name="Approve").click()
        notice = page.get_by_role("status").filter(has_text="approved")
        await notice.wait_for()
        approved = await driver.partner("ADMIN", "GET", "/payment/approval", params={"status": "APPROVED"})
        mine = [p for p in approved["items"] if p["reference"] == reference]
        assert mine and mine[0]["decidedByEmail"].startswith("collection.manager@")

        # the dashboard shows the figures, the disbursal among them
        await console.open("/dashboard")
        aum = page.locator('[data-figure="aum"]')
        await aum.wait_for()
        assert "₹" in await aum.inner_text()
        disbursals = await page.locator('[data-figure="disbursals"]').inner_text()
        assert "₹25,000.00" in disbursals, disbursals
        for figure in ("par30", "par60", "par90", "npa", "efficiency"):
            assert await page.locator(f'[data-figure="{figure}"]').count() == 1
        assert await page.locator('[data-chart="disbursals-by-day"] svg').count() == 1
    finally:
        await driver.close()


async def test_refusal_in_words_and_the_queue_at_tablet_width(app, brand, sandbox, console) -> None:  # noqa: ANN001
    page = console.page
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        _, loan_id = await _loan_in_review(driver)

        # the loan was allocated to the credit executive: the bell counts it, the notifications page lists it
        await console.sign_in("CREDIT_EXECUTIVE")
        bell = page.get_by_role("link", name=re.compile(r"Notifications, [1-9]\d* unread"))
        await bell.wait_for()
        unread = int(re.search(r"(\d+) unread", await bell.get_attribute("aria-label")).group(1))
        await bell.click()
        item = page.locator("[data-notification]").filter(has_text=loan_id).first
        await item.get_by_role("button", name="Mark read").click()
        await page.get_by_role("link", name=f"Notifications, {unread - 1} unread").wait_for()

        # the queue page at 768 px: no horizontal scroll, the loan listed
        await page.set_viewport_size({"width": 768, "height": 1024})
        await console.open("/queues/credit-executive")
        await page.get_by_role("link", name=f"Open loan {loan_id}").wait_for()
        widths = await page.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert widths[0] <= widths[1], f"horizontal scroll at 768 px: {widths}"

        # the credit executive opens the loan; meanwhile an admin makes them a loan executive (no review power):
        # forwarding is refused with a 403, shown in words
        await page.get_by_role("link", name=f"Open loan {loan_id}").click()
        form = page.get_by_role("form", name="Forward to the sanction manager")
        await form.wait_for()
        staff = {s["role"]: s["id"] for s in brand["staff"]}
        demoted = {"role": "LOAN_EXECUTIVE"}
        await driver.partner("ADMIN", "PUT", f"/user/{staff['CREDIT_EXECUTIVE']}/update", json=demoted)
        await form.get_by_role("button", name="Forward").click()
        alert = form.get_by_role("alert")
        await alert.wait_for()
        text = await alert.inner_text()
        assert "You are not allowed to do this" in text and "role" in text, text
        assert (await _staff_loan(driver, loan_id))["reviewStage"] == "CREDIT_EXECUTIVE"  # nothing moved
    finally:
        await driver.close()


async def test_brand_colour_and_sign_in_lockout(app, brand, sandbox, console) -> None:  # noqa: ANN001
    page = console.page
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:  # the brand's colour from its settings (an admin reads them); a role that cannot keeps the default
        await driver.partner("ADMIN", "PUT", "/settings/brand", json={"brandColour": "#0f766e"})
    finally:
        await driver.close()
    colour = "() => getComputedStyle(document.documentElement).getPropertyValue('--brand').trim()"
    await console.sign_in("ADMIN")
    # polled from here: the page's content security policy forbids the string evaluation wait_for_function uses
    for _ in range(100):
        if await page.evaluate(colour) == "#0f766e":
            break
        await page.wait_for_timeout(100)
    assert await page.evaluate(colour) == "#0f766e"
    await console.sign_in("CREDIT_EXECUTIVE")
    await page.get_by_role("link", name="Queues").wait_for()
    assert await page.evaluate(colour) == "#1d4ed8"
    await page.get_by_role("button", name="Sign out").click()

    from los.seed import staff_email

    await page.get_by_label("E-mail").fill(staff_email("SANCTION_HEAD", console.brand_code))
    for _ in range(5):  # the fifth wrong password in a row locks the account (staff_max_failed_logins)
        await page.get_by_label("Password").fill("not the password")
        async with page.expect_response("**/api/v1/partner/auth/login") as answer:
            await page.get_by_role("button", name="Sign in").click()
        await (await answer.value).finished()
    assert (await answer.value).status == 429
    await page.get_by_role("alert").filter(has_text="locked").wait_for()
    alert = await page.get_by_role("alert").inner_text()
    assert "locked" in alert and "min" in alert, alert
