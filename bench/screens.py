"""Screenshots of the console and the borrower's app for the README and the docs, taken from a running stack.

    python bench/screens.py --api URL --sandbox URL [--out docs/images] [--brand demo]

``scripts/screenshots`` starts ``los up`` in a temporary home, runs a few ``los demo --scenario`` journeys, then
calls this. Over the public API (``los.demo.Driver``) it adds the loans the pictures need that a finished scenario
does not leave behind: two applications waiting for the credit executive, a loan left unpaid (in collections), and
a borrower with a monthly loan being repaid. Then Chromium (Playwright) signs in through the real pages and saves:

    console-dashboard.png    the dashboard, 1280x800, as the admin
    console-queue.png        the credit executive's queue
    console-loan.png         a loan's profile
    console-collections.png  the collections workbench of the unpaid loan, as the collection manager
    app-loan.png             the app's loan screen on a phone (360x740), signed in with the SMS code
    app-apply.png            the app's apply screen with the EMI preview
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from los.demo import Driver, demo_identity, random_account  # noqa: E402
from los.seed import DEMO_PASSWORD, staff_email  # noqa: E402

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run", "--lang=en-IN"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
INDIA = {"locale": "en-IN", "timezone_id": "Asia/Kolkata"}
WAIT = 60_000  # ms
RESEND_GAP_S = 62  # the API sends a customer one sign-in code a minute
PEOPLE = [  # (first, last, employer, monthly salary in rupees)
    ("Priya", "Raghunathan", "Infosys Ltd", "82000"),
    ("Arjun", "Mehta", "Tata Consultancy Services", "64000"),
    ("Sneha", "Kulkarni", "Wipro Ltd", "58000"),
    ("Rahul", "Nair", "HDFC Bank Ltd", "91000"),
]
# The names the customers end with come from the PAN check (the sandbox's registry answers a name per PAN).


def log(msg: str) -> None:
    """A progress line on stderr."""
    print(f"[screens] {msg}", file=sys.stderr, flush=True)


async def applicant(driver: Driver, person: tuple[str, str, str, str], branch: str) -> tuple[dict, str]:
    """Register a borrower with a name, details, salary account and employer: (headers, phone)."""
    first, last, employer, salary = person
    phone, pan = demo_identity(0, branch)
    headers = await driver.register(phone)
    await driver._ok(await driver.api.post("/api/v1/web/kyc/verify-pan", json={"pan": pan}, headers=headers))
    details = {
        "firstName": first,
        "lastName": last,
        "email": f"{first.lower()}.{last.lower()}@example.in",
        "address": "14 Residency Road",
        "pincode": "560025",
        "city": "Bengaluru",
        "state": "Karnataka",
    }
    await driver._ok(await driver.api.post("/api/v1/web/personal-details/update", headers=headers, json=details))
    await driver.add_account(headers, random_account())
    job = {"employerName": employer, "monthlySalary": salary}
    await driver._ok(await driver.api.post("/api/v1/web/employment/add", headers=headers, json=job))
    return headers, phone


async def apply(driver: Driver, headers: dict, amount: int, tenure: int, product: str) -> str:
    """Apply and answer KYC; the loan's id once it has left APPLIED."""
    body = {"amount": str(amount), "tenure": tenure, "productCode": product}
    created = await driver._ok(await driver.api.post("/api/v1/web/loans", json=body, headers=headers))
    await driver.complete_kyc(headers, created["id"], time.monotonic() + 120)
    return created["id"]


async def to_disbursed(driver: Driver, headers: dict, loan_id: str) -> None:
    """Sanction (by the hierarchy if in review), KFS, eSign and disbursal, as the demo's journeys do."""
    from los.demo import Journey

    j = Journey(loan_id=loan_id)
    deadline = time.monotonic() + 180
    loan = await driver.to_signature(headers, j, deadline)
    await driver.sign(headers, j, loan, deadline)
    await driver.disburse(headers, j, deadline)


async def prepare(api: str, sandbox: str, brand: str) -> dict[str, Any]:
    """The loans the pictures show: {review, overdue, monthly, phone}."""
    driver = Driver(api, sandbox, brand)
    try:
        payer, phone = await applicant(driver, PEOPLE[3], "auto")  # first: the app signs them in again later
        registered = time.monotonic()
        monthly = await apply(driver, payer, 120_000, 12, "PL-MONTHLY")
        await to_disbursed(driver, payer, monthly)
        reviewed = await asyncio.gather(*(applicant(driver, p, "review") for p in PEOPLE[:4]))
        review_ids = await asyncio.gather(
            *(apply(driver, h, 85_000 + 40_000 * i, 6 + 3 * i, "PL-MONTHLY") for i, (h, _) in enumerate(reviewed))
        )
        late, _ = await applicant(driver, PEOPLE[2], "auto")
        overdue = await apply(driver, late, 60_000, 3, "DEMO-FAST")
        await to_disbursed(driver, late, overdue)
        # the unpaid loan falls behind within seconds (its months last seconds); wait until it shows OVERDUE
        await driver.wait_for(late, overdue, lambda x: x["status"] == "OVERDUE", "overdue", time.monotonic() + 120)
        return {"review": review_ids[0], "overdue": overdue, "monthly": monthly, "phone": phone, "at": registered}
    finally:
        await driver.close()


