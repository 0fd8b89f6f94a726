"""A vendor's refusal reaches the workflow (its history, a hold's reason) as its code and description only, with
any long digit run a vendor may echo back (an account, Aadhaar or phone number) masked to its last 4 digits."""

from __future__ import annotations

import httpx
import pytest

from activities.providers.base import BusinessRefusal, HttpProvider, ProviderConfig


async def test_a_refusal_names_the_vendors_code_and_masks_what_it_echoed() -> None:
    body = {"error": {"code": "BAD_REQUEST_ERROR", "description": "account 55551234567 is closed", "raw": "x" * 900}}

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json=body)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        bank = HttpProvider(http, ProviderConfig(kind="disbursal", vendor="idfc", base_url="http://bank.invalid"))
        with pytest.raises(BusinessRefusal) as refused:
            await bank.call("POST", "/idfc/v1/payouts", json={})
    message = str(refused.value)
    assert message == "idfc: HTTP 400: BAD_REQUEST_ERROR; account XXXXXXX4567 is closed"
    assert "55551234567" not in message and refused.value.code == "BAD_REQUEST_ERROR"
    assert refused.value.details == body  # the whole answer stays with the exception, not in its message
