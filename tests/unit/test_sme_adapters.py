"""The SME vendors' adapters against their sandbox twins (in process): Karza's GSTIN search, GST returns (on time
= by the 20th of the next month), MCA data and GSTR-1 invoice confirmation; Perfios's statement summary; CRIF's
commercial report (NH read as no history); and the sandbox's profiles scored as the workflow scores them."""

from __future__ import annotations

import httpx
import pytest

from activities.providers.base import ProviderConfig
from activities.providers.sme import CrifCommercial, KarzaBusiness, PerfiosStatement
from activities.providers.sme.karza import _due
from domain.sme.ids import make_gstin
from domain.sme.scoring import ScoreInputs, risk_score
from sandbox.app import create_app

GOOD, WEAK, CANCELLED = "AAAFB1234C", "LAAFB1234C", "ZAAFB1234C"


@pytest.fixture
async def http():  # noqa: ANN201
    transport = httpx.ASGITransport(app=create_app(delay_seconds=0))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client


def _adapter(cls: type, http: httpx.AsyncClient, vendor: str):  # noqa: ANN202
    return cls(http, ProviderConfig("sme", vendor, "http://sandbox", f"sandbox-{vendor}-key"))


async def test_karza_gstin_company_and_invoice(http) -> None:  # noqa: ANN001
    karza = _adapter(KarzaBusiness, http, "karza")
    good = await karza.gstin(make_gstin("27", GOOD))
    assert good is not None and good.active and good.constitution == "Partnership"
    assert good.registered_on is not None and good.registered_on.isoformat() == "2017-07-01"
    cancelled = await karza.gstin(make_gstin("27", CANCELLED))
    assert cancelled is not None and (cancelled.active, cancelled.status) == (False, "Cancelled")
    assert await karza.gstin("27ABC") is None  # invalid input: statusCode 102
    company = await karza.company("U72900MH2015PTC269555")
    assert company is not None and company.active and len(company.directors) == 2
    struck = await karza.company("X72900MH2015PTC269555")
    assert struck is not None and not struck.active
    seller = make_gstin("27", GOOD)
    assert (await karza.confirm_invoice(seller, make_gstin("29", "BAACB1234C"), "I-1", 1_000_00)).found
    disputed = await karza.confirm_invoice(seller, make_gstin("29", "YAACB1234C"), "I-1", 1_000_00)
    assert not disputed.found and disputed.reason and "GSTR-2B" in disputed.reason


def test_gstr3b_due_date_is_the_twentieth_of_the_next_month() -> None:
    assert _due("122025").isoformat() == "2026-01-20"
    assert _due("032026").isoformat() == "2026-04-20"


async def test_returns_statement_and_bureau_score_the_sandbox_profiles(http) -> None:  # noqa: ANN001
    karza, perfios = _adapter(KarzaBusiness, http, "karza"), _adapter(PerfiosStatement, http, "perfios")
    crif = _adapter(CrifCommercial, http, "crif")
    good = await karza.returns(make_gstin("27", GOOD))
    assert len(good) == 12 and all(p.filed and p.on_time for p in good)
    assert good[-1].turnover > good[0].turnover and good[0].period < good[-1].period
    weak = await karza.returns(make_gstin("27", WEAK))
    assert sum(not p.filed for p in weak) == 3 and not any(p.on_time for p in weak)
    strong_bank = await perfios.summary(make_gstin("27", GOOD), "r1")
    weak_bank = await perfios.summary(make_gstin("27", WEAK), "r2")
    assert (strong_bank.average_balance, strong_bank.bounces) == (5_00_000_00, 0)
    assert (weak_bank.average_balance, weak_bank.bounces) == (15_000_00, 4)
    assert (await crif.report(GOOD, "Good", "k1")).score == 760
    assert (await crif.report(WEAK, "Weak", "k2")).score == 0  # "NH": no history
    invoice = 2_50_000_00
    strong = risk_score(ScoreInputs(good, strong_bank.average_balance, strong_bank.bounces, 760, 60, invoice))
    poor = risk_score(ScoreInputs(weak, weak_bank.average_balance, weak_bank.bounces, 0, 60, invoice))
    assert strong.grade == "A" and strong.score >= 75
    assert poor.score < 50  # below the own book's default minimum: SCORE_TOO_LOW
