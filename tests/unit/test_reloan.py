"""Reloan eligibility, amount and expiry, and KYC reuse (``domain.reloan``; rules in its docstring)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.collection_policy import ReloanPolicy
from domain.reloan import ReloanOffer, ineligibility, kyc_reusable, kyc_validity_days, reloan_amount, reloan_offer

CLOSED = date(2026, 3, 31)
DEFAULT = ReloanPolicy()  # enabled, maxDpd 30, stepUp 20 %, no cap, 30 days, KYC valid 180 days


def test_a_repaid_loan_earns_the_stepped_up_amount_for_the_offer_days() -> None:
    assert reloan_offer(50_000_00, 0, "REPAID", DEFAULT, CLOSED) == ReloanOffer(60_000_00, date(2026, 4, 30))


def test_a_foreclosed_loan_qualifies_too() -> None:
    assert reloan_offer(10_000_00, 5, "FORECLOSED", DEFAULT, CLOSED) == ReloanOffer(12_000_00, date(2026, 4, 30))


@pytest.mark.parametrize("closed_as", ["SETTLED", "WRITTEN_OFF", "COOLING_OFF_EXIT", None])
def test_other_closures_earn_nothing_and_say_why(closed_as: str | None) -> None:
    assert reloan_offer(50_000_00, 0, closed_as, DEFAULT, CLOSED) is None
    reason = ineligibility(0, closed_as, DEFAULT)
    assert reason is not None and "REPAID or FORECLOSED" in reason


def test_dpd_at_the_limit_qualifies_and_one_more_does_not() -> None:
    assert reloan_offer(50_000_00, 30, "REPAID", DEFAULT, CLOSED) is not None
    assert reloan_offer(50_000_00, 31, "REPAID", DEFAULT, CLOSED) is None
    assert ineligibility(31, "REPAID", DEFAULT) == "the loan reached 31 DPD, above the brand's limit of 30"


def test_a_brand_that_offers_no_reloans() -> None:
    off = ReloanPolicy.of({"enabled": False})
    assert reloan_offer(50_000_00, 0, "REPAID", off, CLOSED) is None
    assert ineligibility(0, "REPAID", off) == "the brand does not offer reloans"


def test_the_amount_is_rounded_down_to_whole_rupees() -> None:
    # 12,345.67 rupees × 1.15 = 14,197.5205 rupees → 14,197 rupees
    policy = ReloanPolicy.of({"stepUpPercent": 15})
    assert reloan_amount(12_345_67, policy) == 14_197_00
    # paise never leak in, whatever the input
    assert all(reloan_amount(p, policy) % 100 == 0 for p in range(0, 10_000, 7))


def test_the_amount_is_capped() -> None:
    policy = ReloanPolicy.of({"stepUpPercent": 50, "maxAmount": 70_000_00, "offerDays": 7})
    assert reloan_offer(50_000_00, 0, "REPAID", policy, CLOSED) == ReloanOffer(70_000_00, date(2026, 4, 7))
    assert reloan_amount(40_000_00, policy) == 60_000_00


def test_no_step_up_offers_the_same_amount() -> None:
    assert reloan_amount(25_000_50, ReloanPolicy.of({"stepUpPercent": 0})) == 25_000_00


def test_a_negative_amount_is_refused() -> None:
    with pytest.raises(ValueError, match="previous_amount"):
        reloan_amount(-1, DEFAULT)


def test_kyc_is_reused_within_its_validity_only() -> None:
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert kyc_reusable(now - timedelta(days=179, hours=23), now, 180)
    assert not kyc_reusable(now - timedelta(days=180), now, 180)
    assert kyc_reusable(now + timedelta(minutes=1), now, 180)  # skew: counts as verified now
    assert not kyc_reusable(now, now, 0)  # validity 0: nothing is reused


def test_a_statement_analysis_is_reused_no_longer_than_a_statement_is_read() -> None:
    assert kyc_validity_days("BANK_STATEMENT", 180, 30) == 30  # statementMaxAgeDays bounds it
    assert kyc_validity_days("BANK_STATEMENT", 10, 30) == 10  # and kycValidityDays still does
    assert kyc_validity_days("CKYC", 180, 30) == 180  # other steps: kycValidityDays alone
