"""Screenshots of the console's later pages for the README, taken from a running stack after ``bench/screens.py``.

    python bench/screens_more.py --api URL --sandbox URL [--out docs/images] [--brand demo]

``scripts/screenshots`` calls it once ``bench/screens.py`` has taken the first pictures. Over the public API
(``los.demo.Driver``) it makes one more loan fall overdue (nobody pays its first installment), then Chromium
(Playwright) signs in through the real pages and saves, at 1280x800:

    console-restructure.png  the loan's Restructure tab (the loan's tabs at the top): a restructure proposed by the
                             collection head (6 installments, a medical emergency) waiting for another person
    console-collector.png    the collector's profile, as the collection executive: cases allocated, today's work,
                             what was recovered
    console-providers.png    settings, providers: a form per vendor, secrets masked, the failover order
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.screens import CHROMIUM_ARGS, DESKTOP, INDIA, WAIT, console_sign_in, log, settle, shoot  # noqa: E402
from los.demo import Driver  # noqa: E402
from los.demo_collections import _begin, _overdue  # noqa: E402


async def overdue_loan(api: str, sandbox: str, brand: str) -> str:
    """A loan disbursed over the public API whose first installment nobody pays: its id once it is OVERDUE,
    allocated by the collection manager to the brand's collection executive (whose profile the pictures show)."""
    driver = Driver(api, sandbox, brand, timeout=120)
    try:
        headers, journey, _, deadline = await _begin(driver, random.randrange(10**6))
        await _overdue(driver, headers, journey, max(deadline, time.monotonic() + 180))
        executive = await driver.staff_headers("COLLECTION_EXECUTIVE")
        me = await driver._ok(await driver.api.get("/api/v1/partner/auth/me", headers=executive))
        allocation = {"loanIds": [journey.loan_id], "staffId": me["id"], "reason": "their area"}
        await driver.partner("COLLECTION_MANAGER", "POST", "/collection/allocate", json=allocation)
        return journey.loan_id
    finally:
        await driver.close()


async def pictures(browser: Any, api: str, brand: str, loan_id: str, out: Path) -> None:
    """The Restructure tab with a proposal, the collector's profile, the providers' settings."""
    context = await browser.new_context(viewport=DESKTOP, **INDIA)
    page = await context.new_page()
    await console_sign_in(page, api, "COLLECTION_HEAD", brand, f"/loans/{loan_id}?tab=restructure")
    await page.get_by_label("New number of installments").fill("6", timeout=WAIT)
    await page.get_by_label("Ground").select_option("Medical emergency")
    await page.get_by_label("Reason / remarks").fill("hospitalised for a month; salary resumes next quarter")
    await page.get_by_role("button", name="Propose the restructure").click()
    await page.get_by_text("Restructure proposed: another person").wait_for(timeout=WAIT)
    await page.get_by_role("table", name="Restructured schedule").wait_for(timeout=WAIT)
    await settle(page)
    # the loan's tabs at the top (Restructure chosen), the proposal to decide and the restructures below them
    await page.evaluate(
        "const tabs = document.querySelector('[aria-label=\"Loan sections\"]');"
        "window.scrollTo(0, tabs.getBoundingClientRect().top + window.scrollY - 12)"
    )
    await shoot(page, out, "console-restructure", top=False)
    await context.close()

    context = await browser.new_context(viewport=DESKTOP, **INDIA)
    page = await context.new_page()
    await console_sign_in(page, api, "COLLECTION_EXECUTIVE", brand, "/collectors")
    await page.get_by_role("heading", name="Allocated cases").wait_for(timeout=WAIT)
    await shoot(page, out, "console-collector")
    await context.close()

    context = await browser.new_context(viewport=DESKTOP, **INDIA)
    page = await context.new_page()
    await console_sign_in(page, api, "ADMIN", brand, "/settings/providers")
    await page.get_by_role("group", name="Vendor 1: ", exact=False).first.wait_for(timeout=WAIT)
    await shoot(page, out, "console-providers")
    await context.close()


async def run(args: argparse.Namespace) -> None:
    """Prepare the overdue loan, then take the pictures."""
    from playwright.async_api import async_playwright

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log("an overdue loan for the Restructure tab")
    loan_id = await overdue_loan(args.api, args.sandbox, args.brand)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS, headless=True)
        try:
            await pictures(browser, args.api, args.brand, loan_id, out)
        finally:
            await browser.close()


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments and take the screenshots."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--api", required=True, help="the API's base URL")
    parser.add_argument("--sandbox", required=True, help="the sandbox's base URL")
    parser.add_argument("--brand", default="demo")
    parser.add_argument("--chromium", default=os.environ.get("LOS_CHROMIUM_PATH") or shutil.which("chromium"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"))
    asyncio.run(run(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
