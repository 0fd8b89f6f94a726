"""Every provider adapter against the sandbox over real HTTP, each scenario branch of docs/sandbox.md,
and failover across a brand's vendors (transient faults move on, refusals stop, attempts recorded)."""

from __future__ import annotations

import json
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI, Request

from activities import providers
from activities.providers import (
    BusinessRefusal,
    ProviderConfig,
    ProviderError,
    UnsupportedOperation,
    call_with_failover,
    signing,
)
from activities.providers.base import rupees_to_paise
from activities.providers.bsa.base import BsaReport
from activities.providers.disbursal.base import Beneficiary, TransferMode
from activities.providers.matching import name_match_score
from domain.errors import ValidationError
from sandbox import scenarios
from sandbox.app import DEFAULT_SECRET, create_app
from tests.conftest import ThreadedServer, eventually

TIMEOUT = 0.5  # seconds: the adapters' timeout in these tests (the sandbox would hang 30 s)
AADHAAR = scenarios.make_aadhaar("23412341234")
AADHAAR_WITH_DL = scenarios.make_aadhaar("52341234123")
PHONE = "9876543210"


def entry(url: str, vendor: str, key: str, **extra: Any) -> dict[str, Any]:
    return {
        "vendor": vendor,
        "base_url": url,
        "api_key": key,
        "webhook_secret": DEFAULT_SECRET,
        "timeout_seconds": TIMEOUT,
        "poll_interval_seconds": 0.01,
        **extra,
    }


class Brand:
    """Brand configs pointing at the sandbox; a fresh API key per test scopes ``/_faults`` drills."""

    def __init__(self, url: str):
        self.url = url
        self.key = f"test-{uuid.uuid4().hex[:10]}"

    def single(self, kind: str, vendor: str, **extra: Any) -> dict[str, Any]:
        return {"providers": {kind: entry(self.url, vendor, self.key, **extra)}}

    def listed(self, kind: str, *vendors: str | dict[str, Any]) -> dict[str, Any]:
        items = [
            entry(self.url, v, self.key) if isinstance(v, str) else entry(self.url, key=self.key, **v) for v in vendors
        ]
        return {"providers": {kind: items}}


@pytest.fixture
def brand(sandbox) -> Brand:  # noqa: ANN001
    """Overrides conftest's database-backed ``brand``: these tests need only provider settings."""
    return Brand(sandbox.url)


@pytest_asyncio.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


