"""Each partner adapter against its sandbox twin, in process (httpx over ASGI): its own payload shape and auth,
its answers mapped back, the twin's own policy, and the scenario switches a test or the demo uses."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from activities.providers.base import BusinessRefusal, ProviderError
from activities.providers.partners import ADAPTERS, PartnerApplication, PartnerDecision, adapter
from sandbox.app import create_app
from sandbox.partners import DEFAULT_SECRET

APP = PartnerApplication(
    reference="loan-L1:partners:1:x", loan_id="L1", full_name="Diya Patel", pan="ABCDE1234F", dob=date(1990, 1, 15),
    phone="+919876543210", email="diya@example.com", state="Gujarat", pincode="380001", bureau_score=760,
    amount=60_000_00, tenure=6, repay_unit="MONTHS", annual_rate_bps=1850, fees=1_200_00, gst=216_00,
    net_disbursed=58_584_00, emi=10_531_00, apr="24.10",
)  # fmt: skip
SETTINGS = {
    "lendbox": {"api_key": "lbx-key", "partner_id": "P-77"},
    "kavach": {"api_key": "kv-token"},
    "navodaya": {"api_key": "nv-key", "webhook_secret": DEFAULT_SECRET},
}


@pytest.fixture
async def sandbox():  # noqa: ANN201
    app = create_app(delay_seconds=0, hang_seconds=0.2)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox") as http:
        yield http


def partner(http: httpx.AsyncClient, code: str, **extra: str):  # noqa: ANN201
    return adapter(http, code, {"base_url": "http://sandbox", **SETTINGS[code], **extra})


async def received(http: httpx.AsyncClient, code: str) -> list[dict]:
    return (await http.get("/_partners/applications", params={"partner": code})).json()


def test_every_adapter_is_registered_with_a_distinct_path() -> None:
    assert sorted(ADAPTERS) == ["kavach", "lendbox", "navodaya"]
    assert len({cls.submit_path for cls in ADAPTERS.values()}) == 3


async def test_lendbox_nested_rupees_and_api_key_headers(sandbox: httpx.AsyncClient) -> None:
    decision = await partner(sandbox, "lendbox").submit(APP, timeout=5)
    assert decision.accepted and decision.partner_reference.startswith("LBX")
    (got,) = await received(sandbox, "lendbox")
    assert got["request"]["partner_loan_id"] == APP.reference
    assert got["request"]["loan"] == {
        "amount": "60000.00", "tenure_months": 6, "roi": "18.50", "processing_fee": "1200.00", "gst": "216.00",
        "net_disbursal": "58584.00", "emi": "10531.00", "apr": "24.10",
    }  # fmt: skip
    assert got["request"]["borrower"]["mobile"] == "9876543210"


async def test_lendbox_declines_by_its_own_policy(sandbox: httpx.AsyncClient) -> None:
    low = PartnerApplication(**{**APP.as_dict(), "dob": APP.dob, "bureau_score": 690})
    decision = await partner(sandbox, "lendbox").submit(low, timeout=5)
    assert decision == PartnerDecision(False, reason="bureau score 690 below Lendbox's 700", code="POLICY")


async def test_kavach_camel_case_bearer(sandbox: httpx.AsyncClient) -> None:
    decision = await partner(sandbox, "kavach").submit(APP, timeout=5)
    assert decision.accepted and decision.partner_reference.startswith("KVF-")
    (got,) = await received(sandbox, "kavach")
    body = got["request"]
    assert (body["externalRef"], body["loanAmount"], body["tenureMonths"], body["interestRate"]) == (
        APP.reference, 60000.0, 6, 18.5,
    )  # fmt: skip
    assert body["applicant"]["panNumber"] == "ABCDE1234F" and body["applicant"]["address"]["pinCode"] == "380001"


async def test_kavach_declines_a_negative_listed_pan(sandbox: httpx.AsyncClient) -> None:
    bad = PartnerApplication(**{**APP.as_dict(), "dob": APP.dob, "pan": "FAILP1234F"})
    decision = await partner(sandbox, "kavach").submit(bad, timeout=5)
    assert decision == PartnerDecision(False, reason="PAN on Kavach's negative list", code="POLICY")


async def test_navodaya_snake_case_paise_and_hmac_signature(sandbox: httpx.AsyncClient) -> None:
    decision = await partner(sandbox, "navodaya").submit(APP, timeout=5)
    assert decision.accepted and decision.partner_reference.startswith("NAV")
    (got,) = await received(sandbox, "navodaya")
    assert (got["request"]["principal_paise"], got["request"]["rate_bps"], got["request"]["tenor_months"]) == (
        60_000_00, 1850, 6,
    )  # fmt: skip


async def test_navodaya_refuses_a_wrong_signature(sandbox: httpx.AsyncClient) -> None:
    """A 401 is the lender refusing our credentials: a no with its reason, never retried."""
    decision = await partner(sandbox, "navodaya", webhook_secret="wrong").submit(APP, timeout=5)
    assert not decision.accepted and decision.code == "SIGNATURE"
    assert await received(sandbox, "navodaya") == []


async def test_scenario_switches_decline_and_error(sandbox: httpx.AsyncClient) -> None:
    await sandbox.post("/_partners/behaviour", json={"partner": "kavach", "mode": "decline", "reference": "L1"})
    await sandbox.post("/_partners/behaviour", json={"partner": "lendbox", "mode": "error"})
    declined = await partner(sandbox, "kavach").submit(APP, timeout=5)
    assert not declined.accepted and declined.reason == "declined on request"
    with pytest.raises(ProviderError):  # a 503 is transient: the activity retries it within the SLA
        await partner(sandbox, "lendbox").submit(APP, timeout=5)
    assert (await partner(sandbox, "lendbox").submit(APP, timeout=5)).accepted  # the switch was for one call
    bad = await sandbox.post("/_partners/behaviour", json={"partner": "other", "mode": "decline"})
    assert bad.status_code == 400


async def test_an_unknown_adapter_is_a_refusal() -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(BusinessRefusal):
            adapter(http, "nobody", {"base_url": "http://x"})
