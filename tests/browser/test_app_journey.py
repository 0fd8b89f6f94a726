"""The borrower's app in Chromium at a phone's size (360x740) against the real stack: registration with the SMS
code, the details, the application with its EMI preview, the KYC steps the brand asks for; and a disbursed loan's
schedule, a part-payment paid at the sandbox's gateway page, and its receipt."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.async_api import expect

from los.demo import SANDBOX_AADHAAR_OTP, Driver, Journey, demo_aadhaar, demo_identity, random_account
from los.seed import FULL_KYC, seed_brand
from sandbox.scenarios import sample_statement
from tests.conftest import eventually

PHONE = {"width": 360, "height": 740}
SLOW = 60_000  # ms: a step that waits for the workflow (KYC, the decision, a payment's webhook)


@pytest.fixture
def kyc_brand(db, sandbox) -> dict:  # noqa: ANN001
    """A brand with the full KYC pipeline (as `los up` seeds the demo brand)."""
    code = f"a{uuid.uuid4().hex[:8]}"
    return seed_brand(db, sandbox.url, code=code, name=f"App {code}", period_seconds=2, kyc_steps=FULL_KYC)


@pytest.fixture
def monthly_brand(db, sandbox) -> dict:  # noqa: ANN001
    """A brand with PAN-only KYC whose DEMO-FAST installments fall a real month apart (nothing falls due mid-test)."""
    code = f"m{uuid.uuid4().hex[:8]}"
    return seed_brand(db, sandbox.url, code=code, name=f"Monthly {code}", period_seconds=None)


def _digits(text: str) -> str:
    return re.sub(r"[^0-9.]", "", text)


async def test_borrower_registers_applies_and_completes_kyc(app, kyc_brand, sandbox, page) -> None:  # noqa: ANN001
    code = kyc_brand["brand_code"]
    phone, pan = demo_identity(0, "review")  # bureau 700: the evaluation sends it to staff review
    driver = Driver(app.api.url, sandbox.url, code)
    await page.set_viewport_size(PHONE)
    await page.goto(f"{app.api.url}/app?brand={code}")
    try:
        # phone → SMS code (read at the sandbox's SMS vendor, as the borrower reads their phone)
        await page.get_by_label("Mobile number").fill(phone)
        await page.get_by_role("button", name="Send code").click()
        otp = (await driver.latest_sms(phone, "verification code")).split()[0]
        await page.get_by_label("One-time code").fill("000000" if otp != "000000" else "111111")
        await page.get_by_role("button", name="Verify and continue").click()
        await expect(page.get_by_role("alert")).to_contain_text("invalid OTP")
        await page.get_by_label("One-time code").fill(otp)
        await page.get_by_role("button", name="Verify and continue").click()

        # the details, step by step
        await page.get_by_role("link", name="Complete your details").click()
        await page.get_by_label("PAN").fill(pan)
        await page.get_by_role("button", name="Save and continue").click()
        await page.get_by_label("First name").fill("Asha")
        await page.get_by_label("Last name").fill("Rao")
        await page.get_by_label("E-mail").fill("asha.rao@example.com")
        await page.get_by_label("Date of birth").fill("1990-01-15")
        await page.get_by_label("Address").fill("12 MG Road")
        await page.get_by_label("PIN code").fill("560001")
        await page.get_by_label("City").fill("Bengaluru")
        await page.get_by_label("State").fill("Karnataka")
        await page.get_by_role("button", name="Save and continue").click()
        await page.get_by_label("Employer").fill("Acme Technologies Pvt Ltd")
        await page.get_by_label("Monthly income (₹)").fill("65000")
        await page.get_by_role("button", name="Save and continue").click()
        account = random_account()
        await page.get_by_label("Account number", exact=True).fill(account)
        await page.get_by_label("Account number again").fill(account)
        await page.get_by_label("IFSC").fill("HDFC0001234")
        await page.get_by_role("button", name="Save and continue").click()

        # the application, with the EMI preview the API computes for the same inputs
        await page.get_by_label("Loan", exact=True).select_option("DEMO-FAST")
        await page.get_by_label("Amount (₹)").fill("42000")
        await page.get_by_label("Number of installments").fill("6")
        preview = (
            await app.http.get(
                f"{app.api.url}/api/v1/web/products/DEMO-FAST/emi-preview",
                params={"brand": code, "amount": "42000", "tenure": 6},
            )
        ).json()
        emi = page.locator("#emi-value")
        await expect(emi).to_have_text(re.compile(r"^₹[0-9,]+\.[0-9]{2}$"))
        await expect(page.locator(".preview")).to_have_attribute("aria-busy", "false")
        assert _digits(await emi.inner_text()) == preview["emi"]
        assert _digits(await page.locator("#net-disbursed").inner_text()) == preview["net_disbursed"]
        kyc_reads = []  # the Loan screen's reads of the KYC progress
        page.on("request", lambda r: kyc_reads.append(r) if "include=kyc" in r.url else None)
        await page.get_by_role("button", name=re.compile("^Apply for")).click()

        # KYC: the bank statement is offered ahead, beside the Aadhaar OTP the loan waits for: uploaded first (the
        # offer then gone), then the OTP; the other steps run on their own and the statement step reads the upload
        await expect(page.get_by_label("Aadhaar number")).to_be_visible(timeout=SLOW)
        await expect(page.get_by_text("You can upload it now, while the other checks run")).to_be_visible()
        statement = {"name": "statement.pdf", "mimeType": "application/pdf", "buffer": sample_statement(SALARY=65000)}
        await page.get_by_label("Bank statement (PDF)").set_input_files(statement)
        await page.get_by_role("button", name="Upload statement").click()
        await expect(page.get_by_text("Statement uploaded: it is being analysed.")).to_be_visible(timeout=SLOW)
        await expect(page.get_by_label("Bank statement (PDF)")).to_have_count(0, timeout=SLOW)
        await page.get_by_label("Aadhaar number").fill(demo_aadhaar())
        await page.get_by_role("button", name="Send Aadhaar code").click()
        await page.get_by_label("Code sent to your Aadhaar-linked mobile").fill(SANDBOX_AADHAAR_OTP)
        await page.get_by_role("button", name="Verify Aadhaar").click()
        await expect(page.locator("#loan-status")).to_have_text("Under review by our credit team", timeout=SLOW)
        # the progress was long-polled (the API waits on the workflow), not read again and again
        polls = [r for r in kyc_reads if r.headers.get("prefer") == "wait=20" and r.headers.get("if-none-match")]
        assert polls, [(r.url, r.headers) for r in kyc_reads]

        # read back over the API: staff review has the loan, with the KYC steps passed
        loan_id = page.url.rsplit("/", 1)[1]
        token = await page.evaluate("JSON.parse(sessionStorage.getItem('los.customer')).accessToken")
        async with httpx.AsyncClient(base_url=app.api.url, headers={"Authorization": f"Bearer {token}"}) as http:
            loan = (await http.get(f"/api/v1/web/loans/{loan_id}")).json()
            details = (await http.get("/api/v1/web/personal-details")).json()
        assert loan["status"] == "UNDER_REVIEW", loan["statusHistory"]
        assert (loan["amountPaise"], loan["tenure"]) == (42_000_00, 6)
        assert details["pan"] == pan and details["firstName"] == "Asha" and details["aadhaarVerified"]
    finally:
        await driver.close()


async def _loan(driver: Driver, brand_code: str, until: str = "DISBURSED", pan: str = "") -> tuple[dict, str]:
    """A customer's loan taken to ``until`` (APPLIED, SANCTIONED or DISBURSED) over the public API as los/demo.py
    does: (their session as the app keeps it, the loan id)."""
    phone, made = demo_identity(0, "auto")
    pan = pan or made
    await driver._ok(
        await driver.api.post("/api/v1/web/auth/register", json={"phoneNumber": phone, "brand": brand_code})
    )
    otp = (await driver.latest_sms(phone, "verification code")).split()[0]
    tokens = await driver._ok(
        await driver.api.post(
            "/api/v1/web/auth/verify-otp", json={"phoneNumber": phone, "brand": brand_code, "otp": otp}
        )
    )
    headers = {"Authorization": f"Bearer {tokens['accessToken']}"}
    await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
    await driver.profile(headers)
    body = {"amount": "50000", "tenure": 3, "productCode": "DEMO-FAST"}
    created = await driver._ok(await driver.api.post("/api/v1/web/loans", json=body, headers=headers))
    j = Journey(loan_id=created["id"], workflow_id=created["workflowId"], phone=phone, pan=pan)
    deadline = time.monotonic() + 90
    if until == "APPLIED":
        return {**tokens, "phone": phone, "brand": brand_code}, j.loan_id
    await driver.complete_kyc(headers, j.loan_id, deadline)
    if until == "SANCTIONED":
        await driver.wait_for(headers, j.loan_id, lambda x: x["status"] == "SANCTIONED", "the sanction", deadline)
        return {**tokens, "phone": phone, "brand": brand_code}, j.loan_id
    loan = await driver.to_signature(headers, j, deadline)
    await driver.sign(headers, j, loan, deadline)
    await driver.disburse(headers, j, deadline)
    return {**tokens, "phone": phone, "brand": brand_code}, j.loan_id


async def _applied(db, app, sandbox, name: str, kyc_steps: list[str], pan: str = "") -> tuple[dict, str]:  # noqa: ANN001
    """A brand of its own named ``name`` whose KYC is ``kyc_steps`` (no installment falls due mid-test), and a
    customer's loan of it (of ``pan``, else a new auto-sanctioned identity's) just APPLIED: (their session as the
    app keeps it, the loan id)."""
    code = f"{name[0].lower()}{uuid.uuid4().hex[:8]}"
    seed_brand(db, sandbox.url, code=code, name=f"{name} {code}", period_seconds=None, kyc_steps=kyc_steps)
    driver = Driver(app.api.url, sandbox.url, code)
    try:
        return await _loan(driver, code, until="APPLIED", pan=pan or demo_identity(0, "auto")[1])
    finally:
        await driver.close()


async def _open(page, app, session: dict, path: str) -> None:  # noqa: ANN001
    """Open the app at ``path`` on a phone, the borrower signed in on this device (its session in sessionStorage)."""
    await page.add_init_script(f"sessionStorage.setItem('los.customer', {json.dumps(json.dumps(session))})")
    await page.set_viewport_size(PHONE)
    await page.goto(f"{app.api.url}/app?brand={session['brand']}#{path}")


async def test_disbursed_loan_schedule_part_payment_receipt_foreclosure_and_noc(
    app, monthly_brand, sandbox, page
) -> None:  # noqa: ANN001
    code = monthly_brand["brand_code"]
    driver = Driver(app.api.url, sandbox.url, code)
    try:
        session, loan_id = await _loan(driver, code)
    finally:
        await driver.close()
    await _open(page, app, session, f"/loan/{loan_id}")
    main = page.locator("main")

    schedule = page.get_by_role("table", name="Repayment schedule")
    await expect(schedule.locator("tbody tr")).to_have_count(3)
    await expect(schedule.locator("tbody tr").first).to_contain_text("Upcoming")

    # a part-payment: its link made by the API, paid on the sandbox gateway's page in a new tab
    await main.get_by_role("link", name="Pay", exact=True).click()
    await page.get_by_label("Part-payment amount (₹)").fill("2500")
    await page.get_by_role("button", name="Create payment link").click()
    async with page.context.expect_page() as opened:
        await page.get_by_role("link", name="Pay ₹2,500.00 now").click()
    gateway = await opened.value
    assert gateway.url.startswith(sandbox.url)
    await gateway.get_by_role("button", name="Pay with UPI").click()
    await gateway.wait_for_load_state()
    await gateway.close()

    # back in the app: the payment shows, and its receipt downloads as a PDF
    received = page.get_by_role("list", name="Payments received")
    await expect(received).to_contain_text("₹2,500.00", timeout=SLOW)
    await page.get_by_role("link", name="Receipts").click()
    receipt = page.get_by_role("button", name=re.compile("^Download receipt "))
    await receipt.wait_for(timeout=SLOW)
    async with page.expect_response(lambda r: "/receipts/" in r.url) as answered, page.expect_download() as saved:
        await receipt.click()
    response = await answered.value
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    download = await saved.value
    assert download.suggested_filename.startswith("receipt-") and download.suggested_filename.endswith(".pdf")
    with open(await download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"

    # read back over the API: one payment of ₹2,500, applied to the loan (its parts add up), principal reduced
    headers = {"Authorization": f"Bearer {session['accessToken']}"}
    http = httpx.AsyncClient(base_url=app.api.url, headers=headers)
    try:
        paid = (await http.get(f"/api/v1/web/loans/{loan_id}/payments")).json()["payments"]
        loan = (await http.get(f"/api/v1/web/loans/{loan_id}")).json()
        assert [p["amountPaise"] for p in paid] == [2500_00]
        assert paid[0]["receiptReady"] and sum(paid[0]["allocation"].values()) == 2500_00, paid[0]
        assert loan["outstandingPrincipalPaise"] < 50_000_00 and loan["totalCollectedPaise"] == 2500_00

        # the foreclosure quote, paid at the gateway: the loan closes and its NOC downloads
        await page.get_by_role("link", name="Pay", exact=True).click()
        quote = (await http.get(f"/api/v1/web/loans/{loan_id}/foreclosure-quote")).json()
        total = page.locator("#foreclosure-total")
        await expect(total).to_have_text(re.compile(r"^₹[0-9,]+\.[0-9]{2}$"))
        assert _digits(await total.inner_text()) == f"{quote['total'] / 100:.2f}"
        await page.get_by_role("button", name=re.compile("^Close the loan: pay ")).click()
        async with page.context.expect_page() as opened:
            await page.get_by_role("link", name=re.compile(r"^Pay ₹[0-9,.]+ now$")).click()
        gateway = await opened.value
        await gateway.get_by_role("button", name="Pay with UPI").click()
        await gateway.wait_for_load_state()
        await gateway.close()
        await expect(main.get_by_role("status")).to_contain_text("This loan is closed", timeout=SLOW)

        async def issued() -> bool:
            return (await http.get(f"/api/v1/web/loans/{loan_id}/noc")).status_code == 200

        await eventually(issued, timeout=30)
        await page.get_by_role("link", name="Documents").last.click()
        async with page.expect_download() as saved:
            await page.get_by_role("button", name="Download the NOC (PDF)").click()
        with open(await (await saved.value).path(), "rb") as pdf:
            assert pdf.read(5) == b"%PDF-"
        loan = (await http.get(f"/api/v1/web/loans/{loan_id}")).json()
        assert (loan["status"], loan["outstandingPrincipalPaise"]) == ("COMPLETED", 0), loan["statusHistory"][-1]
    finally:
        await http.aclose()


async def test_sanctioned_loan_kfs_accepted_signed_and_autopay(app, monthly_brand, sandbox, page) -> None:  # noqa: ANN001
    code = monthly_brand["brand_code"]
    driver = Driver(app.api.url, sandbox.url, code)
    try:
        session, loan_id = await _loan(driver, code, until="SANCTIONED")
    finally:
        await driver.close()
    await _open(page, app, session, f"/loan/{loan_id}")

    # the KFS read in the app, then accepted (the button waits for the box to be ticked)
    await page.get_by_role("link", name="Read the Key Fact Statement").click()
    facts = page.get_by_role("table", name="Key facts")
    await expect(facts).to_contain_text("₹50,000.00")
    accept = page.get_by_role("button", name="Accept the Key Fact Statement")
    await expect(accept).to_be_disabled()
    await page.get_by_label("I have read the Key Fact Statement and accept its terms").check()
    await accept.click()

    # signed on the eSign vendor's page in a new tab; the app sees the signature come back
    sign = page.get_by_role("link", name="Sign the agreement")
    await sign.wait_for(timeout=SLOW)
    async with page.context.expect_page() as opened:
        await sign.click()
    esign = await opened.value
    await esign.get_by_role("button", name="Sign with Aadhaar OTP").click()
    await esign.wait_for_load_state()
    await esign.close()
    await expect(page.locator("#loan-status")).to_have_text("Agreement signed: the money is being sent", timeout=SLOW)

    # autopay: registered at the gateway (its authorisation page), then cancelled
    await page.get_by_label("Pay by").select_option("UPI")
    await page.get_by_role("button", name="Set up autopay").click()
    authorise = page.get_by_role("link", name="Authorise autopay")
    await expect(authorise).to_have_attribute("href", re.compile("^" + re.escape(sandbox.url)))
    await page.get_by_role("button", name="Cancel autopay").click()
    await expect(page.locator("#autopay")).to_contain_text("cancelled")

    headers = {"Authorization": f"Bearer {session['accessToken']}"}
    async with httpx.AsyncClient(base_url=app.api.url, headers=headers) as http:
        loan = (await http.get(f"/api/v1/web/loans/{loan_id}")).json()
        kfs = (await http.get(f"/api/v1/web/loans/{loan_id}/kfs")).json()
        mandate = (await http.get(f"/api/v1/web/loans/{loan_id}/mandate")).json()
    assert loan["status"] in ("AGREEMENT_SIGNED", "DISBURSAL_PENDING") and loan["agreement"]["status"] == "SIGNED"
    assert kfs["accepted"]["kfsHash"] == kfs["kfsHash"]
    assert (mandate["method"], mandate["status"]) == ("UPI", "CANCELLED")


async def test_the_loan_screen_waits_on_the_api_for_the_loans_next_change(app, monthly_brand, sandbox, page) -> None:  # noqa: ANN001
    """A loan in review, open in the app: after its first read the screen long-polls it (its ETag, Prefer: wait=20);
    a long poll refused (here a 429) shows the refusal, and the next one, answered 304, clears it; then one long poll
    and nothing more while the loan stays as it is; the staff's sanction reaches the screen through it, at once."""
    code = monthly_brand["brand_code"]
    driver = Driver(app.api.url, sandbox.url, code)
    try:
        session, loan_id = await _loan(driver, code, until="APPLIED", pan=demo_identity(0, "review")[1])
        headers = {"Authorization": f"Bearer {session['accessToken']}"}
        deadline = time.monotonic() + 90
        await driver.wait_for(headers, loan_id, lambda x: x["status"] != "APPLIED", "the decision", deadline)
        path = f"/api/v1/web/loans/{loan_id}"
        reads = []
        page.on("request", lambda r: reads.append(r) if urlsplit(r.url).path == path else None)
        answered = []  # the first two long polls answered here: refused, then unchanged

        async def first_long_polls(route) -> None:  # noqa: ANN001
            if "prefer" not in route.request.headers or len(answered) == 2:
                await route.continue_()
            elif not answered:
                answered.append(429)
                await route.fulfill(status=429, json={"code": "RATE_LIMITED", "message": "slow down", "errors": []})
            else:
                answered.append(304)
                await route.fulfill(status=304, headers={"Preference-Applied": "wait=20"})

        await page.route(f"**{path}", first_long_polls)
        await _open(page, app, session, f"/loan/{loan_id}")
        status = page.locator("#loan-status")
        await expect(page.get_by_role("alert")).to_be_visible(timeout=10_000)  # the refusal, shown
        await expect(status).to_have_text("Under review by our credit team", timeout=10_000)  # and cleared by the 304
        assert answered == [429, 304]
        await asyncio.sleep(8)  # the app read it every 4 s in review before
        assert len(reads) == 4, [(r.url, r.headers) for r in reads]
        first, *_, waiting = reads
        assert "include=kyc" in first.url and "prefer" not in first.headers
        assert all(r.headers["prefer"] == "wait=20" for r in reads[1:])
        assert waiting.headers["if-none-match"] == (await first.response()).headers["etag"]

        sent = time.monotonic()
        await driver.sanction_via_hierarchy(loan_id, "income verified")
        await expect(status).to_have_text("Sanctioned: read and accept the Key Fact Statement", timeout=10_000)
        assert time.monotonic() - sent < 10
        answer = await waiting.response()
        assert answer.status == 200 and answer.headers["preference-applied"] == "wait=20"
        # and it goes on waiting: every read after the first is a long poll (one per change of the loan since)
        assert len(reads) >= 3 and all(r.headers.get("prefer") == "wait=20" for r in reads[1:])
    finally:
        await driver.close()


