"""SME invoice financing's pure rules: GSTIN and business PAN, the advance/discount/reserve maths (Actual/365) to
the paisa, settlement with a late charge, duplicate detection, the risk score, offer matching and the settings."""

from __future__ import annotations

from datetime import date

import pytest

from domain.errors import ValidationError
from domain.sme.duplicates import InvoiceKey, find_duplicate, normalise_number
from domain.sme.ids import make_gstin, validate_business_pan, validate_gstin
from domain.sme.matching import LenderTerms, match_offers
from domain.sme.money import advance_amount, discount_amount, late_charge, settle, terms
from domain.sme.scoring import GstPeriod, ScoreInputs, risk_score
from domain.sme.settings import sme_settings
from domain.sme.status import can_move

SELLER, BUYER = "27AAPFU0939F1ZV", "29AAGCB7383J1Z4"


def test_gstin_check_character_and_format() -> None:
    assert validate_gstin(" 27aapfu0939f1zv ") == SELLER
    with pytest.raises(ValidationError, match="check character") as bad:
        validate_gstin("27AAPFU0939F1ZA", field="buyerGstin")
    assert bad.value.field == "buyerGstin"
    with pytest.raises(ValidationError, match="state code"):
        validate_gstin(make_gstin("40", "AAPFU0939F"))
    with pytest.raises(ValidationError, match="15 characters"):
        validate_gstin("27AAPFU0939F1Z")
    assert validate_gstin(make_gstin("07", "AABCT1234Q")) == make_gstin("07", "AABCT1234Q")


def test_business_pan_needs_a_business_holder_status() -> None:
    assert validate_business_pan("aabct1234q") == "AABCT1234Q"
    with pytest.raises(ValidationError, match="not a business"):
        validate_business_pan("AABZT1234Q")
    with pytest.raises(ValidationError, match="5 letters"):
        validate_business_pan("AAB1234567")


def test_advance_rounds_down_discount_half_up_on_actual_365() -> None:
    assert advance_amount(100_000_037, 8_000) == 80_000_029  # 80,000,029.6 down
    assert discount_amount(80_000_029, 1_400, 30) == 920_548  # 920,548.28 half-up
    assert discount_amount(36_500_00, 1_000, 1) == 1_000  # ₹36,500 at 10 % for a day = ₹10.00
    assert discount_amount(1, 5_000, 1) == 0
    t = terms(100_000_037, 8_000, 1_400, date(2026, 1, 1), date(2026, 1, 31))
    assert (t.advance, t.discount, t.reserve, t.days) == (80_000_029, 920_548, 19_079_460, 30)
    assert t.advance + t.discount + t.reserve == t.amount
    # a leap year's day counts as a day, the year still 365 (Actual/365 fixed)
    assert terms(36_500_00, 9_000, 1_000, date(2024, 2, 28), date(2024, 3, 1)).days == 2
    with pytest.raises(ValidationError) as bad:
        advance_amount(0, 8_000)
    assert bad.value.field == "amount"


def test_settlement_takes_the_late_charge_from_the_reserve_and_releases_the_rest() -> None:
    t = terms(100_000_037, 8_000, 1_400, date(2026, 1, 1), date(2026, 1, 31))
    on_time = settle(t, 100_000_037, 2_400, date(2026, 1, 31), date(2026, 1, 30))
    assert (on_time.late_charge, on_time.release, on_time.shortfall) == (0, 19_079_460, 0)
    late = settle(t, 100_000_037, 2_400, date(2026, 1, 31), date(2026, 2, 12))
    assert (late.late_charge, late.release) == (631_233, 18_448_227)
    assert late_charge(80_000_029, 100_000, 3650, 19_079_460) == 19_079_460  # capped at the reserve
    short = settle(t, 80_000_000, 2_400, date(2026, 1, 31), date(2026, 1, 31))
    assert (short.release, short.shortfall) == (0, 920_577)


def test_duplicates_same_seller_number_amount_and_already_financed() -> None:
    assert normalise_number("inv-0042") == normalise_number("INV 42") == "INV42"
    assert normalise_number("100") != normalise_number("10")
    new = InvoiceKey("new", SELLER, BUYER, "INV/0042", 5_000_00)
    assert find_duplicate(new, [InvoiceKey("new", SELLER, BUYER, "INV42", 5_000_00)]) is None  # itself
    dup = find_duplicate(new, [InvoiceKey("a", SELLER, BUYER, "inv-42", 5_000_00)])
    assert dup is not None and (dup.reason, dup.invoice_id) == ("DUPLICATE_INVOICE", "a")
    assert find_duplicate(new, [InvoiceKey("b", SELLER, BUYER, "INV42", 6_000_00)]) is None  # another amount
    financed = find_duplicate(
        new, [InvoiceKey("a", SELLER, BUYER, "INV42", 5_000_00), InvoiceKey("c", SELLER, BUYER, "INV42", 1, True)]
    )
    assert financed is not None and (financed.reason, financed.invoice_id) == ("ALREADY_FINANCED", "c")
    other_seller = InvoiceKey("d", make_gstin("07", "AABCT1234Q"), BUYER, "INV42", 5_000_00, True)
    assert find_duplicate(new, [other_seller]).reason == "ALREADY_FINANCED"  # type: ignore[union-attr]