async def console_sign_in(page: Any, api: str, role: str, brand: str, route: str) -> None:
    """Sign in on the console's own page as ``role``, landing on ``route``."""
    await page.goto(f"{api}/console#{route}")
    await page.get_by_label("E-mail").fill(staff_email(role, brand))
    await page.get_by_label("Password").fill(DEMO_PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("navigation", name="Main").wait_for(timeout=WAIT)


async def settle(page: Any) -> None:
    """Let the page finish its calls and draw (charts, fonts) before the picture."""
    await page.wait_for_load_state("networkidle")
    await page.wait_for_timeout(600)


async def shoot(page: Any, out: Path, name: str, top: bool = True) -> None:
    """Save the viewport as ``name``.png (scrolled to the top unless ``top`` is false)."""
    await settle(page)
    if top:
        await page.evaluate("window.scrollTo(0, 0)")
    path = out / f"{name}.png"
    await page.screenshot(path=str(path), animations="disabled")
    log(f"{path.name}: {path.stat().st_size // 1024} KB")


async def console_pictures(browser: Any, api: str, brand: str, loans: dict, out: Path) -> None:
    """The dashboard, a queue and a loan as the admin; the collections workbench as the collection manager."""
    context = await browser.new_context(viewport=DESKTOP, **INDIA)
    page = await context.new_page()
    await console_sign_in(page, api, "ADMIN", brand, "/dashboard")
    await page.get_by_role("heading", name="Dashboard").first.wait_for(timeout=WAIT)
    await shoot(page, out, "console-dashboard")
    await page.goto(f"{api}/console#/queues/credit-executive")
    await page.locator("main table tbody tr").first.wait_for(timeout=WAIT)
    await shoot(page, out, "console-queue")
    await page.goto(f"{api}/console#/loans/{loans['monthly']}")
    await page.get_by_text("Workflow in Temporal UI").first.wait_for(timeout=WAIT)
    await shoot(page, out, "console-loan")
    await context.close()

    context = await browser.new_context(viewport=DESKTOP, **INDIA)
    page = await context.new_page()
    await console_sign_in(page, api, "COLLECTION_MANAGER", brand, f"/collections?loan={loans['overdue']}")
    await page.get_by_test_id("loan-status").wait_for(timeout=WAIT)
    await shoot(page, out, "console-collections")
    await context.close()


async def sms_codes(driver: Driver, phone: str) -> list[str]:
    """The sign-in codes the sandbox's SMS vendor has sent to ``phone``, oldest first."""
    sent = await driver._ok(await driver.sandbox.get("/gupshup/messages", params={"to": phone}))
    return [m["text"].split()[0] for m in sent if "verification code" in m["text"]]


async def app_pictures(browser: Any, api: str, sandbox: str, brand: str, loans: dict, out: Path) -> None:
    """The borrower signs in on the app's page with the SMS code; the loan screen, then Apply with its preview."""
    context = await browser.new_context(viewport=PHONE, **INDIA, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = await context.new_page()
    await asyncio.sleep(max(0.0, loans["at"] + RESEND_GAP_S - time.monotonic()))  # one SMS code a minute
    await page.goto(f"{api}/app?brand={brand}")
    await page.get_by_label("Mobile number").fill(loans["phone"])
    driver = Driver(api, sandbox, brand)
    try:
        before = await sms_codes(driver, loans["phone"])
        await page.get_by_role("button", name="Send code").click()
        await page.get_by_label("One-time code").wait_for(timeout=WAIT)
        for _ in range(100):
            codes = await sms_codes(driver, loans["phone"])
            if len(codes) > len(before):
                break
            await asyncio.sleep(0.1)
    finally:
        await driver.close()
    await page.get_by_label("One-time code").fill(codes[-1])
    await page.get_by_role("button", name="Verify and continue").click()
    await page.get_by_role("navigation").first.wait_for(timeout=WAIT)
    await page.goto(f"{api}/app?brand={brand}#/loan/{loans['monthly']}")
    await page.get_by_role("table", name="Repayment schedule").wait_for(timeout=WAIT)
    await shoot(page, out, "app-loan")
    await page.goto(f"{api}/app?brand={brand}#/apply")
    await page.get_by_label("Loan", exact=True).select_option("PL-MONTHLY")
    await page.get_by_label("Amount (₹)").fill("150000")
    await page.get_by_label("Number of installments").fill("12")
    await page.locator(".preview[aria-busy='false']").wait_for(timeout=WAIT)
    await page.evaluate("document.activeElement.blur()")
    # the amount and installments above, the preview below them
    await page.evaluate("window.scrollBy(0, document.querySelector('.preview').getBoundingClientRect().top - 330)")
    await shoot(page, out, "app-apply", top=False)
    await context.close()


async def run(args: argparse.Namespace) -> None:
    """Prepare the loans, then take every picture."""
    from playwright.async_api import async_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log("preparing loans over the API")
    loans = await prepare(args.api, args.sandbox, args.brand)
    log(f"loans: {loans}")
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            await console_pictures(browser, args.api, args.brand, loans, out)
            await app_pictures(browser, args.api, args.sandbox, args.brand, loans, out)
        finally:
            await browser.close()


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--api", required=True, help="the API's base URL")
    parser.add_argument("--sandbox", required=True, help="the sandbox's base URL")
    parser.add_argument("--brand", default="demo")
    parser.add_argument("--chromium", default=os.environ.get("LOS_CHROMIUM_PATH") or shutil.which("chromium"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"))
    asyncio.run(run(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
