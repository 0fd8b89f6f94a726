"""One loan's whole life in one Chromium tab against the real stack (API, worker, Temporal, PostgreSQL, the sandbox
over HTTP): the borrower registers, applies and completes KYC in the app; three staff sanction it in the console;
the borrower accepts the KFS and signs in the app; loan ops release the money; the borrower pays in the app; a later
installment falls overdue and is worked in the collections workbench to a settlement proposed by one person and
approved by another; the reports page lists the loan. The brand's "months" last 5 seconds, so the loan falls due
within the test. The app keeps its own tab (it polls the loan) and the console has another, as at work."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.async_api import expect

from los.demo import SANDBOX_AADHAAR_OTP, Driver, demo_aadhaar, demo_identity, random_account
from los.seed import FULL_KYC, seed_brand
from sandbox.scenarios import sample_statement
from tests.browser.conftest import Console, watch
from tests.browser.test_app_journey import PHONE, SLOW
from tests.browser.test_console_sanction import _act, _open_from_queue
from tests.conftest import eventually


@pytest.fixture
def journey_brand(db, sandbox) -> dict:  # noqa: ANN001
    """A brand with the full KYC pipeline whose DEMO-FAST installments fall due 5 seconds apart."""
    code = f"j{uuid.uuid4().hex[:8]}"
    return seed_brand(
        db, sandbox.url, code=code, name=f"Journey {code}", period_seconds=5, esign_expiry_seconds=600,
        kyc_steps=FULL_KYC,
    )  # fmt: skip


async def _apply_in_the_app(page, app, driver: Driver, code: str) -> str:  # noqa: ANN001
    """Register with the SMS code, give the details, apply (PAN scored 700: staff review), answer the KYC steps;
    the loan's id once the app says it is under review."""
    phone, pan = demo_identity(0, "review")
    await page.set_viewport_size(PHONE)
    await page.goto(f"{app.api.url}/app?brand={code}")
    await page.get_by_label("Mobile number").fill(phone)
    await page.get_by_role("button", name="Send code").click()
    otp = (await driver.latest_sms(phone, "verification code")).split()[0]
    await page.get_by_label("One-time code").fill(otp)
    await page.get_by_role("button", name="Verify and continue").click()

    await page.get_by_role("link", name="Complete your details").click()
    await page.get_by_label("PAN").fill(pan)
    await page.get_by_role("button", name="Save and continue").click()
    for label, value in (
        ("First name", "Asha"), ("Last name", "Rao"), ("E-mail", "asha.rao@example.com"),
        ("Date of birth", "1990-01-15"), ("Address", "12 MG Road"), ("PIN code", "560001"),
        ("City", "Bengaluru"), ("State", "Karnataka"),
    ):  # fmt: skip
        await page.get_by_label(label).fill(value)
    await page.get_by_role("button", name="Save and continue").click()
    await page.get_by_label("Employer").fill("Acme Technologies Pvt Ltd")
    await page.get_by_label("Monthly income (₹)").fill("65000")
    await page.get_by_role("button", name="Save and continue").click()
    account = random_account()
    await page.get_by_label("Account number", exact=True).fill(account)
    await page.get_by_label("Account number again").fill(account)
    await page.get_by_label("IFSC").fill("HDFC0001234")
    await page.get_by_role("button", name="Save and continue").click()

    await page.get_by_label("Loan", exact=True).select_option("DEMO-FAST")
    await page.get_by_label("Amount (₹)").fill("30000")
    await page.get_by_label("Number of installments").fill("6")
    await expect(page.locator(".preview")).to_have_attribute("aria-busy", "false")
    await page.get_by_role("button", name=re.compile("^Apply for")).click()

    await page.get_by_label("Aadhaar number").fill(demo_aadhaar(), timeout=SLOW)
    await page.get_by_role("button", name="Send Aadhaar code").click()
    await page.get_by_label("Code sent to your Aadhaar-linked mobile").fill(SANDBOX_AADHAAR_OTP)
    await page.get_by_role("button", name="Verify Aadhaar").click()
    statement = {"name": "statement.pdf", "mimeType": "application/pdf", "buffer": sample_statement(SALARY=65000)}
    await page.get_by_label("Bank statement (PDF)").set_input_files(statement, timeout=SLOW)
    await page.get_by_role("button", name="Upload statement").click()
    await expect(page.locator("#loan-status")).to_have_text("Under review by our credit team", timeout=SLOW)
    return page.url.rsplit("/", 1)[1]


