"""The read views and their response models agree, key for key: what a view builds validates against its model
by the wire names alone, and dumping it back by alias gives exactly the same JSON (so a route validated by FastAPI
answers what the view built). No database: the views read transient rows; the previews use the domain directly.
The loan detail and ledger are checked against real answers in tests/integration/test_loan_read_models.py."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest
from pydantic import BaseModel

from api import products
from api.loan_views import LoanSummary, StaffLoanSummary
from api.preview_views import SchedulePreview, StaffSchedulePreview
from api.views import loan_summary, staff_loan_summary
from db.models import Loan, LoanProduct

CHARGES = {
    "upfront": [
        {"name": "Processing fee", "percent": "2", "minimum": 500_00, "kfs_head": "PROCESSING_FEE"},
        {"name": "Credit life insurance", "kind": "THIRD_PARTY", "flat": 300_00, "kfs_head": "INSURANCE"},
    ],
    "penal": {"basis": "PERCENT_PER_ANNUM", "annual_percent": "24"},
    "bounce_charge": 500_00,
    "foreclosure_percent": "2",
}


def round_trips(model: type[BaseModel], payload: Any) -> None:
    """``payload`` (as orjson sends it) validates by alias only and dumps back to the same JSON."""
    wire = orjson.loads(orjson.dumps(payload))
    parsed = model.model_validate(wire, by_alias=True, by_name=False)
    assert parsed.model_dump(mode="json", by_alias=True) == wire


def _loan(**overrides: Any) -> Loan:
    values: dict[str, Any] = dict(
        id="0b6c1c3e-2f7a-4a53-9d0e-6f1b5a2c9e11",
        workflow_id="loan-0b6c1c3e-2f7a-4a53-9d0e-6f1b5a2c9e11",
        brand_id="5f0e8d7c-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
        customer_id="9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
        status="DISBURSED",
        status_reason=None,
        amount=50_000_00,
        tenure=6,
        annual_rate_bps=2400,
        credit_score=742,
        outstanding_principal=41_000_00,
        total_collected=9_900_00,
        disbursed_at=datetime(2026, 1, 5, 10, 30, tzinfo=UTC),
        disbursal_utr="UTR123456",
        next_due_at=datetime(2026, 3, 5, 18, 29, 59, tzinfo=UTC),
        created_at=datetime(2026, 1, 2, 9, 0, tzinfo=UTC),
        review_stage=None,
        evaluation_score=Decimal("81.50"),
        score_override=None,
        assigned_to=None,
        assigned_at=None,
        dpd=0,
        asset_class="STANDARD",
        asset_class_since=date(2026, 2, 1),
    )
    values.update(overrides)
    return Loan(**values)


@pytest.mark.parametrize(
    "loan",
    [
        _loan(),
        _loan(
            status="UNDER_REVIEW",
            review_stage="SANCTION_MANAGER",
            score_override=Decimal("70.00"),
            assigned_to="1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
            assigned_at=datetime(2026, 1, 3, tzinfo=UTC),
            disbursed_at=None,
            disbursal_utr=None,
            next_due_at=None,
            credit_score=None,
            evaluation_score=None,
            asset_class_since=None,
        ),
    ],
)
def test_loan_summaries_round_trip(loan: Loan) -> None:
    round_trips(LoanSummary, loan_summary(loan))
    round_trips(StaffLoanSummary, staff_loan_summary(loan))


def test_a_key_the_model_does_not_declare_is_refused() -> None:
    with pytest.raises(ValueError, match="surprise"):
        LoanSummary.model_validate({**loan_summary(_loan()), "surprise": 1}, by_alias=True, by_name=False)


def _product() -> LoanProduct:
    return LoanProduct(
        brand_id="5f0e8d7c-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
        code="PL-MONTHLY",
        name="Personal loan, monthly EMI",
        min_amount=5_000_00,
        max_amount=5_00_000_00,
        min_tenure=1,
        max_tenure=24,
        annual_rate_bps=2400,
        repay_every=1,
        repay_unit="MONTHS",
        period_seconds=None,
        interest_method="DECLINING_BALANCE",
        amortization="EQUAL_INSTALLMENTS",
        interest_calc="SAME_AS_REPAYMENT_PERIOD",
        days_in_year="ACTUAL",
        days_in_month="ACTUAL",
        in_multiples_of=1,
        grace_principal=0,
        grace_interest=0,
        daily_rate=None,
        holiday_strategy="NEXT_WORKING_DAY_EXTEND_TERM",
        charges=CHARGES,
    )


def test_previews_round_trip(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(products, "brand_holidays", lambda *args, **kwargs: [])
    on = date(2026, 1, 5)
    preview = products.preview_for(None, _product(), 50_000_00, 6, on)  # type: ignore[arg-type]
    round_trips(SchedulePreview, preview)
    with_kfs = products.preview_for(None, _product(), 50_000_00, 6, on, with_kfs=True, loan_account_no="L-1")  # type: ignore[arg-type]
    staff = {"loanId": "L-1", "disbursedOn": on.isoformat(), **with_kfs}
    round_trips(StaffSchedulePreview, staff)
    assert staff["kfs"]["penal_charge"] is not None and staff["kfs"]["fees"]  # the optional parts were checked too
