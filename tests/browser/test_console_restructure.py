"""The loan's Restructure tab in Chromium against the real stack, on an overdue loan made over the public API (the
sandbox playing the borrower's vendors): the page's own checks, the proposer refused in words when approving their
own proposal (maker-checker), a rejection with one of the brand's reasons, then a second proposal approved by
another person and the new schedule shown."""

from __future__ import annotations

import random

from los.demo import Driver
from los.demo_collections import _begin, _overdue


async def test_a_restructure_is_proposed_refused_rejected_and_approved_by_another(app, brand, sandbox, console) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"], timeout=120)
    try:
        headers, j, _, deadline = await _begin(driver, random.randrange(10**6))
        await _overdue(driver, headers, j, deadline)
        loan_id = j.loan_id
        page = console.page
        alert = page.get_by_role("alert")
        propose = page.get_by_role("button", name="Propose the restructure")

        # the collection head proposes; the page checks the count first; approving their own is refused in words
        await console.sign_in("COLLECTION_HEAD")
        await console.open(f"/loans/{loan_id}?tab=restructure")
        await page.get_by_label("New number of installments").fill("0")
        await page.get_by_label("Ground").select_option("Medical emergency")
        await propose.click()
        await alert.get_by_text("Please correct: installments: a whole number from 1 to 360.").wait_for()
        await page.get_by_label("New number of installments").fill("6")
        await page.get_by_label("Reason / remarks").fill("hospitalised for a month")
        await propose.click()
        await page.get_by_text("Restructure proposed: another person").wait_for()
        await page.get_by_role("button", name="Approve the restructure").click()
        refusal = await alert.inner_text()
        expected = "You are not allowed to do this: maker-checker: you proposed this restructure"
        assert refusal.startswith(expected), refusal
        (proposed,) = await driver.partner("ADMIN", "GET", f"/collection/{loan_id}/restructures")
        assert (proposed["status"], proposed["installments"]) == ("PROPOSED", 6)
        assert proposed["reason"] == "Medical emergency: hospitalised for a month"
        await page.get_by_role("table", name="Restructured schedule").wait_for()

        # the admin rejects it, with one of the brand's reasons (a rejection without one is stopped here)
        await console.sign_in("ADMIN")
        await console.open(f"/loans/{loan_id}?tab=restructure")
        await page.get_by_role("button", name="Reject the restructure").click()
        await alert.get_by_text("a rejection needs a reason").wait_for()
        await page.get_by_label("Reason for a rejection").select_option("POLICY_DECLINE")
        await page.get_by_role("button", name="Reject the restructure").click()
        await page.get_by_text("Restructure rejected").wait_for()
        (rejected,) = await driver.partner("ADMIN", "GET", f"/collection/{loan_id}/restructures")
        assert rejected["status"] == "REJECTED"

        # the collection manager proposes again; the head, another person, approves: the new schedule applies
        await console.sign_in("COLLECTION_MANAGER")
        await console.open(f"/loans/{loan_id}?tab=restructure")
        await page.get_by_label("New number of installments").fill("4")
        await page.get_by_label("Ground").select_option("Temporary loss of income")
        await propose.click()
        await page.get_by_text("Restructure proposed").wait_for()
        await console.sign_in("COLLECTION_HEAD")
        await console.open(f"/loans/{loan_id}?tab=restructure")
        await page.get_by_role("button", name="Approve the restructure").click()
        await page.get_by_text("Restructure approved: the new schedule applies").wait_for()
        await page.get_by_role("heading", name="The new schedule").wait_for()
        schedule = page.get_by_role("table", name="Restructured schedule")
        assert await schedule.locator("tbody tr").count() == 4
        approved, _ = await driver.partner("ADMIN", "GET", f"/collection/{loan_id}/restructures")
        staff = {s["role"]: s["id"] for s in brand["staff"]}
        assert (approved["status"], approved["installments"]) == ("APPROVED", 4)
        people = (approved["proposedBy"], approved["decidedBy"])
        assert people == (staff["COLLECTION_MANAGER"], staff["COLLECTION_HEAD"])
    finally:
        await driver.close()
