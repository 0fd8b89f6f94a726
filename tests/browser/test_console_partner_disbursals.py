"""The partner disbursals view in Chromium against the real stack (API, worker, Temporal, PostgreSQL, the sandbox's
partner twins): a loan booked with Kavach whose disbursal Kavach says FAILED is asked past its SLA and re-sent by
the watch; loan ops find it from their navigation among the open cases (partner, SLA, time overdue, the answers, the
re-send) and open the loan's case."""

from __future__ import annotations

from datetime import timedelta

import httpx

from tests.integration.test_partner_disbursal_resend import _overdue, _watch
from tests.integration.test_partner_disbursal_watch import _booked_loan, _case, _disbursed, _partner


async def test_loan_ops_see_an_open_partner_disbursal_with_its_resend(app, brand, sandbox, db, console) -> None:  # noqa: ANN001
    _partner(db, brand, sandbox.url, "kavach", "Kavach Finvest")
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=30) as box:
        loan_id, _ = await _booked_loan(db, brand, box, "kavach")
        await box.post("/_partners/disbursals", json={"partner": "kavach", "reference": loan_id, "status": "FAILED",
                                                      "afterResend": False})  # fmt: skip
        await box.post("/_partners/disbursals", json={"partner": "kavach", "reference": loan_id, "status": "PENDING",
                                                      "afterResend": True})  # fmt: skip
        try:
            _disbursed(db, loan_id, timedelta(minutes=5))
            await _watch(app)
            _overdue(db, _case(db, loan_id).id)
            await _watch(app)  # FAILED at Kavach: re-sent, still open (held PENDING after the re-send)
        finally:
            await box.delete("/_partners/disbursals")

    page = console.page
    await console.sign_in("LOAN_EXECUTIVE")
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Partner disbursals").click()
    row = page.locator(f"tr[data-case='{loan_id}']")
    await row.wait_for()
    assert "Kavach Finvest" in await row.inner_text()
    assert await row.locator("[data-answers]").inner_text() == "FAILED → RESENT"
    assert await row.locator("[data-resend='ACCEPTED']").count() == 1
    overdue = int(await row.locator("[data-overdue]").get_attribute("data-overdue") or "0")
    assert overdue >= 3590  # due an hour ago
    assert "1 h 0 min" in await row.inner_text()  # the SLA
    await row.get_by_role("link").click()
    case = page.locator("#partner-disbursal-case")
    await case.wait_for()
    text = await case.inner_text()
    assert "kavach" in text and "not yet" in text  # not confirmed
    answers = page.get_by_role("table", name="The partner's answers and the re-send, oldest first")
    assert await answers.get_by_role("row").count() == 3  # the header, FAILED, RESENT
    await page.get_by_role("link", name="← Back to the loan").wait_for()
