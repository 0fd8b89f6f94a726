"""Settings → Providers in Chromium against the real stack: a form per vendor with its own labelled fields, secrets
shown masked and replaced only when typed, a rotated webhook secret with the previous one accepted for the hours
chosen, the failover order, and refusals naming the field (the page's own checks, then the API's 422) that change
nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from los.demo import Driver


async def _bsa(driver: Driver) -> dict[str, dict]:
    providers = await driver.partner("ADMIN", "GET", "/settings/providers")
    return {v["vendor"]: {**v, "order": n} for n, v in enumerate(providers["bsa"]["vendors"])}


async def test_providers_are_edited_vendor_by_vendor_secrets_kept_unless_typed(app, brand, sandbox, console) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        before = await _bsa(driver)
        page = console.page
        await console.sign_in("ADMIN")
        await console.open("/settings/providers")
        await page.get_by_label("Provider kind").select_option("bsa")
        cart = page.get_by_role("group", name="Vendor 1: cart")
        key = cart.get_by_label("API key", exact=True)
        await key.wait_for()
        assert await key.input_value() == ""  # never shown; the stored one masked beside it
        assert await key.get_attribute("placeholder") == before["cart"]["apiKey"] != ""
        await cart.get_by_text(f"Stored: {before['cart']['apiKey']}").first.wait_for()

        # the page's own check names the field, and nothing is sent
        await cart.get_by_label("Polls before giving up").fill("many")
        await page.get_by_role("button", name="Save the Bank-statement analysis providers").click()
        alert = page.get_by_role("alert")
        await alert.get_by_text("Vendor 1 (cart): options.poll_attempts: must be a number").wait_for()
        # the API's 422 names the field (a reserved name used as an option)
        await cart.get_by_label("Polls before giving up").fill("12")
        await cart.get_by_label("Other options (name=value a line)").fill("api_key=nope")
        await page.get_by_role("button", name="Save the Bank-statement analysis providers").click()
        await alert.get_by_text("Vendor 1 (cart): options.api_key").wait_for()
        assert await _bsa(driver) == before

        # a new webhook secret, the previous one accepted two hours more; finbox first; the API key kept
        await page.get_by_role("button", name="Move finbox up").click()
        await page.get_by_label("Primary vendor (tried first)").select_option("finbox")
        cart = page.get_by_role("group", name="Vendor 2: cart")
        await cart.get_by_label("Other options (name=value a line)").fill("")
        await cart.get_by_label("Webhook secret", exact=True).fill("rotated-cart-secret-2026")
        hours = cart.get_by_label("Hours the previous webhook secret is still accepted")
        await hours.fill("2")
        await hours.press("Enter")  # saved from the keyboard
        await page.get_by_role("status").get_by_text("The Bank-statement analysis providers are saved.").wait_for()
        after = await _bsa(driver)
        assert [after[v]["order"] for v in ("finbox", "cart", "scoreme")] == [0, 1, 2]
        assert after["finbox"]["primary"] and not after["cart"]["primary"]
        assert after["cart"]["apiKey"] == before["cart"]["apiKey"]
        assert after["cart"]["webhookSecret"] == "****2026" != before["cart"]["webhookSecret"]
        assert after["cart"]["options"]["poll_attempts"] == 12
        until = datetime.fromisoformat(after["cart"]["previousSecretUntil"])
        assert abs(until - (datetime.now(UTC) + timedelta(hours=2))) < timedelta(minutes=5)
        assert after["finbox"]["webhookSecret"] == before["finbox"]["webhookSecret"]
        await cart.get_by_text("The previous webhook secret").wait_for()

        # a vendor removed and added again needs its URL (checked here), then is saved with its own fields; the
        # others' options (the agents' extensions) go back as they were
        dialer_before = (await driver.partner("ADMIN", "GET", "/settings/providers"))["dialer"]["vendors"]
        await page.get_by_label("Provider kind").select_option("dialer")
        await page.get_by_role("button", name="Remove stringee").click()
        await page.get_by_label("Add a vendor").select_option("stringee")
        await page.get_by_role("button", name="Add the vendor").click()
        stringee = page.get_by_role("group", name="Vendor 2: stringee (new)")
        await stringee.get_by_label("API key SID").fill("SK.0.test")
        await page.get_by_role("button", name="Save the Dialer providers").click()
        needs_url = "Vendor 2 (stringee): base URL: a vendor configured for the first time needs its URL"
        await alert.get_by_text(needs_url).wait_for()
        await stringee.get_by_label("Base URL").fill(f"{sandbox.url}/")
        await stringee.get_by_label("API key", exact=True).fill("stringee-test-key-0001")
        await stringee.get_by_label("Ring time (seconds)").fill("30")
        await page.get_by_role("button", name="Save the Dialer providers").click()
        await page.get_by_role("status").get_by_text("The Dialer providers are saved.").wait_for()
        acefone, stringee_saved = (await driver.partner("ADMIN", "GET", "/settings/providers"))["dialer"]["vendors"]
        assert acefone == dialer_before[0]
        assert (stringee_saved["vendor"], stringee_saved["primary"], stringee_saved["apiKey"]) == (
            "stringee",
            False,
            "****0001",
        )
        assert stringee_saved["options"] == {"api_key_sid": "SK.0.test", "timeout": 30}
    finally:
        await driver.close()