async def _sanction_in_the_console(console: Console, driver: Driver, loan_id: str) -> None:
    """Credit executive forwards, sanction manager approves with conditions, sanction head sanctions."""
    await console.page.bring_to_front()
    await console.sign_in("CREDIT_EXECUTIVE")
    await _open_from_queue(console, "Credit executive", loan_id)
    assert "Forwarded" in await _act(console, "Forward to the sanction manager", "Forward", {"Reason / notes": "ok"})
    await console.sign_in("SANCTION_MANAGER")
    await _open_from_queue(console, "Sanction manager", loan_id)
    said = await _act(console, "Approve with conditions", "Approve", {"Conditions of the approval": "e-mandate"})
    assert "Approved" in said
    await console.sign_in("SANCTION_HEAD")
    await _open_from_queue(console, "Sanction head", loan_id)
    assert "Sanctioned" in await _act(console, "Sanction (final approval)", "Sanction", {"Reason / notes": "fine"})
    loan = await driver.partner("ADMIN", "GET", f"/loans/{loan_id}")
    actors = [h["actor"].split(":")[0] for h in loan["statusHistory"] if h["action"]]
    assert actors[:3] == ["CREDIT_EXECUTIVE", "SANCTION_MANAGER", "SANCTION_HEAD"], actors


async def _sign_in_the_app(page, loan_id: str) -> None:  # noqa: ANN001
    """The KFS read and accepted, the agreement signed on the eSign vendor's page in a new tab."""
    await page.bring_to_front()
    await page.evaluate("(route) => { location.hash = route; }", f"#/loan/{loan_id}")
    await page.get_by_role("link", name="Read the Key Fact Statement").click(timeout=SLOW)
    await expect(page.get_by_role("table", name="Key facts")).to_contain_text("₹30,000.00")
    await page.get_by_label("I have read the Key Fact Statement and accept its terms").check()
    await page.get_by_role("button", name="Accept the Key Fact Statement").click()
    sign = page.get_by_role("link", name="Sign the agreement")
    # the agreement is rendered and sent to the eSign vendor first: at the start of a CI run (the first PDF render,
    # every process warming up) that once took longer than SLOW
    await sign.wait_for(timeout=2 * SLOW)
    async with page.context.expect_page() as opened:
        await sign.click()
    esign = await opened.value
    await esign.get_by_role("button", name="Sign with Aadhaar OTP").click()
    await esign.wait_for_load_state()
    await esign.close()
    await expect(page.locator("#loan-status")).to_have_text("Agreement signed: the money is being sent", timeout=SLOW)


async def _pay_in_the_app(page, loan_id: str) -> None:  # noqa: ANN001
    """A payment of ₹2,500 made in the app, paid on the gateway's page in a new tab, shown once received."""
    await page.bring_to_front()
    await page.evaluate("(route) => { location.hash = route; }", f"#/loan/{loan_id}/pay")
    await page.get_by_label("Part-payment amount (₹)").fill("2500")
    await page.get_by_role("button", name="Create payment link").click()
    async with page.context.expect_page() as opened:
        await page.get_by_role("link", name="Pay ₹2,500.00 now").click()
    gateway = await opened.value
    await gateway.get_by_role("button", name="Pay with UPI").click()
    await gateway.wait_for_load_state()
    await gateway.close()
    await expect(page.get_by_role("list", name="Payments received")).to_contain_text("₹2,500.00", timeout=SLOW)