def _gst(filed: int, on_time: int, before: int, recent: int) -> list[GstPeriod]:
    periods = []
    for i in range(12):
        turnover = before if i < 6 else recent
        periods.append(GstPeriod(f"2025-{i + 1:02d}", i < filed, i < on_time, turnover))
    return periods


def test_risk_score_factors() -> None:
    strong = risk_score(ScoreInputs(_gst(12, 12, 100, 120), 2_000_00, 0, 780, 48, 10_000_00))
    assert strong.factors == {"gstFiling": 25, "turnoverTrend": 15, "bankConduct": 25, "bureau": 20, "vintage": 10}
    assert (strong.score, strong.grade) == (95, "A")
    weak = risk_score(ScoreInputs(_gst(9, 6, 100, 70), 0, 3, 0, 6, 10_000_00))
    assert weak.factors == {"gstFiling": 12, "turnoverTrend": 0, "bankConduct": 0, "bureau": 12, "vintage": 2}
    assert weak.grade == "D"
    falling = risk_score(ScoreInputs(_gst(12, 12, 100, 85), 0, 1, 600, 12, 10_000_00))
    assert falling.factors["turnoverTrend"] == 7 and falling.factors["bankConduct"] == 8


OWN = LenderTerms("own-book", "Own", 50, 8_000, 1_400, 2_400, 7, 120, 10_000_00, 10**12)
PARTNER = LenderTerms("p1", "Partner", 70, 9_000, 1_200, 2_400, 7, 60, 10_000_00, 50_00_000_00, "PARTNER")


def test_matching_filters_by_score_amount_tenor_and_ranks_by_discount() -> None:
    start, due = date(2026, 1, 1), date(2026, 2, 15)
    offers = match_offers(10_00_000_00, 80, start, due, [OWN, PARTNER])
    # partner: ₹9 lakh at 12 % for 45 days = ₹13,315.07; own book: ₹8 lakh at 14 % = ₹13,808.22
    assert [(o.lender_id, o.advance, o.discount, o.days) for o in offers] == [
        ("p1", 9_00_000_00, 1_331_507, 45),
        ("own-book", 8_00_000_00, 1_380_822, 45),
    ]
    assert offers[0].reserve == 10_00_000_00 - 9_00_000_00 - 1_331_507
    assert [o.lender_id for o in match_offers(10_00_000_00, 60, start, due, [OWN, PARTNER])] == ["own-book"]
    assert match_offers(10_00_000_00, 80, start, date(2026, 5, 1), [PARTNER]) == []  # 120 days > 60
    assert match_offers(60_00_000_00, 80, start, due, [PARTNER]) == []  # above its maximum
    assert match_offers(10_00_000_00, 80, start, start, [OWN]) == []  # due already
    assert match_offers(10_00_000_00, 80, start, due, [PARTNER, OWN]) == offers  # input order does not matter


def test_settings_defaults_and_refusals() -> None:
    default = sme_settings(None)
    assert (default.own_book.advance_rate_bps, default.offer_validity_days) == (8_000, 7)
    custom = sme_settings({"sme": {"ownBook": {"advanceRateBps": 7_500, "name": "Book"}, "offerValidityDays": 3}})
    assert (custom.own_book.advance_rate_bps, custom.own_book.name, custom.offer_validity_days) == (7_500, "Book", 3)
    with pytest.raises(ValidationError) as bad:
        sme_settings({"sme": {"ownBook": {"advanceRateBps": 20_000}}})
    assert bad.value.field == "sme.ownBook.advanceRateBps"
    with pytest.raises(ValidationError):
        sme_settings({"sme": {"ownBook": {"minDays": 90, "maxDays": 30}}})


def test_status_moves() -> None:
    assert can_move("FUNDED", "OVERDUE") and can_move("OVERDUE", "PAID") and can_move("PAID", "CLOSED")
    assert not can_move("CLOSED", "FUNDED") and not can_move("OFFERED", "DISBURSING")
