"""The money engine through the API and the CLI: previews, KFS, net disbursal, bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
from sqlalchemy import select

from db.models import LedgerEntry, LedgerTransaction, Loan
from los.demo import Driver, demo_identity


async def test_customer_emi_preview(app, brand) -> None:  # noqa: ANN001
    async with httpx.AsyncClient(base_url=app.api.url) as http:
        r = await http.get(
            "/api/v1/web/products/PL-MONTHLY/emi-preview",
            params={"brand": brand["brand_code"], "amount": "100000", "tenure": 12},
        )
        assert r.status_code == 200, r.text
        body = r.json()
        # ₹1,00,000 at 24% for 12 months: EMI ₹9,455.96 (standard EMI tables at 2% a month)
        assert body["emi"] == "9455.96"
        assert len(body["installments"]) == 12 and body["totals"]["principal"] == "100000.00"
        # 2% processing fee (₹2,000) + 18% GST (₹360) + ₹300 insurance are deducted upfront
        assert body["net_disbursed"] == "97340.00"
        assert [c["name"] for c in body["charges"]] == [
            "Processing fee",
            "GST on Processing fee",
            "Credit life insurance",
        ]
        assert float(body["apr"]) > 24  # fees push the APR above the nominal rate

        bad = await http.get(
            "/api/v1/web/products/PL-MONTHLY/emi-preview",
            params={"brand": brand["brand_code"], "amount": "100", "tenure": 12},
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "amount"
        bad = await http.get(
            "/api/v1/web/products/PL-MONTHLY/emi-preview",
            params={"brand": brand["brand_code"], "amount": "100000", "tenure": 0},
        )
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "tenure"
        missing = await http.get(
            "/api/v1/web/products/NOPE/emi-preview",
            params={"brand": brand["brand_code"], "amount": "100000", "tenure": 12},
        )
        assert missing.status_code == 404


async def test_staff_schedule_preview_and_net_disbursal(app, brand, sandbox, db) -> None:  # noqa: ANN001
    driver = Driver(app.api.url, sandbox.url, brand["brand_code"])
    try:
        journey = await driver.journey(*demo_identity(0, "auto"), amount=40_000, tenure=3)
        assert journey.status == "COMPLETED"
        headers = await driver.staff_headers("CREDIT_EXECUTIVE")
        url = f"/api/v1/partner/brand/{brand['brand_id']}/loans/{journey.loan_id}/schedule-preview"
        r = await driver.api.get(url, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        kfs = body["kfs"]
        assert kfs["sanctioned_amount_paise"] == 40_000_00
        assert kfs["net_disbursed_paise"] == 40_000_00 - 400_00 - 72_00  # DEMO-FAST: 1% fee + GST
        assert kfs["apr_percent"] == body["apr"] and len(kfs["repayment_schedule"]) == 3
        assert (await driver.api.get(url + "?disbursedOn=not-a-date", headers=headers)).status_code == 422
    finally:
        await driver.close()
    with db.unit_of_work() as s:
        loan = s.get_one(Loan, journey.loan_id)
        assert loan.net_disbursed == 40_000_00 - 472_00 and loan.apr is not None
        legs = dict(
            s.execute(
                select(LedgerEntry.account, LedgerEntry.amount)
                .join(LedgerTransaction)
                .where(LedgerTransaction.loan_id == loan.id, LedgerTransaction.kind == "DISBURSAL")
            ).all()
        )
        assert legs["LOAN_PRINCIPAL_RECEIVABLE"] == 40_000_00
        assert legs["DISBURSAL_BANK"] == -(40_000_00 - 472_00)
        assert legs["FEE_INCOME"] == -400_00 and legs["GST_OUTPUT_PAYABLE"] == -72_00


def _schedule(*args: str) -> subprocess.CompletedProcess[str]:
    """``los schedule`` with ``args`` for a 5,000-rupee loan at 12 % a year, in a process of its own."""
    argv = [sys.executable, "-m", "los.cli", "schedule", "--principal", "5000", "--annual-rate", "12", *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def test_los_schedule_cli_reference_example() -> None:
    out = _schedule("--installments", "18", "--in-multiples-of", "1", "--disbursed-on", "2022-11-01", "--json")
    assert out.returncode == 0, out.stderr
    body = json.loads(out.stdout)
    assert body["emi"] == "305.00" and body["apr"] == "12.00" and body["net_disbursed"] == "5000.00"
    assert body["installments"][0] == {
        "number": 1,
        "due_date": "2022-12-01",
        "days": 30,
        "principal": "255.00",
        "interest": "50.00",
        "fees": "0.00",
        "total": "305.00",
        "balance": "4745.00",
    }
    assert body["totals"]["principal"] == "5000.00"
    bad = _schedule("--installments", "0")
    assert bad.returncode == 2 and "--installments" in bad.stderr
    bad = _schedule("--installments", "3", "--interest-method", "COMPOUND")
    assert bad.returncode == 2 and "--interest-method" in bad.stderr