async def test_digilocker_step_hands_over_to_the_vendor_and_back(app, db, sandbox, page) -> None:  # noqa: ANN001
    pan = demo_identity(0, "auto")[1]  # (a new identity each call)
    session, loan_id = await _applied(db, app, sandbox, "DigiLocker", ["PAN", "DIGILOCKER"], pan)
    await _open(page, app, session, f"/loan/{loan_id}")

    link = page.get_by_role("link", name="Open DigiLocker")
    async with page.context.expect_page() as opened:
        await link.click(timeout=SLOW)
    digilocker = await opened.value
    await digilocker.wait_for_load_state()
    assert digilocker.url.startswith(f"{sandbox.url}/digilocker/authorize/")
    # the borrower signs in to DigiLocker (their PAN is in it) and allows; DigiLocker sends the browser to the API
    await digilocker.goto(f"{digilocker.url}?pan={pan}")
    async with digilocker.expect_response(lambda r: r.request.method == "POST") as answered:
        await digilocker.get_by_role("button", name="Allow").click()
    back = (await (await answered.value).json())["redirect_url"]
    assert back.startswith(f"{app.api.url}/api/v1/web/kyc/digilocker/callback?")
    await digilocker.goto(back)
    await expect(digilocker.locator("body")).to_contain_text("You can close this window")
    await digilocker.close()

    # the app, still open, moves on by itself: KYC done, the decision (score 780 without the other facts) is review
    await expect(page.locator("#loan-status")).to_have_text("Under review by our credit team", timeout=SLOW)
    headers = {"Authorization": f"Bearer {session['accessToken']}"}
    async with httpx.AsyncClient(base_url=app.api.url, headers=headers) as http:
        loan = (await http.get(f"/api/v1/web/loans/{loan_id}")).json()
    assert loan["status"] == "UNDER_REVIEW", loan["statusHistory"]