class Receiver:
    """Stands in for LOS's webhook endpoint: keeps every delivery."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[str, dict[str, str], bytes]] = []
        self.app = FastAPI()

        @self.app.post("/hook/{name}")
        async def hook(name: str, request: Request) -> dict:
            self.deliveries.append((name, dict(request.headers), await request.body()))
            return {"ok": True}

    def of(self, name: str) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for n, h, b in self.deliveries if n == name]


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, str]]:
    r = Receiver()
    with ThreadedServer(r.app) as server:
        yield r, server.url


async def fault(http: httpx.AsyncClient, sandbox_url: str, **spec: Any) -> None:
    (await http.post(f"{sandbox_url}/_faults", json=spec)).raise_for_status()


# --- configuration -----------------------------------------------------------------------------------
def test_single_and_list_configs() -> None:
    one = {"providers": {"bureau": {"vendor": "cibil", "base_url": "http://x/", "api_key": "k", "region": "IN"}}}
    [c] = ProviderConfig.candidates(one, "bureau")
    assert (c.vendor, c.base_url, c.api_key, c.primary, c.active, c.options) == (
        "cibil",
        "http://x",
        "k",
        True,
        True,
        {"region": "IN"},
    )
    assert ProviderConfig.from_brand(one, "bureau") == c

    many = {
        "providers": {
            "bureau": [
                {"vendor": "cibil", "base_url": "http://c"},
                {"vendor": "crif", "base_url": "http://o", "active": False, "primary": True},
                {"vendor": "equifax", "base_url": "http://e", "primary": True},
                {"vendor": "experian", "base_url": "http://x", "active": "false"},
            ]
        }
    }
    assert [c.vendor for c in ProviderConfig.candidates(many, "bureau")] == ["equifax", "cibil"]
    assert ProviderConfig.from_brand(many, "bureau").vendor == "equifax"
    assert ProviderConfig.for_vendor(many, "bureau", "experian").active is False  # webhooks of a switched-off one
    assert ProviderConfig.candidates(many, "bsa") == []
    with pytest.raises(BusinessRefusal) as no:
        ProviderConfig.from_brand(many, "bsa")
    assert no.value.code == "NO_PROVIDER"
    with pytest.raises(BusinessRefusal):
        ProviderConfig.from_brand({"providers": {"kyc": {"vendor": "digitap"}}}, "kyc")  # no base_url
    with pytest.raises(BusinessRefusal):
        ProviderConfig.from_brand(
            {"providers": {"bureau": [{"vendor": "crif", "base_url": "x", "active": 0}]}}, "bureau"
        )


async def test_build_keeps_working_for_both_forms(sandbox, brand: Brand, http: httpx.AsyncClient) -> None:  # noqa: ANN001
    for config in (brand.single("kyc", "digitap"), brand.listed("kyc", "digitap", "digilocker")):
        kyc = providers.build("kyc", config, http)
        assert kyc.config.vendor == "digitap"
        assert (await kyc.verify_pan("ABCDE1234F")).valid
    assert providers.build("kyc", brand.listed("kyc", "digitap", "digilocker"), http, vendor="digilocker").vendor == (
        "digilocker"
    )
    with pytest.raises(BusinessRefusal):
        providers.build("kyc", brand.single("kyc", "karza"), http)


def test_rupees_to_paise_and_name_match() -> None:
    assert [rupees_to_paise(v) for v in (45000, "45000.50", 45000.5, "1,00,000", 0.1, "0.005")] == [
        4_500_000,
        4_500_050,
        4_500_050,
        10_000_000,
        10,
        1,
    ]
    assert name_match_score("AARAV SHARMA", "Aarav Sharma") == 100
    assert name_match_score("Sharma Aarav", "Aarav Sharma") == 100
    assert name_match_score("A Sharma", "Aarav Sharma") == 90
    assert name_match_score("Mr. Aarav K Sharma", "Aarav Sharma") == 80
    assert name_match_score("ROHIT VERMA", "Aarav Sharma") < 60
    assert name_match_score(None, "Aarav Sharma") == 0


# --- KYC: Digitap PAN, Aadhaar OTP, mobile look-ups ----------------------------------------------------
async def test_digitap_pan(sandbox, brand: Brand, http: httpx.AsyncClient) -> None:  # noqa: ANN001
    kyc = providers.build("kyc", brand.single("kyc", "digitap"), http)
    ok = await kyc.verify_pan("ABCDE1234F")
    assert (ok.valid, ok.name, ok.dob) == (True, scenarios.pan_name("ABCDE1234F"), scenarios.DOB)
    bad = await kyc.verify_pan("ABCDE1234X")
    assert not bad.valid and bad.reason


async def test_aadhaar_otp(sandbox, brand: Brand, http: httpx.AsyncClient) -> None:  # noqa: ANN001
    kyc = providers.build("kyc", brand.single("kyc", "digitap"), http)
    for wrong in ("234123412345", "123412341234", "2341234123", "abcdefghijkl"):
        with pytest.raises(BusinessRefusal) as refused:
            await kyc.aadhaar_otp_initiate(wrong)
        assert refused.value.code == "AADHAAR_INVALID"

    started = await kyc.aadhaar_otp_initiate(AADHAAR)
    assert started.masked_aadhaar == "XXXXXXXX" + AADHAAR[-4:] and started.reference_id
    miss = await kyc.aadhaar_otp_submit(started.reference_id, "000000")
    assert (miss.verified, miss.reason, miss.attempts_left, miss.name) == (False, "OTP_MISMATCH", 2, None)
    done = await kyc.aadhaar_otp_submit(started.reference_id, scenarios.AADHAAR_OTP)
    person = scenarios.aadhaar_person(AADHAAR)
    assert done.verified and done.name == person["name"] == scenarios.NAMES[sum(map(int, AADHAAR)) % 6]
    assert done.dob == date(1990, 1, 15) and done.gender == person["gender"]
    assert done.address is not None and done.address.pincode == person["address"]["pincode"]
    assert done.photo_base64 == scenarios.PHOTO_BASE64 and done.masked_aadhaar.endswith(AADHAAR[-4:])
    again = await kyc.aadhaar_otp_submit(started.reference_id, scenarios.AADHAAR_OTP)
    assert again.verified and again.name == done.name  # idempotent once verified

    locked = await kyc.aadhaar_otp_initiate(AADHAAR)
    answers = [await kyc.aadhaar_otp_submit(locked.reference_id, "111111") for _ in range(3)]
    assert [a.reason for a in answers] == ["OTP_MISMATCH", "OTP_MISMATCH", "ATTEMPTS_EXCEEDED"]
    late = await kyc.aadhaar_otp_submit(locked.reference_id, scenarios.AADHAAR_OTP)
    assert (late.verified, late.reason) == (False, "ATTEMPTS_EXCEEDED")

    with pytest.raises(BusinessRefusal) as unknown:
        await kyc.aadhaar_otp_submit("aotp_nope", scenarios.AADHAAR_OTP)
    assert (unknown.value.code, unknown.value.status) == ("REFERENCE_NOT_FOUND", 404)


async def test_mobile_to_pan_and_address(sandbox, brand: Brand, http: httpx.AsyncClient) -> None:  # noqa: ANN001
    kyc = providers.build("kyc", brand.single("kyc", "digitap"), http)
    found = await kyc.mobile_to_pan(PHONE)
    assert found.found and found.pan == scenarios.mobile_pan(PHONE)["pan"]
    assert found.name == scenarios.pan_name(found.pan) == (await kyc.verify_pan(found.pan)).name
    addr = await kyc.mobile_to_address(PHONE)
    assert addr.found and addr.address is not None and addr.address.city and addr.address.one_line()
    assert not (await kyc.mobile_to_pan("9876540001")).found
    none = await kyc.mobile_to_address("9876540001")
    assert (none.found, none.address) == (False, None)


async def test_digilocker(sandbox, brand: Brand, http: httpx.AsyncClient) -> None:  # noqa: ANN001
    locker = providers.build("kyc", brand.single("kyc", "digilocker"), http)
    session = await locker.start_session(redirect_url="https://los.example/kyc/digilocker?x=1", state="loan-1")
    assert session.authorization_url.startswith(sandbox.url)
    assert "DigiLocker" in (await http.get(session.authorization_url)).text
    consent = (await http.post(session.authorization_url, params={"aadhaar": AADHAAR_WITH_DL})).json()
    assert consent["redirect_url"].startswith("https://los.example/kyc/digilocker?x=1&code=")
    assert consent["redirect_url"].endswith("&state=loan-1")
    docs = await locker.fetch_documents(consent["code"])
    assert [d.doc_type for d in docs.documents] == ["PAN", "AADHAAR", "DRIVING_LICENCE"]
    name = scenarios.aadhaar_person(AADHAAR_WITH_DL)["name"]
    pan = docs.of_type("PAN")
    assert pan is not None and pan.name == name and scenarios.pan_name(pan.number) == name
    aadhaar = docs.of_type("AADHAAR")
    assert aadhaar is not None and aadhaar.number.endswith(AADHAAR_WITH_DL[-4:]) and aadhaar.address is not None
    assert docs.of_type("DRIVING_LICENCE").valid_until == date(2035, 3, 9)
    assert (await locker.fetch_documents(consent["code"])).documents == docs.documents  # same code, same documents

    other = await locker.start_session(redirect_url="https://los.example/cb", state="s")
    form = await http.post(other.authorization_url, data={"aadhaar": AADHAAR, "outcome": "ALLOW"})
    assert [d.doc_type for d in (await locker.fetch_documents(form.json()["code"])).documents] == ["PAN", "AADHAAR"]
    denied = await locker.start_session(redirect_url="https://los.example/cb", state="s")
    answer = (await http.post(denied.authorization_url, params={"outcome": "DENY"})).json()
    assert answer["code"] is None and "error=access_denied" in answer["redirect_url"]
    with pytest.raises(BusinessRefusal) as bad:
        await locker.fetch_documents("not-a-code")
    assert bad.value.code == "INVALID_CODE"
    with pytest.raises(UnsupportedOperation):
        await locker.verify_pan("ABCDE1234F")


async def test_kyc_failover_skips_a_vendor_without_the_operation(
    sandbox,
    brand: Brand,
    http: httpx.AsyncClient,  # noqa: ANN001
) -> None:
    config = brand.listed("kyc", {"vendor": "digilocker", "primary": True}, "digitap")
    res = await call_with_failover("kyc", config, http, "verify_pan", "ABCDE1234F")
    assert res.vendor == "digitap" and res.value.valid
    assert [(a.vendor, a.outcome) for a in res.attempts] == [("digilocker", "unsupported"), ("digitap", "ok")]
    res = await call_with_failover("kyc", config, http, "mobile_to_pan", PHONE)  # digilocker has no such method
    assert [(a.vendor, a.outcome) for a in res.attempts] == [("digilocker", "unsupported"), ("digitap", "ok")]
    with pytest.raises(BusinessRefusal) as none:
        await call_with_failover("kyc", brand.single("kyc", "digilocker"), http, "mobile_to_pan", PHONE)
    assert none.value.code == "UNSUPPORTED"


# --- CKYC ----------------------------------------------------------------------------------------------
async def test_ckyc(sandbox, brand: Brand, http: httpx.AsyncClient) -> None:  # noqa: ANN001
    ckyc = providers.build("ckyc", brand.single("ckyc", "digitap"), http)
    dob = date(1990, 1, 15)
    record = await ckyc.fetch("ABCDE1234F", dob=dob)
    assert record is not None and record.name == scenarios.pan_name("ABCDE1234F") and record.dob == dob
    assert record.address.pincode and record.photo_base64 and record.ckyc_number == scenarios.ckyc_number("ABCDE1234F")
    assert record.fathers_name and record.gender in ("M", "F")

    initials = await ckyc.fetch("ABCDE1234L", dob=dob)
    assert name_match_score(initials.name, scenarios.pan_name("ABCDE1234L")) == 90
    other = await ckyc.fetch("ABCDE1234M", dob=dob)
    assert other.name in scenarios.OTHER_NAMES and name_match_score(other.name, scenarios.pan_name("ABCDE1234M")) < 60
    for pan in ("ABCDE1234N", "ABCDE1234X"):
        assert not (await ckyc.search(pan)).found
        assert await ckyc.fetch(pan, dob=dob) is None

    found = await ckyc.search("ABCDE1234F")
    assert found.found and found.kyc_date == date(2019, 6, 1)
    with pytest.raises(BusinessRefusal) as wrong:
        await ckyc.download(found.ckyc_number, dob=date(1991, 1, 15))
    assert wrong.value.code == "CKYC_AUTH_MISMATCH"
    with pytest.raises(BusinessRefusal) as unknown:
        await ckyc.download("00000000000000", dob=dob)
    assert unknown.value.code == "CKYC_NOT_FOUND"


# --- bureau -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pan", "score", "loans", "enquiries", "max_dpd"),
    [
        ("ABCDE0123F", 580, 1, 1, 0),
        ("ABCDE1234F", 700, 2, 1, 0),
        ("ABCDE5034F", 780, 0, 1, 0),
        ("ABCDE5034Z", 780, 1, 1, 90),
        ("ABCDE5034Q", 780, 0, 6, 0),
    ],
)
async def test_cibil_and_equifax_read_the_same_file(
    sandbox,
    brand: Brand,
    http: httpx.AsyncClient,
    pan: str,
    score: int,
    loans: int,
    enquiries: int,
    max_dpd: int,  # noqa: ANN001
) -> None:
    reports = []
    for vendor in ("cibil", "equifax"):
        bureau = providers.build("bureau", brand.single("bureau", vendor), http)
        report = await bureau.pull(pan, "Aarav Sharma", f"key-{uuid.uuid4()}")
        assert (report.score, report.active_loans, report.enquiries_30d, report.max_dpd_12m) == (
            score,
            loans,
            enquiries,
            max_dpd,
        ), vendor
        assert report.bureau == vendor and report.report_id
        reports.append(report)
    cibil, equifax = reports
    assert [
        (a.account_type, a.status, a.sanctioned_amount, a.current_balance, a.overdue_amount, a.dpd_history, a.opened_on)
        for a in cibil.accounts
    ] == [
        (a.account_type, a.status, a.sanctioned_amount, a.current_balance, a.overdue_amount, a.dpd_history, a.opened_on)
        for a in equifax.accounts
    ]
    assert all(len(a.dpd_history) == 12 and a.sanctioned_amount % 100 == 0 for a in cibil.accounts)
    assert cibil.accounts[0].account_type == "CREDIT_CARD"
    if max_dpd:
        assert cibil.total_overdue == 5_000_00


async def test_bureau_pull_is_idempotent_by_key(sandbox, brand: Brand, http: httpx.AsyncClient) -> None:  # noqa: ANN001
    for vendor in ("cibil", "equifax"):
        # a plain answer, not a slow vendor: the file's short timeout would fail it on a loaded machine
        bureau = providers.build("bureau", brand.single("bureau", vendor, timeout_seconds=10), http)
        key = f"loan-{uuid.uuid4()}:bureau"
        first, again = await bureau.pull("ABCDE5034F", None, key), await bureau.pull("ABCDE5034F", None, key)
        other = await bureau.pull("ABCDE5034F", None, key + "-2")
        assert first.report_id == again.report_id != other.report_id


async def test_bureau_failover_on_503_and_timeout(sandbox, brand: Brand, http: httpx.AsyncClient) -> None:  # noqa: ANN001
    config = brand.listed("bureau", {"vendor": "cibil", "primary": True}, "equifax")
    res = await call_with_failover("bureau", config, http, lambda b: b.pull("FAILE5034F", "Aarav Sharma", "k-fail"))
    assert res.vendor == "equifax" and res.value.score == 780 and res.failed_over
    assert [(a.vendor, a.outcome) for a in res.attempts] == [("cibil", "error"), ("equifax", "ok")]
    assert "503" in res.attempts[0].error
    assert res.attempts_as_dicts()[1] == {
        "vendor": "equifax",
        "outcome": "ok",
        "error": None,
        "elapsed_ms": res.attempts[1].elapsed_ms,
    }

    res = await call_with_failover("bureau", config, http, "pull", "SLOWE5034F", None, "k-slow")
    assert res.vendor == "equifax"
    assert res.attempts[0].outcome == "error" and "Timeout" in res.attempts[0].error
    assert res.attempts[0].elapsed_ms >= TIMEOUT * 1000 * 0.9

    with pytest.raises(ProviderError) as down:
        await call_with_failover("bureau", config, http, "pull", "DOWNE5034F", None, "k-down")
    assert [(a["vendor"], a["outcome"]) for a in down.value.attempts] == [("cibil", "error"), ("equifax", "error")]
    assert "every vendor failed" in str(down.value)

    healthy = await call_with_failover("bureau", config, http, "pull", "ABCDE1234F", None, "k-ok")
    assert (healthy.vendor, healthy.failed_over, healthy.value.score) == ("cibil", False, 700)

    # A single-object config: one candidate; its failure is the activity's retry.
    with pytest.raises(ProviderError) as alone:
        await call_with_failover("bureau", brand.single("bureau", "cibil"), http, "pull", "FAILE5034F", None, "k")
    assert [a["vendor"] for a in alone.value.attempts] == ["cibil"]


async def test_business_refusal_is_not_failed_over(sandbox, brand: Brand, http: httpx.AsyncClient) -> None:  # noqa: ANN001
    config = brand.listed("bureau", "equifax", "cibil")
    with pytest.raises(BusinessRefusal) as refused:
        await call_with_failover("bureau", config, http, "pull", "SHORT", None, "k")  # Equifax: 400 INVALID_PAN
    assert refused.value.code == "INVALID_PAN" and refused.value.vendor == "equifax"
    assert [(a["vendor"], a["outcome"]) for a in refused.value.attempts] == [("equifax", "refused")]

    drops = brand.listed("pennydrop", "razorpay", "cashfree")
    with pytest.raises(BusinessRefusal) as bad_ifsc:
        await call_with_failover(
            "pennydrop",
            drops,
            http,
            "verify_account",
            account_number="123456789012",
            ifsc="HDFC123",
            name=None,
            reference_id="r",
            idempotency_key="k",
        )
    assert bad_ifsc.value.code == "INVALID_IFSC" and len(bad_ifsc.value.attempts) == 1


async def test_fault_drills_cover_every_transient_kind(sandbox, brand: Brand, http: httpx.AsyncClient) -> None:  # noqa: ANN001
    config = brand.listed("bureau", "cibil", "equifax")
    for mode, words in (("malformed", "malformed"), ("non_json", "non-JSON"), ("429", "429"), ("500", "500")):
        await fault(http, sandbox.url, vendor="cibil", mode=mode, api_key=brand.key)
        res = await call_with_failover("bureau", config, http, "pull", "ABCDE1234F", None, f"k-{mode}")
        assert res.vendor == "equifax" and words in res.attempts[0].error, mode
    await fault(http, sandbox.url, vendor="cibil", mode="timeout", api_key=brand.key, times=2)
    for _ in range(2):
        assert (await call_with_failover("bureau", config, http, "pull", "ABCDE1234F", None, "k")).vendor == "equifax"
    assert (await call_with_failover("bureau", config, http, "pull", "ABCDE1234F", None, "k")).vendor == "cibil"
    # Scoped to the API key: another brand's calls are untouched.
    await fault(http, sandbox.url, vendor="cibil", mode="503", api_key=brand.key, times=0)
    other = Brand(sandbox.url)
    assert (await providers.build("bureau", other.single("bureau", "cibil"), http).pull("ABCDE1234F", None, "o")).score
    assert (await call_with_failover("bureau", config, http, "pull", "ABCDE1234F", None, "k")).vendor == "equifax"
    assert (await http.delete(f"{sandbox.url}/_faults", params={"vendor": "cibil"})).json()["cleared"] >= 1
    bad = await http.post(f"{sandbox.url}/_faults", json={"vendor": "cibil", "mode": "teapot"})
    assert bad.status_code == 400


# --- bank statement analysis ---------------------------------------------------------------------------
BSA_VENDORS = ("cart", "finbox", "scoreme")


def _today() -> date:
    return datetime.now(UTC).date()


@pytest.mark.parametrize("vendor", BSA_VENDORS)
async def test_bsa_statement(sandbox, brand: Brand, http: httpx.AsyncClient, vendor: str) -> None:  # noqa: ANN001
    bsa = providers.build("bsa", brand.single("bsa", vendor), http)
    pdf = scenarios.sample_statement(SALARY=45000, EMI=5000, BOUNCES=2)
    report = await bsa.analyse_statement(pdf=pdf, reference_id="loan-1", idempotency_key=f"k-{uuid.uuid4()}")
    expected = scenarios.statement_analysis(pdf, None, _today())
    assert isinstance(report, BsaReport) and (report.vendor, report.source) == (vendor, "UPLOAD")
    assert [(c.on.isoformat(), c.amount) for c in report.salary_credits] == [
        (c["date"], c["amount"]) for c in expected["salary_credits"]
    ]
    assert [c.amount for c in report.salary_credits] == [4_500_000] * 3 and report.average_salary == 4_500_000
    assert [d.amount for d in report.emi_debits] == [500_000] * 3 and report.monthly_emi == 500_000
    assert report.bounce_count == 2 and all(b.reason == "INSUFFICIENT FUNDS" for b in report.bounces)
    assert report.average_balance == expected["average_balance"] and isinstance(report.average_balance, int)
    assert (report.period_from, report.period_to) == (
        date.fromisoformat(expected["from"]),
        date.fromisoformat(expected["to"]),
    )
    assert report.account_holder == expected["holder"] and report.account_number_masked == expected["account_masked"]
    assert report.summary()["average_salary"] == 4_500_000

    none = await bsa.analyse_statement(
        pdf=scenarios.sample_statement(NO_SALARY=True, EMI=0), reference_id="l", idempotency_key=f"k-{uuid.uuid4()}"
    )
    assert (none.salary_credits, none.emi_debits, none.bounces, none.average_salary) == ((), (), (), 0)


async def test_bsa_same_statement_same_report_at_every_vendor(
    sandbox,
    brand: Brand,
    http: httpx.AsyncClient,  # noqa: ANN001
) -> None:
    pdf = b"%PDF-1.7\n" + uuid.UUID(int=42).bytes + b"\n%%EOF"  # no markers: values from the bytes' hash
    summaries = []
    for vendor in BSA_VENDORS:
        bsa = providers.build("bsa", brand.single("bsa", vendor), http)
        report = await bsa.analyse_statement(pdf=pdf, reference_id="l", idempotency_key=f"k-{uuid.uuid4()}")
        summaries.append({k: v for k, v in report.summary().items() if k != "vendor"})
    assert summaries[0] == summaries[1] == summaries[2]
    assert 2_500_000 <= summaries[0]["average_salary"] <= 7_500_000


@pytest.mark.parametrize("vendor", BSA_VENDORS)
async def test_bsa_refusals_polling_and_idempotency(
    sandbox,
    brand: Brand,
    http: httpx.AsyncClient,
    vendor: str,  # noqa: ANN001
) -> None:
    bsa = providers.build("bsa", brand.single("bsa", vendor), http)
    locked = scenarios.sample_statement(PASSWORD="s3cret", SALARY=30000)
    for password, code in ((None, "STATEMENT_PASSWORD_REQUIRED"), ("guess", "STATEMENT_PASSWORD_INCORRECT")):
        with pytest.raises(BusinessRefusal) as refused:
            await bsa.analyse_statement(
                pdf=locked, reference_id="l", idempotency_key=f"k-{uuid.uuid4()}", password=password
            )
        assert refused.value.code == code
    opened = await bsa.analyse_statement(
        pdf=locked, reference_id="l", idempotency_key="x" + uuid.uuid4().hex, password="s3cret"
    )
    assert opened.average_salary == 3_000_000
    with pytest.raises(BusinessRefusal) as unreadable:
        await bsa.analyse_statement(pdf=b"GIF89a", reference_id="l", idempotency_key=f"k-{uuid.uuid4()}")
    assert unreadable.value.code == "STATEMENT_UNREADABLE"

    slow = scenarios.sample_statement(PROCESSING=2, SALARY=50000)
    key = f"k-{uuid.uuid4()}"
    report = await bsa.analyse_statement(pdf=slow, reference_id="l", idempotency_key=key)  # polls 3 times
    assert report.average_salary == 5_000_000
    again = await bsa.analyse_statement(pdf=slow, reference_id="l", idempotency_key=key)
    assert again.report_id == report.report_id  # same key → same statement, no second analysis

    impatient = providers.build("bsa", brand.single("bsa", vendor, poll_attempts=1), http)
    with pytest.raises(ProviderError, match="not ready"):
        await impatient.analyse_statement(pdf=slow, reference_id="l", idempotency_key=f"k-{uuid.uuid4()}")


async def test_bsa_failover(sandbox, brand: Brand, http: httpx.AsyncClient) -> None:  # noqa: ANN001
    config = brand.listed("bsa", "cart", "finbox", "scoreme")
    pdf = scenarios.sample_statement(FAIL="cart,finbox", SALARY=40000)
    res = await call_with_failover(
        "bsa", config, http, "analyse_statement", pdf=pdf, reference_id="l", idempotency_key="k-bsa-failover"
    )
    assert res.vendor == "scoreme" and res.value.average_salary == 4_000_000
    assert [(a.vendor, a.outcome) for a in res.attempts] == [("cart", "error"), ("finbox", "error"), ("scoreme", "ok")]


# --- Account Aggregator ------------------------------------------------------------------------------
AA_VENDORS = ("finduit", "cart")


async def _consent(brand: Brand, http: httpx.AsyncClient, vendor: str, phone: str, hook: str) -> tuple[Any, Any]:
    aa = providers.build("aa", brand.single("aa", vendor), http)
    consent = await aa.create_consent(
        phone=phone, reference_id=f"loan-{phone}", callback_url=hook, idempotency_key=f"k-{uuid.uuid4()}"
    )
    return aa, consent


async def _events(receiver: Receiver, name: str, aa: Any, count: int) -> list[Any]:
    deliveries = await eventually(lambda: len(receiver.of(name)) >= count and receiver.of(name), timeout=10)
    events = []
    for headers, raw in deliveries:
        assert signing.verify(raw, DEFAULT_SECRET, headers[aa.signature_header.lower()])
        assert not signing.verify(raw + b" ", DEFAULT_SECRET, headers[aa.signature_header.lower()])
        events.append(aa.parse_webhook(json.loads(raw)))
    return events


@pytest.mark.parametrize("vendor", AA_VENDORS)
async def test_aa_consent_approved_then_data(
    sandbox,
    brand: Brand,
    http: httpx.AsyncClient,
    receiver: tuple[Receiver, str],
    vendor: str,  # noqa: ANN001
) -> None:
    rec, url = receiver
    name = f"{vendor}-{uuid.uuid4().hex[:6]}"
    aa, consent = await _consent(brand, http, vendor, PHONE, f"{url}/hook/{name}")
    assert consent.status == "PENDING" and consent.consent_url.startswith(sandbox.url) and consent.expires_at
    assert "Approve" in (await http.get(consent.consent_url)).text
    with pytest.raises(BusinessRefusal) as early:
        await aa.fetch_data(consent.consent_handle)
    assert early.value.code == "CONSENT_NOT_ACTIVE"

    (await http.post(consent.consent_url)).raise_for_status()  # the customer approves (phone's rule)
    [event] = await _events(rec, name, aa, 1)
    assert (event.consent_handle, event.status) == (consent.consent_handle, "APPROVED")
    assert await aa.consent_status(consent.consent_handle) == "APPROVED"
    report = await aa.fetch_data(consent.consent_handle)
    expected = scenarios.aa_analysis(PHONE, _today())
    assert (report.source, report.account_holder) == ("AA", scenarios.mobile_pan(PHONE)["name"])
    assert [c.amount for c in report.salary_credits] == [c["amount"] for c in expected["salary_credits"]]
    assert report.average_balance == expected["average_balance"] and len(report.salary_credits) == 3
    assert (await aa.fetch_data(consent.consent_handle)).report_id == report.report_id  # same data session

    (await http.post(consent.consent_url)).raise_for_status()  # acting twice changes nothing
    revoke = {
        "finduit": f"/finduit/v1/consents/{consent.consent_handle}/revoke",
        "cart": f"/cart/aa/consent-requests/{consent.consent_handle}/revoke",
    }[vendor]
    (await http.post(sandbox.url + revoke)).raise_for_status()  # the customer withdraws it in their AA app
    events = await _events(rec, name, aa, 2)
    assert [e.status for e in events] == ["APPROVED", "REVOKED"] and events[0].event_id != events[1].event_id
    with pytest.raises(BusinessRefusal):
        await aa.fetch_data(consent.consent_handle)


@pytest.mark.parametrize("vendor", AA_VENDORS)
async def test_aa_consent_branches_by_phone(
    sandbox,
    brand: Brand,
    http: httpx.AsyncClient,
    receiver: tuple[Receiver, str],
    vendor: str,  # noqa: ANN001
) -> None:
    rec, url = receiver
    for phone, statuses in (("9876500002", ["REJECTED"]), ("9876500003", ["APPROVED", "REVOKED"])):
        name = f"{vendor}-{uuid.uuid4().hex[:6]}"
        aa, consent = await _consent(brand, http, vendor, phone, f"{url}/hook/{name}")
        (await http.post(consent.consent_url)).raise_for_status()
        events = await _events(rec, name, aa, len(statuses))
        assert [e.status for e in events] == statuses, phone
        assert await aa.consent_status(consent.consent_handle) == statuses[-1]

    name = f"{vendor}-{uuid.uuid4().hex[:6]}"
    aa, consent = await _consent(brand, http, vendor, "9876500002", f"{url}/hook/{name}")
    (await http.post(consent.consent_url, params={"outcome": "APPROVED"})).raise_for_status()  # explicit beats rule
    assert [e.status for e in await _events(rec, name, aa, 1)] == ["APPROVED"]

    aa, poor = await _consent(brand, http, vendor, "9876500005", f"{url}/hook/x")
    await http.post(poor.consent_url)
    assert (await aa.fetch_data(poor.consent_handle)).salary_credits == ()
    aa, bouncy = await _consent(brand, http, vendor, "9876500006", f"{url}/hook/x")
    await http.post(bouncy.consent_url)
    assert (await aa.fetch_data(bouncy.consent_handle)).bounce_count == 2


async def test_aa_consent_is_idempotent_and_fails_over(
    sandbox,
    brand: Brand,
    http: httpx.AsyncClient,  # noqa: ANN001
) -> None:
    aa = providers.build("aa", brand.single("aa", "finduit"), http)
    args = {"phone": PHONE, "reference_id": "loan-x", "callback_url": "http://127.0.0.1:9/x", "idempotency_key": "same"}
    first, again = await aa.create_consent(**args), await aa.create_consent(**args)
    assert first.consent_handle == again.consent_handle
    await fault(http, sandbox.url, vendor="finduit", mode="503", api_key=brand.key)
    res = await call_with_failover(
        "aa", brand.listed("aa", "finduit", "cart"), http, "create_consent", **{**args, "idempotency_key": "k2"}
    )
    assert res.vendor == "cart" and res.value.consent_url.startswith(f"{sandbox.url}/cart/aa/consent/")
    notification = {
        "ver": "2.0.0",
        "timestamp": "2024-01-01T00:00:00.000Z",
        "txnid": "e",
        "Notifier": {"type": "AA", "id": "aa"},
        "ConsentStatusNotification": {"consentId": "c", "consentHandle": "h", "consentStatus": "MAYBE"},
    }
    with pytest.raises(ValidationError) as bad:  # bad input at the webhook endpoint: 422 naming the field
        aa.parse_webhook(notification)
    assert bad.value.field == "ConsentStatusNotification.consentStatus"
    cart = providers.build("aa", brand.single("aa", "cart"), http)
    with pytest.raises(ValidationError) as bad:
        cart.parse_webhook({"txnid": "e"})
    assert bad.value.field == "ver"


# --- penny drop --------------------------------------------------------------------------------------
@pytest.mark.parametrize("vendor", ("razorpay", "cashfree"))
async def test_penny_drop(sandbox, brand: Brand, http: httpx.AsyncClient, vendor: str) -> None:  # noqa: ANN001
    drop = providers.build("pennydrop", brand.single("pennydrop", vendor), http)

    async def verify(account: str, ifsc: str = "HDFC0001234", name: str | None = "Aarav Sharma") -> Any:
        return await drop.verify_account(
            account_number=account, ifsc=ifsc, name=name, reference_id="loan-1", idempotency_key=f"k-{uuid.uuid4()}"
        )

    ok = await verify("123456789012")
    assert (ok.status, ok.verified, ok.account_exists, ok.beneficiary_name) == ("VERIFIED", True, True, "AARAV SHARMA")
    assert ok.name_match_score == 100 and ok.amount == 100 and ok.bank_name == "HDFC Bank" and ok.utr
    other = await verify("912345678901")
    assert other.verified and other.beneficiary_name.title() in scenarios.OTHER_NAMES and other.name_match_score < 60
    closed = await verify("000012345678")
    assert (closed.status, closed.account_exists, closed.beneficiary_name) == ("FAILED", False, None)
    assert closed.reason
    anonymous = await verify("123456789012", ifsc="ICIC0000001", name=None)
    assert anonymous.beneficiary_name.title() in scenarios.NAMES and anonymous.name_match_score is None
    for account, ifsc, code in (
        ("123", "HDFC0001234", "INVALID_ACCOUNT_NUMBER"),
        ("123456789", "HDFC1234", "INVALID_IFSC"),
    ):
        with pytest.raises(BusinessRefusal) as refused:
            await verify(account, ifsc)
        assert refused.value.code == code


async def test_penny_drop_idempotency_and_failover(sandbox, brand: Brand, http: httpx.AsyncClient) -> None:  # noqa: ANN001
    razorpay = providers.build("pennydrop", brand.single("pennydrop", "razorpay"), http)
    args = {"account_number": "123456789012", "ifsc": "UTIB0000123", "name": "Diya Patel", "reference_id": "r"}
    first = await razorpay.verify_account(**args, idempotency_key="fav-key")
    assert (await razorpay.verify_account(**args, idempotency_key="fav-key")).validation_id == first.validation_id
    assert (await razorpay.verify_account(**args, idempotency_key="fav-key-2")).validation_id != first.validation_id

    config = brand.listed("pennydrop", "razorpay", "cashfree")
    for account, words in (("777712345678", "503"), ("888812345678", "Timeout")):
        res = await call_with_failover(
            "pennydrop",
            config,
            http,
            "verify_account",
            **{**args, "account_number": account},
            idempotency_key=f"k-{account}",
        )
        assert res.vendor == "cashfree" and res.value.verified and res.value.beneficiary_name == "DIYA PATEL"
        assert res.attempts[0].outcome == "error" and words in res.attempts[0].error


# --- employment (EPFO via Digitap) ---------------------------------------------------------------------
async def test_epfo(sandbox, brand: Brand, http: httpx.AsyncClient) -> None:  # noqa: ANN001
    epfo = providers.build("employment", brand.single("employment", "digitap"), http)
    lookup = await epfo.phone_to_uan(PHONE)
    assert lookup.found and lookup.uans == ("10" + PHONE,) and lookup.name == scenarios.mobile_pan(PHONE)["name"]
    assert not (await epfo.phone_to_uan("9876540001")).found
    assert (await epfo.phone_to_uan("9876540007")).uans == ("119876540007", "109876540007")

    history = await epfo.uan_to_employment(lookup.uans[0])
    expected = scenarios.employment_history(lookup.uans[0], _today())
    current = history.current
    assert history.found and current is not None and current.exited_on is None
    assert current.employer == expected["employment_history"][0]["establishment_name"] in scenarios.EMPLOYERS
    assert current.latest_wage == expected["employment_history"][0]["last_wage"]
    assert 2_000_000 <= current.latest_wage <= 8_000_000 and current.latest_wage % 100_000 == 0
    assert current.joined_on < _today() and current.wage_month
    assert [r.employer for r in history.records] == [e["establishment_name"] for e in expected["employment_history"]]

    left = await epfo.uan_to_employment("109876540004")
    assert left.found and left.current is None and left.records[0].exited_on is not None
    assert not (await epfo.uan_to_employment("991234567890")).found
    with pytest.raises(BusinessRefusal) as bad:
        await epfo.uan_to_employment("12345")
    assert bad.value.code == "UAN_INVALID"


async def test_epfo_times_out(sandbox, brand: Brand, http: httpx.AsyncClient) -> None:  # noqa: ANN001
    config = brand.single("employment", "digitap")
    for op, arg in (("phone_to_uan", "9876500000"), ("uan_to_employment", "109876500000")):
        with pytest.raises(ProviderError) as slow:
            await call_with_failover("employment", config, http, op, arg)
        [attempt] = slow.value.attempts
        assert attempt["outcome"] == "error" and "Timeout" in attempt["error"]
        assert attempt["elapsed_ms"] >= TIMEOUT * 1000 * 0.9


# --- the existing vendors, unchanged -----------------------------------------------------------------
async def test_existing_vendors_still_answer(sandbox, brand: Brand, http: httpx.AsyncClient) -> None:  # noqa: ANN001
    extras = {
        "esign": {"customer_id": "lender-1"},
        "disbursal": {"account_number": "7878780080316316"},
        # Gupshup's Enterprise API names the account, the DLT sender and entity, and a template per message
        "sms": {
            "userid": "2000000001",
            "sender_id": "DEMOFN",
            "dlt_entity_id": "1101000000000000001",
            "default_dlt_template_id": "1107000000000000001",
        },
    }
    config = {
        "providers": {
            k: entry(sandbox.url, v, brand.key, **extras.get(k, {}))
            for k, v in (("esign", "signzy"), ("disbursal", "idfc"), ("payments", "razorpay"), ("sms", "gupshup"))
        }
    }
    pdf = b"%PDF-1.4\n%%EOF\n"
    docket = await providers.build("esign", config, http).create_docket(
        reference_id="loan-e",
        pdf=pdf,
        signer_name="A",
        signer_phone=PHONE,
        signer_email="a@example.com",
        expires_in_seconds=24 * 3600,
        callback_url="http://127.0.0.1:9/x",
        idempotency_key="dk-" + uuid.uuid4().hex,
    )
    assert docket.signing_url.startswith(sandbox.url)
    transfer = await providers.build("disbursal", config, http).transfer(
        amount=100_00,
        reference_id="loan-e",
        beneficiary=Beneficiary("ASHA VERMA", "31234567890", "HDFC0001234"),
        mode=TransferMode.IMPS,
        callback_url="http://127.0.0.1:9/x",
        idempotency_key="tr-" + uuid.uuid4().hex,
    )
    assert transfer.status == "PENDING"
    gateway = providers.build("payments", config, http)
    link = await gateway.create_payment_link(
        amount=500_00,
        reference_id="ref-" + uuid.uuid4().hex,
        description="d",
        customer_phone=PHONE,
        notes={},
        callback_url="http://127.0.0.1:9/x",
    )
    await gateway.cancel_payment_link(link.link_id)
    assert await providers.build("sms", config, http).send_sms(to=PHONE, text="hi", template="T")


async def test_razorpay_link_reference_fits_its_limit(sandbox, brand: Brand, http: httpx.AsyncClient) -> None:  # noqa: ANN001
    """Our link reference (``<loan uuid>:<installment>:<amount>``, 41+ characters) is sent within Razorpay's
    40-character ``reference_id``: the link is made, the same reference finds the same link again, and the next
    installment's gets its own. The sandbox refuses a longer one, as Razorpay does."""
    gateway = providers.build("payments", brand.single("payments", "razorpay"), http)
    loan = str(uuid.uuid4())

    async def link(reference: str) -> str:
        made = await gateway.create_payment_link(
            amount=1_234_56, reference_id=reference, description="EMI", customer_phone=PHONE, notes={},
            callback_url="http://127.0.0.1:9/x",
        )  # fmt: skip
        return made.link_id

    first = await link(f"{loan}:1:123456")
    assert await link(f"{loan}:1:123456") == first
    assert await link(f"{loan}:2:123456") != first
    too_long = await http.post(
        f"{sandbox.url}/razorpay/payment_links",
        json={"amount": 100, "callback_url": "http://127.0.0.1:9/x", "reference_id": "r" * 41},
    )
    assert too_long.status_code == 400
    assert (
        too_long.json()["error"]["code"] == "BAD_REQUEST_ERROR" and too_long.json()["error"]["field"] == "reference_id"
    )


