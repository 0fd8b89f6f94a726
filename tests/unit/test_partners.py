"""Partner lenders, pure parts: decision tables (limits first, missing facts fail, parsing names the field), the
offer engine (each partner's rate, fee and GST over the loan's schedule; APR), the routing order and the SLA
report (domain/partners)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from domain.apr import apr
from domain.charges import ChargeConfig, FeeSpec, compute_upfront_charges
from domain.errors import ValidationError
from domain.partners import (
    AttemptOutcome,
    DecisionTable,
    Limits,
    PartnerPricing,
    application_facts,
    compute_offer,
    falls_back,
    parse_rules,
    parse_sla,
    route_order,
    sla_summary,
)
from domain.partners.routing import Attempt
from domain.partners.rules import age_on, rules_as_rows
from domain.product import LoanTerms
from domain.schedule import generate

LIMITS = Limits(min_amount=10_000_00, max_amount=5_00_000_00, min_tenure=3, max_tenure=24)
ROWS = [
    {"fact": "bureau_score", "op": ">=", "value": 700, "reason": "bureau score below 700"},
    {"fact": "age", "op": ">=", "value": 23, "reason": "younger than 23"},
    {"fact": "state", "op": "not_in", "value": ["Manipur", "Nagaland"], "reason": "state not served"},
]


def facts(**kw: object) -> dict:
    base = {"amount": 60_000_00, "tenure": 6, "bureau_score": 760, "dob": date(1990, 1, 15), "on": date(2026, 12, 1)}
    base.update(kw)
    return application_facts(**base, state="Karnataka")  # type: ignore[arg-type]


def test_a_table_passes_when_every_row_holds_and_names_each_failure() -> None:
    table = DecisionTable(3, parse_rules(ROWS))
    assert table.evaluate(facts(), LIMITS).eligible
    verdict = table.evaluate(facts(bureau_score=650, amount=6_00_000_00, dob=date(2005, 6, 1)), LIMITS)
    assert not verdict.eligible and verdict.version == 3
    assert verdict.reasons == (
        "amount above the partner's maximum ticket of 50000000 paise",
        "bureau score below 700",
        "younger than 23",
    )


def test_a_missing_fact_fails_its_row() -> None:
    verdict = DecisionTable(1, parse_rules(ROWS)).evaluate(facts(bureau_score=None, dob=None))
    assert verdict.reasons == ("bureau score below 700", "younger than 23")


def test_limits_are_inclusive_at_both_ends() -> None:
    table = DecisionTable(1)
    assert table.evaluate(facts(amount=10_000_00, tenure=3), LIMITS).eligible
    assert table.evaluate(facts(amount=5_00_000_00, tenure=24), LIMITS).eligible
    assert table.evaluate(facts(amount=9_999_99), LIMITS).reasons == (
        "amount below the partner's minimum ticket of 1000000 paise",
    )
    assert table.evaluate(facts(tenure=25), LIMITS).reasons == ("tenure above the partner's maximum of 24",)


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([{"fact": "salary", "op": ">=", "value": 1, "reason": "x"}], "rules[0].fact"),
        ([{"fact": "age", "op": "=>", "value": 1, "reason": "x"}], "rules[0].op"),
        ([{"fact": "age", "op": ">=", "value": "21", "reason": "x"}], "rules[0].value"),
        ([{"fact": "age", "op": ">=", "value": 21.5, "reason": "x"}], "rules[0].value"),
        ([ROWS[0], {"fact": "state", "op": "in", "value": [], "reason": "x"}], "rules[1].value"),
        ([{"fact": "age", "op": ">=", "value": 21, "reason": " "}], "rules[0].reason"),
        ({"fact": "age"}, "rules"),
    ],
)
def test_malformed_rows_are_refused_naming_the_field(rows: object, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_rules(rows)
    assert err.value.field == field


def test_rows_read_back_as_saved() -> None:
    assert rules_as_rows(parse_rules(ROWS)) == ROWS


def test_limits_refuse_an_inverted_range() -> None:
    with pytest.raises(ValidationError) as err:
        Limits(5, 4, 1, 2)
    assert err.value.field == "minAmount"


def test_age_counts_whole_years_on_the_ist_day() -> None:
    assert age_on(date(2000, 12, 2), date(2026, 12, 1)) == 25
    assert age_on(date(2000, 12, 1), date(2026, 12, 1)) == 26
    assert age_on(None, date(2026, 12, 1)) is None


TERMS = LoanTerms(principal=1_00_000_00, annual_rate=Decimal(20), installments=12, disbursed_on=date(2026, 1, 10))


def test_an_offer_is_the_loans_schedule_at_the_partners_price() -> None:
    pricing = PartnerPricing(annual_rate_bps=1800, processing_fee_bps=200, processing_fee_min=500_00)
    offer = compute_offer(pricing, TERMS, {"INSURANCE_PREMIUM_PAYABLE": 300_00})
    schedule = generate(LoanTerms(principal=1_00_000_00, annual_rate=Decimal(18), installments=12,
                                  disbursed_on=date(2026, 1, 10)))  # fmt: skip
    assert (offer.amount, offer.tenure, offer.annual_rate_bps) == (1_00_000_00, 12, 1800)
    assert offer.emi == schedule.emi == 9_168_00
    assert (offer.fees, offer.gst, offer.third_party) == (2_000_00, 360_00, 300_00)  # 2 %, 18 % GST, pass-through
    assert offer.net_disbursed == 1_00_000_00 - 2_000_00 - 360_00 - 300_00
    assert offer.total_interest == schedule.total_interest and offer.total_payable == schedule.total_due
    charges = compute_upfront_charges(
        1_00_000_00,
        ChargeConfig(upfront=(FeeSpec.processing_fee(percent=Decimal(2), minimum=500_00),
                              FeeSpec.insurance(flat=300_00, name="INSURANCE_PREMIUM_PAYABLE"))),
    )  # fmt: skip
    assert offer.apr == apr(schedule, charges) == Decimal("23.23")


def test_the_fee_minimum_applies_and_a_cheaper_partner_has_a_lower_apr() -> None:
    small = LoanTerms(principal=10_000_00, annual_rate=Decimal(20), installments=6, disbursed_on=date(2026, 1, 10))
    dear = compute_offer(PartnerPricing(2400, 200, 500_00), small)
    cheap = compute_offer(PartnerPricing(1600, 100, 0), small)
    assert dear.fees == 500_00 and cheap.fees == 100_00  # 2 % of ₹10,000 is ₹200, below the ₹500 minimum
    assert cheap.apr < dear.apr and cheap.emi < dear.emi


def test_fees_that_leave_nothing_to_disburse_are_refused() -> None:
    with pytest.raises(ValidationError) as err:
        compute_offer(PartnerPricing(1800, 0, 20_000_00), replace(TERMS, principal=10_000_00))
    assert err.value.field == "pricing"


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"annual_rate_bps": 5001}, "annualRateBps"),
        ({"annual_rate_bps": 1800, "processing_fee_bps": -1}, "processingFeeBps"),
        ({"annual_rate_bps": 1800, "processing_fee_min": 100, "processing_fee_max": 50}, "processingFeeMin"),
        ({"annual_rate_bps": 1800, "gst_percent": Decimal(40)}, "gstPercent"),
        ({"annual_rate_bps": True}, "annualRateBps"),
    ],
)
def test_pricing_out_of_range_is_refused(kw: dict, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        PartnerPricing(**kw)
    assert err.value.field == field


def test_pricing_reads_back_as_stored() -> None:
    pricing = PartnerPricing(1850, 150, 250_00, 5_000_00, Decimal("18"))
    assert PartnerPricing.of(pricing.as_dict()) == pricing


def o(offer_id: str, apr_: str, priority: int = 100, code: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(offer_id=offer_id, apr=apr_, priority=priority, partner_code=code or offer_id)


def test_offers_are_tried_by_apr_then_priority_and_the_pick_goes_first() -> None:
    offers = [o("a", "24.00"), o("b", "19.50"), o("c", "19.50", priority=10), o("d", "30.00")]
    assert [x.offer_id for x in route_order(offers)] == ["c", "b", "a", "d"]
    assert [x.offer_id for x in route_order(offers, picked="d")] == ["d", "c", "b", "a"]
    assert [x.offer_id for x in route_order(offers, picked="zzz")] == ["c", "b", "a", "d"]


def test_everything_but_acceptance_falls_back() -> None:
    assert [falls_back(x) for x in AttemptOutcome] == [False, True, True, True]


def test_sla_defaults_and_bounds() -> None:
    assert parse_sla(None) == {"DECISION": 30, "DISBURSAL": 14_400}
    assert parse_sla({"DECISION": 5}) == {"DECISION": 5, "DISBURSAL": 14_400}
    for bad, field in (({"DECISION": 0}, "sla.DECISION"), ({"KYC": 5}, "sla.KYC"), ({"DECISION": "5"}, "sla.DECISION")):
        with pytest.raises(ValidationError) as err:
            parse_sla(bad)
        assert err.value.field == field


def test_sla_report_counts_breaches_timeouts_and_slow_answers() -> None:
    rows = sla_summary(
        [
            Attempt("lendbox", "SLA_BREACHED", 5_010, 5),
            Attempt("lendbox", "ACCEPTED", 800, 5),
            Attempt("lendbox", "REJECTED", 6_000, 5),  # answered, but after its SLA
            Attempt("kavach", "ACCEPTED", 120, 30),
        ]
    )
    assert [(r.partner_code, r.attempts, r.accepted, r.rejected, r.breaches, r.median_ms, r.max_ms) for r in rows] == [
        ("kavach", 1, 1, 0, 0, 120, 120),
        ("lendbox", 3, 1, 1, 2, 5_010, 6_000),
    ]
    assert rows[1].breach_rate == Decimal("66.67")