async def test_a_loan_from_the_app_through_the_console_to_settlement_and_reports(  # noqa: ANN001
    app, journey_brand, sandbox, page
) -> None:
    code = journey_brand["brand_code"]
    driver = Driver(app.api.url, sandbox.url, code, timeout=120)
    desk = await page.context.new_page()  # the console's tab, 1280x800; the app's tab is `page`, at 360 px
    watch(desk, page.problems)
    console = Console(desk, app.api.url, code)
    try:
        loan_id = await _apply_in_the_app(page, app, driver, code)
        await _sanction_in_the_console(console, driver, loan_id)
        await _sign_in_the_app(page, loan_id)

        # loan ops release the money from their queue, the beneficiary and its penny drop in view
        await desk.bring_to_front()
        await console.sign_in("LOAN_EXECUTIVE")
        await _open_from_queue(console, "Loans ops", loan_id)
        await desk.get_by_role("form", name="Approve the disbursal").locator("[data-penny-drop]").wait_for()
        assert "Disbursal approved" in await _act(console, "Approve the disbursal", "Approve disbursal")

        async def status_in(*wanted: str) -> dict | None:
            loan = await driver.partner("ADMIN", "GET", f"/loans/{loan_id}")
            return loan if loan["status"] in wanted else None

        await eventually(lambda: status_in("DISBURSED", "OVERDUE"), timeout=60, interval=0.5)
        await _pay_in_the_app(page, loan_id)
        paid = await driver.partner("ADMIN", "GET", f"/loans/{loan_id}/payments")
        assert [p["amountPaise"] for p in paid["payments"]] == [2500_00], paid["payments"]

        # nothing more is paid: a later installment falls overdue; the collector works it in the workbench
        await eventually(lambda: status_in("OVERDUE"), timeout=60, interval=0.5)
        await desk.bring_to_front()
        await console.sign_in("COLLECTION_EXECUTIVE")
        await console.open(f"/collections?loan={loan_id}")
        await desk.get_by_test_id("loan-status").get_by_text("OVERDUE").wait_for()
        await desk.get_by_label("Promised amount (₹)").fill("1000")
        await desk.get_by_label("Remarks", exact=True).fill("asked for a one-time settlement")
        await desk.get_by_role("button", name="Record the follow-up").click()
        await desk.get_by_text("Follow-up recorded.").wait_for()

        # a settlement proposed by the collection manager, approved by the collection head (another person)
        quote = await driver.partner("ADMIN", "GET", f"/loans/{loan_id}/foreclosure-quote")
        offer = quote["principal"] * 3 // 5 // 100
        await console.sign_in("COLLECTION_MANAGER")
        await console.open(f"/collections?loan={loan_id}")
        await desk.get_by_label("Settlement amount (₹)").fill(str(offer))
        await desk.get_by_label("Reason", exact=True).fill("job loss; one-time settlement")
        await desk.get_by_role("button", name="Propose the settlement").click()
        await desk.get_by_text("Settlement proposed").wait_for()
        await console.sign_in("COLLECTION_HEAD")
        await console.open(f"/collections?loan={loan_id}")
        await desk.get_by_label("Reason for the decision").fill("within policy")
        await desk.get_by_role("button", name="Approve the settlement").click()
        await desk.get_by_text("Settlement approved").wait_for()
        (settlement,) = await driver.partner("ADMIN", "GET", f"/collection/{loan_id}/settlements")
        staff = {s["role"]: s["id"] for s in journey_brand["staff"]}
        assert (settlement["status"], settlement["amount"]) == ("APPROVED", offer * 100)
        assert (settlement["proposedBy"], settlement["decidedBy"]) == (
            staff["COLLECTION_MANAGER"],
            staff["COLLECTION_HEAD"],
        )

        # the reports page lists the loan among those disbursed
        await desk.get_by_role("navigation", name="Main").get_by_role("link", name="Reports").click()
        await desk.get_by_label("Report type").select_option("disbursed-loan-report")
        await desk.get_by_role("button", name="Show the report").click()
        await desk.get_by_role("table", name="Disbursed loans").get_by_text(loan_id).wait_for()
    finally:
        await driver.close()