# --- the sandbox keeps the new state across a restart ----------------------------------------------------
async def test_state_file_survives_restart(http: httpx.AsyncClient) -> None:
    state_file = Path(tempfile.mkdtemp(prefix="los-sbx-")) / "state.json"
    with ThreadedServer(create_app(delay_seconds=0.05, state_file=state_file)) as first:
        brand = Brand(first.url)
        kyc = providers.build("kyc", brand.single("kyc", "digitap"), http)
        started = await kyc.aadhaar_otp_initiate(AADHAAR)
        aa = providers.build("aa", brand.single("aa", "cart"), http)
        consent = await aa.create_consent(
            phone=PHONE, reference_id="r", callback_url="http://127.0.0.1:9/x", idempotency_key="c"
        )
        await http.post(consent.consent_url, params={"outcome": "APPROVED"})
        cart = providers.build("bsa", brand.single("bsa", "cart"), http)
        report = await cart.analyse_statement(
            pdf=scenarios.sample_statement(SALARY=33000), reference_id="r", idempotency_key="s"
        )
    assert state_file.exists()
    with ThreadedServer(create_app(delay_seconds=0.05, state_file=state_file)) as second:
        brand = Brand(second.url)
        kyc = providers.build("kyc", brand.single("kyc", "digitap"), http)
        assert (await kyc.aadhaar_otp_submit(started.reference_id, scenarios.AADHAAR_OTP)).verified
        aa = providers.build("aa", brand.single("aa", "cart"), http)
        assert await aa.consent_status(consent.consent_handle) == "APPROVED"
        cart = providers.build("bsa", brand.single("bsa", "cart"), http)
        again = await cart.analyse_statement(
            pdf=scenarios.sample_statement(SALARY=33000), reference_id="r", idempotency_key="s"
        )
        assert again.report_id == report.report_id and again.average_salary == 3_300_000
