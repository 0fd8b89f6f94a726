"""The KFS's version and validity (RBI KFS circular RBI/2024-25/18, 15 April 2024): its SHA-256 over canonical
JSON, stable across processes; valid 3 working days after issue for tenors of 7 days or more, 1 below, by the
brand's holiday calendar; Annex A part 2 filled from the brand's settings; the frozen terms and charges of an
existing loan read back as the workflow's ``LoanTerms`` were built; the templates that print it."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from activities.documents import render_html
from api.preview_views import KeyFactStatement as KfsModel
from db import kfs as db_kfs
from db.models import Loan, LoanProduct
from domain import schedule as engine
from domain.brand_config import BrandConfig
from domain.charges import charge_config_from_dict, compute_upfront_charges
from domain.errors import Conflict, ValidationError
from domain.kfs import build_kfs, disclosures_from_brand, kfs_hash, kfs_valid_until, working_day_calendar
from domain.preview import schedule_preview
from domain.product import LoanTerms as EngineTerms
from workflows.contracts import LoanTerms

ROOT = Path(__file__).resolve().parents[2]
CHARGES = {
    "upfront": [
        {"name": "Processing fee", "percent": "2", "minimum": 500_00, "kfs_head": "PROCESSING_FEE"},
        {"name": "Credit life insurance", "kind": "THIRD_PARTY", "flat": 300_00, "kfs_head": "INSURANCE"},
    ],
    "penal": {"basis": "PERCENT_PER_ANNUM", "annual_percent": "24"},
    "bounce_charge": 500_00,
}
BRAND = {
    "lender_legal_name": "Demo Finance Private Limited",
    "grievance_officer": "A. Sharma, Grievance Officer, grievance@demo.example, 080-1234-5678",
    "nodal_officer": "R. Iyer, Nodal Officer, nodal@demo.example",
    "recovery_policy_url": "https://demo.example/recovery-agents",
    "partner_name": "Demo LSP Technologies",
}
FRIDAY = date(2026, 1, 2)
WEEKEND = {FRIDAY + timedelta(days=1), FRIDAY + timedelta(days=2)}


def _kfs(tenure: int = 6, on: date = FRIDAY, brand: dict | None = None) -> dict:
    config = charge_config_from_dict(CHARGES)
    plan = engine.generate(
        EngineTerms(principal=50_000_00, annual_rate=Decimal(24), installments=tenure, disbursed_on=on)
    )
    disclosures = disclosures_from_brand(BrandConfig.of(brand if brand is not None else BRAND), "Demo")
    kfs = build_kfs(
        plan,
        compute_upfront_charges(50_000_00, config),
        config=config,
        loan_account_no="L-1",
        disclosures=disclosures,
        issued_on=on,
        valid_until=kfs_valid_until(on, (plan.rows[-1].due_date - on).days, working_day_calendar(WEEKEND)),
    )
    return kfs.as_dict()


# ------------------------------------------------------------------------------------------- the hash
def test_the_hash_is_the_sha256_of_sorted_compact_json() -> None:
    kfs = _kfs()
    shuffled = json.loads(json.dumps(kfs, sort_keys=False))
    shuffled = dict(reversed(list(shuffled.items())))
    assert kfs_hash(shuffled) == kfs_hash(kfs)
    assert len(kfs_hash(kfs)) == 64 and int(kfs_hash(kfs), 16) >= 0
    assert kfs_hash({"b": 1, "a": "₹1"}) == hashlib.sha256(b'{"a":"\\u20b91","b":1}').hexdigest()


def test_the_hash_changes_with_any_value_and_refuses_non_json_values() -> None:
    kfs = _kfs()
    changed = json.loads(json.dumps(kfs))
    changed["repayment_schedule"][0]["interest_paise"] += 1
    assert kfs_hash(changed) != kfs_hash(kfs)
    assert kfs_hash(_kfs(on=FRIDAY + timedelta(days=3))) != kfs_hash(kfs)  # another issue day: another version
    with pytest.raises(TypeError):
        kfs_hash({"rate": Decimal("1.00")})
    with pytest.raises(ValidationError):
        kfs_hash([1, 2])  # type: ignore[arg-type]


def test_the_hash_is_the_same_in_another_process() -> None:
    here = kfs_hash(_kfs())
    code = "from tests.unit.test_kfs_validity import _kfs; from domain.kfs import kfs_hash; print(kfs_hash(_kfs()))"
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(ROOT)}
    there = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert there.stdout.strip() == here


# ------------------------------------------------------------------------------------------- validity
def test_three_working_days_for_tenors_of_seven_days_or_more_across_a_weekend() -> None:
    works = working_day_calendar(WEEKEND)
    assert kfs_valid_until(FRIDAY, 7, works) == date(2026, 1, 7)  # Mon, Tue, Wed after a Friday
    assert kfs_valid_until(FRIDAY, 365, works) == date(2026, 1, 7)
    monday = date(2026, 1, 5)
    assert kfs_valid_until(monday, 30, works) == date(2026, 1, 8)  # the issue day itself is not counted


def test_one_working_day_below_seven_days() -> None:
    works = working_day_calendar(WEEKEND)
    assert kfs_valid_until(FRIDAY, 6, works) == date(2026, 1, 5)  # the Monday after the weekend
    assert kfs_valid_until(date(2026, 1, 5), 1, works) == date(2026, 1, 6)


def test_a_brand_holiday_is_skipped_too() -> None:
    holiday = date(2026, 1, 6)
    works = working_day_calendar(WEEKEND | {holiday})
    assert kfs_valid_until(FRIDAY, 30, works) == date(2026, 1, 8)
    assert kfs_valid_until(date(2026, 1, 5), 3, works) == date(2026, 1, 7)


def test_validity_needs_a_working_day_and_a_term() -> None:
    with pytest.raises(ValidationError) as err:
        kfs_valid_until(FRIDAY, 30, lambda day: False)
    assert err.value.field == "holidays"
    with pytest.raises(ValidationError):
        kfs_valid_until(FRIDAY, -1, lambda day: True)


def test_the_built_kfs_carries_its_validity() -> None:
    kfs = _kfs()
    assert kfs["issued_on"] == "2026-01-02" and kfs["valid_until"] == "2026-01-07"
    short = _kfs(tenure=1, on=date(2026, 1, 5))  # one month: still 7 days or more
    assert short["valid_until"] == "2026-01-08"


# ------------------------------------------------------------------------------------------- disclosures
def test_disclosures_come_from_the_brand_settings() -> None:
    d = _kfs()["disclosures"]
    assert d["lender_legal_name"] == BRAND["lender_legal_name"]
    assert d["grievance_officer"] == BRAND["grievance_officer"]
    assert d["nodal_officer"] == BRAND["nodal_officer"]
    assert d["recovery_policy_url"] == BRAND["recovery_policy_url"]
    assert d["partner_name"] == d["lsp_details"] == BRAND["partner_name"]
    assert BRAND["recovery_policy_url"] in d["recovery_agents_clause"]
    assert BRAND["grievance_officer"] in d["grievance_redressal_clause"]
    assert "Integrated Ombudsman" in d["grievance_redressal_clause"]
    assert _kfs()["cooling_off_days"] == 3  # DEFAULT_COOLING_OFF_DAYS: the charges set none


def test_a_brand_without_settings_names_itself_and_leaves_the_rest_empty() -> None:
    d = _kfs(brand={})["disclosures"]
    assert d["lender_legal_name"] is None and d["nodal_officer"] is None and d["partner_name"] is None
    assert d["recovery_agents_clause"].startswith("Demo may engage recovery agents")


def test_the_kfs_with_disclosures_validates_against_the_response_model() -> None:
    kfs = _kfs()
    parsed = KfsModel.model_validate(kfs, by_alias=True, by_name=False)
    assert parsed.model_dump(mode="json", by_alias=True) == kfs


# ------------------------------------------------------------------------------------------- frozen terms
def _product() -> LoanProduct:
    return LoanProduct(
        brand_id="5f0e8d7c-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
        code="PL-MONTHLY",
        name="Personal loan, monthly EMI",
        annual_rate_bps=2400,
        repay_every=1,
        repay_unit="MONTHS",
        period_seconds=None,
        interest_method="DECLINING_BALANCE",
        amortization="EQUAL_INSTALLMENTS",
        interest_calc="SAME_AS_REPAYMENT_PERIOD",
        days_in_year="ACTUAL",
        days_in_month="ACTUAL",
        in_multiples_of=100,
        grace_principal=0,
        grace_interest=1,
        daily_rate=None,
        holiday_strategy="NEXT_WORKING_DAY_MERGE",
        charges=CHARGES,
    )


def test_frozen_terms_read_back_as_the_workflow_builds_its_schedule() -> None:
    holidays = [date(2026, 2, 5)]
    fields = db_kfs.product_terms(_product(), 50_000_00, 6, holidays, annual_rate_bps=1800)
    on = date(2026, 1, 5)
    assert db_kfs.schedule_terms(fields, on) == LoanTerms(**fields).schedule_terms(on)
    assert fields["annual_rate_bps"] == 1800  # the loan's own rate, frozen at application
    assert db_kfs.product_terms(_product(), 50_000_00, 6, [])["annual_rate_bps"] == 2400


def _loan(stored: list[dict], net: int | None) -> Loan:
    return Loan(amount=50_000_00, upfront_charges=stored, net_disbursed=net)


def test_frozen_charges_stand_when_the_product_changed() -> None:
    config = charge_config_from_dict(CHARGES)
    now = compute_upfront_charges(50_000_00, config)
    stored = schedule_preview(engine.generate(EngineTerms(50_000_00, Decimal(24), 6, FRIDAY)), now)["charges"]
    assert db_kfs.frozen_charges(_loan(stored, now.net_disbursed), config) == now
    raised = charge_config_from_dict(
        {**CHARGES, "upfront": [{**CHARGES["upfront"][0], "percent": "3"}, CHARGES["upfront"][1]]}
    )
    kept = db_kfs.frozen_charges(_loan(stored, now.net_disbursed), raised)
    assert kept.net_disbursed == now.net_disbursed and [line.kfs_head for line in kept.lines] == [
        line.kfs_head for line in now.lines
    ]
    assert db_kfs.frozen_charges(_loan([], None), raised) == compute_upfront_charges(50_000_00, raised)  # older loans


def test_the_masked_pan() -> None:
    assert db_kfs.mask_pan("ABCDE1234F") == "ABXXXXX34F"
    assert db_kfs.mask_pan(None) == "—"


# ------------------------------------------------------------------------------------------- the API's gate
def test_no_kfs_before_the_sanction() -> None:
    from api.web.kfs import _sanctioned

    for status in ("APPLIED", "UNDER_REVIEW", "REJECTED"):
        with pytest.raises(Conflict) as err:
            _sanctioned(None, Loan(id="L-1", status=status))  # type: ignore[arg-type]
        assert status in err.value.message
    for status in ("SANCTIONED", "AGREEMENT_PENDING", "AGREEMENT_SIGNED", "DISBURSED", "EXPIRED"):
        _sanctioned(None, Loan(id="L-1", status=status))  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------- the templates
def test_the_kfs_prints_rbis_layout_in_rupees() -> None:
    kfs = _kfs()
    html = render_html("kfs.html", {"kfs": kfs, "kfs_hash": kfs_hash(kfs), "lender_legal_name": "Demo <Finance>"})
    for part in ("Part 1", "Part 2", "Annex B", "Annex C", "Annual Percentage Rate", "Cooling off"):
        assert part in html
    assert "₹50,000.00" in html and kfs["net_disbursed_inr"] in html and kfs_hash(kfs) in html
    assert "Demo &lt;Finance&gt;" in html and "<Finance>" not in html
    assert "<img" not in html  # no logo set: nothing fetched


def test_the_agreement_carries_logo_conditions_and_the_kfs_annex() -> None:
    kfs = _kfs()
    context = {
        "loan_id": "L-1",
        "generated_on": "2026-01-02",
        "brand_name": "Demo",
        "lender_legal_name": "Demo Finance Private Limited",
        "logo_url": "https://demo.example/logo.png",
        "partner_name": "Demo LSP Technologies",
        "borrower_name": "Asha",
        "phone": "9000000001",
        "pan_masked": "ABXXXXX34F",
        "amount": "₹50,000.00",
        "rate": "24.00",
        "rate_text": "24.00% per annum",
        "tenure": 6,
        "frequency": "every 1 months",
        "repayment_frequency": "Monthly",
        "emi": "₹8,926.29",
        "total_interest": "₹3,557.75",
        "total_payable": "₹53,557.75",
        "net_disbursed": kfs["net_disbursed_inr"],
        "apr": kfs["apr_percent"],
        "schedule": [],
        "sanction_conditions": "Salary slips for <3> months",
        "kfs": kfs,
        "kfs_hash": kfs_hash(kfs),
    }
    html = render_html("agreement.html", context)
    assert '<img src="https://demo.example/logo.png"' in html
    assert "Demo Finance Private Limited" in html and "Salary slips for &lt;3&gt; months" in html
    assert "Annex: Key Facts Statement" in html and "Annex C" in html and kfs_hash(kfs) in html
    assert html.count("<html") == 1
    assert "<img" not in render_html("agreement.html", {**context, "logo_url": None})
