"""The borrower's KYC screen while the workflow runs its automated checks, in Chromium at a phone's size against the
real stack (API, worker, Temporal dev server, PostgreSQL, the sandbox's KYC vendor over HTTP).

The workflow runs the automated steps (mobile, CKYC...) as local activities in one workflow task, and the Temporal
server answers a query only between tasks: while a vendor is slow, the app's read of its KYC progress (a query with a
3 s timeout) comes back without any. The screen keeps the progress it last showed, says the details are being checked,
and does not fall back to "Starting the checks…" as if nothing had been done."""

from __future__ import annotations

import json

import httpx
from playwright.async_api import expect

from los.demo import SANDBOX_AADHAAR_OTP, demo_aadhaar
from tests.browser.test_app_journey import SLOW, _applied, _open

# Seen by the page itself: each state of the screen while the loan is APPLIED (a MutationObserver, so a state that
# lasts a moment between two checks of the test is seen too): the status line, each KYC step's badge, and whether
# the Aadhaar form is there.
WATCH_SCREEN = """() => {
  window.__kycScreens = [];
  const seen = () => {
    if (!(document.querySelector("#loan-status")?.textContent || "").startsWith("Application received")) return;
    const status = [...document.querySelectorAll("main [role=status]")].map((el) => el.textContent.trim()).join(" | ");
    const steps = [...document.querySelectorAll("ol.kyc-steps li")].map((li) => li.textContent.trim()).join(" | ");
    const form = !!document.querySelector("#aadhaarOtp, #aadhaar");
    const state = JSON.stringify({ status, steps, form });
    if (window.__kycScreens[window.__kycScreens.length - 1] !== state) window.__kycScreens.push(state);
  };
  seen();
  new MutationObserver(seen).observe(document.body, { childList: true, subtree: true, characterData: true });
}"""


async def test_the_kyc_screen_keeps_its_progress_while_a_slow_vendor_holds_the_checks(app, db, sandbox, page) -> None:  # noqa: ANN001
    session, loan_id = await _applied(db, app, sandbox, "Slow CKYC", ["PAN", "AADHAAR", "CKYC"])
    answers: list = []
    page.on("response", lambda r: answers.append(r) if f"/loans/{loan_id}?include=kyc" in r.url else None)
    await _open(page, app, session, f"/loan/{loan_id}")
    steps = page.locator("ol.kyc-steps")
    await page.get_by_label("Aadhaar number").fill(demo_aadhaar(), timeout=SLOW)
    await expect(steps).to_contain_text("PAN check")
    await page.get_by_role("button", name="Send Aadhaar code").click()
    await page.get_by_label("Code sent to your Aadhaar-linked mobile").fill(SANDBOX_AADHAAR_OTP)

    # the CKYC vendor's next search answers 8 s late: the workflow task running it stays open that long
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as http:
        slow = {"vendor": "digitap", "path": "/digitap/ckyc/search", "seconds": 8, "times": 1}
        (await http.post("/_chaos/slow", json=slow)).raise_for_status()
        try:
            await page.evaluate(WATCH_SCREEN)
            answers.clear()
            await page.get_by_role("button", name="Verify Aadhaar").click()
            await expect(page.locator("#loan-status")).not_to_have_text(
                "Application received: verification in progress", timeout=SLOW
            )
        finally:
            await http.delete("/_chaos/slow", params={"vendor": "digitap"})

    bodies = [await r.json() for r in answers if r.ok]
    # the case this test is about happened: a read of the APPLIED loan came back without its KYC progress
    assert any(b["status"] == "APPLIED" and b["kyc"] is None for b in bodies), [b.get("kyc") for b in bodies]
    screens = [json.loads(state) for state in await page.evaluate("window.__kycScreens")]
    assert screens, "the screen was never seen while APPLIED"
    # never back to nothing: the steps stay listed, PAN done, and the progress is never lost
    for screen in screens:
        assert "Starting the checks…" not in screen["status"], screens
        assert "PAN check done" in screen["steps"], screens
    # while the checks ran with nothing read back, the details were said to be in check and the form gone: the OTP is
    # answered before the checks after it run (aadhaar-answer-first-v2), and its answer (VERIFIED) shows the step the
    # borrower just answered done, never "checking…" again
    assert any(
        "Checking your details…" in screen["status"] and not screen["form"] and "Aadhaar e-KYC done" in screen["steps"]
        for screen in screens
    ), screens
    verified = next(i for i, screen in enumerate(screens) if "Aadhaar e-KYC done" in screen["steps"])
    assert all("Aadhaar e-KYC checking…" not in screen["steps"] for screen in screens[verified:]), screens

    # the checks went on to the decision, which the screen showed (the credit decision as the sandbox's bureau gives it)
    headers = {"Authorization": f"Bearer {session['accessToken']}"}
    async with httpx.AsyncClient(base_url=app.api.url, headers=headers) as http:
        loan = (await http.get(f"/api/v1/web/loans/{loan_id}")).json()
    assert loan["status"] in ("SANCTIONED", "UNDER_REVIEW"), loan["statusHistory"]
    assert loan["kyc"] is None  # not asked for: the loan has left APPLIED
